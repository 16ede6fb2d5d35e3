// VkSemaphore, binary or timeline (Vulkan 1.2): queue-to-queue ordering, and for a
// timeline one a counter the host can read, wait for (a timeout is a result, not an
// error) and signal.
#pragma once
#include "vulkan/resource.h"

namespace vkalloc {

class Device;

class Semaphore : public WrappedResource<Semaphore> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Semaphore(const Napi::CallbackInfo& info) : WrappedResource(info, "Semaphore") {}
  // device.createSemaphore({ timeline, initialValue }, allocator)
  static Napi::Value Create(const Napi::CallbackInfo& info, Device* device);
  VkSemaphore Handle() const { return handle_; }

 private:
  Napi::Value CounterValue(const Napi::CallbackInfo& info);
  Napi::Value Wait(const Napi::CallbackInfo& info);
  Napi::Value Signal(const Napi::CallbackInfo& info);
  void DestroyHandle() override;

  Device* device_ = nullptr;
  VkSemaphore handle_ = VK_NULL_HANDLE;
};

}  // namespace vkalloc
