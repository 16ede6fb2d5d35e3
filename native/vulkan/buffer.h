// VkBuffer: memory requirements and binding.
#pragma once
#include "vulkan/resource.h"

namespace vkalloc {

class Device;

class Buffer : public WrappedResource<Buffer> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Buffer(const Napi::CallbackInfo& info) : WrappedResource(info, "Buffer") {}
  // Takes the handle vkCreateBuffer made into this wrapper (made first: resource.h).
  void Adopt(Device* device, VkBuffer handle);
  VkBuffer Handle() const { return handle_; }

 private:
  Napi::Value MemoryRequirements(const Napi::CallbackInfo& info);
  Napi::Value BindMemory(const Napi::CallbackInfo& info);
  void DestroyHandle() override;

  Device* device_ = nullptr;
  VkBuffer handle_ = VK_NULL_HANDLE;
};

}  // namespace vkalloc
