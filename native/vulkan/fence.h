// VkFence: create, wait with a timeout (a timeout is a result, not an error), on the
// JS thread or off it (waitAsync: a promise, see Device::StartWait), reset.
#pragma once
#include "vulkan/resource.h"

namespace vkalloc {

class Device;

class Fence : public WrappedResource<Fence> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Fence(const Napi::CallbackInfo& info) : WrappedResource(info, "Fence") {}
  // Takes the handle vkCreateFence made into this wrapper (made first: resource.h).
  void Adopt(Device* device, VkFence handle);
  VkFence Handle() const { return handle_; }

 private:
  Napi::Value Wait(const Napi::CallbackInfo& info);
  Napi::Value WaitAsync(const Napi::CallbackInfo& info);
  Napi::Value Signaled(const Napi::CallbackInfo& info);
  Napi::Value Reset(const Napi::CallbackInfo& info);
  void DestroyHandle() override;

  Device* device_ = nullptr;
  VkFence handle_ = VK_NULL_HANDLE;
};

}  // namespace vkalloc
