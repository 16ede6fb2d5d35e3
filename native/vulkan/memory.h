// VkDeviceMemory: allocation, mapping (an ArrayBuffer over the mapped bytes,
// detached on unmap so JS can never touch unmapped memory), flush/invalidate.
#pragma once
#include "vulkan/resource.h"

namespace vkalloc {

class Device;

class DeviceMemory : public WrappedResource<DeviceMemory> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit DeviceMemory(const Napi::CallbackInfo& info) : WrappedResource(info, "DeviceMemory") {}
  // Takes the handle vkAllocateMemory made into this wrapper (made first: resource.h).
  void Adopt(Device* device, VkDeviceMemory handle, VkDeviceSize size);
  VkDeviceMemory Handle() const { return handle_; }

 private:
  Napi::Value Map(const Napi::CallbackInfo& info);
  Napi::Value Unmap(const Napi::CallbackInfo& info);
  Napi::Value Flush(const Napi::CallbackInfo& info);
  Napi::Value Invalidate(const Napi::CallbackInfo& info);
  Napi::Value SyncRange(const Napi::CallbackInfo& info, bool flush);
  void DetachMapping();
  void DestroyHandle() override;

  Device* device_ = nullptr;
  VkDeviceMemory handle_ = VK_NULL_HANDLE;
  VkDeviceSize size_ = 0;
  Napi::Reference<Napi::ArrayBuffer> mapping_;
};

}  // namespace vkalloc
