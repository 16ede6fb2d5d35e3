// VkQueue: submission (command buffers, binary and timeline semaphores, a fence)
// and idle waits. Owned by its Device (invalidated with it).
#pragma once
#include "vulkan/resource.h"

namespace vkalloc {

class Device;

class Queue : public WrappedResource<Queue> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Queue(const Napi::CallbackInfo& info) : WrappedResource(info, "Queue") {}
  static Queue* Wrap(Napi::Env env, Device* device, VkQueue handle);

 private:
  Napi::Value Submit(const Napi::CallbackInfo& info);
  Napi::Value WaitIdle(const Napi::CallbackInfo& info);
  void DestroyHandle() override {}  // queues are not destroyed, only forgotten

  Device* device_ = nullptr;
  VkQueue handle_ = VK_NULL_HANDLE;
};

}  // namespace vkalloc
