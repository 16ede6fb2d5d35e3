// VkDevice: the factory of device-level objects, and the parent that destroys
// them (newest first) when it is destroyed itself.
#pragma once
#include <map>
#include "resource.h"

namespace vkalloc {

class PhysicalDevice;

class Device : public WrappedResource<Device> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Device(const Napi::CallbackInfo& info) : WrappedResource(info, "Device") {}
  static Device* Wrap(Napi::Env env, PhysicalDevice* physical, VkDevice handle, Napi::Value allocator);

  VkDevice Handle() const { return handle_; }
  const DeviceDispatch& Dispatch() const { return dispatch_; }

 private:
  Napi::Value GetQueue(const Napi::CallbackInfo& info);
  Napi::Value CreateBuffer(const Napi::CallbackInfo& info);
  Napi::Value AllocateMemory(const Napi::CallbackInfo& info);
  Napi::Value CreateFence(const Napi::CallbackInfo& info);
  Napi::Value WaitIdle(const Napi::CallbackInfo& info);
  void DestroyHandle() override;

  PhysicalDevice* physical_ = nullptr;
  VkDevice handle_ = VK_NULL_HANDLE;
  DeviceDispatch dispatch_;
  std::map<std::pair<uint32_t, uint32_t>, Napi::ObjectReference> queues_;
};

}  // namespace vkalloc
