// VkDevice: the factory of device-level objects, and the parent that destroys
// them (newest first) when it is destroyed itself.
#pragma once
#include <map>
#include "vulkan/resource.h"

namespace vkalloc {

class PhysicalDevice;

class Device : public WrappedResource<Device> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Device(const Napi::CallbackInfo& info) : WrappedResource(info, "Device") {}
  static Device* Wrap(Napi::Env env, PhysicalDevice* physical, VkDevice handle, Napi::Value allocator);

  VkDevice Handle() const { return handle_; }
  const DeviceDispatch& Dispatch() const { return dispatch_; }
  // Work was submitted to one of its queues (Queue::Submit).
  void NoteSubmit() { submitted_ = true; }
  // Environment teardown (no JS): waits for every live device of `data` that has had
  // work submitted, before anything is destroyed under work still in flight.
  static void IdleForTeardown(AddonData* data);

 private:
  Napi::Value GetQueue(const Napi::CallbackInfo& info);
  Napi::Value CreateBuffer(const Napi::CallbackInfo& info);
  Napi::Value AllocateMemory(const Napi::CallbackInfo& info);
  Napi::Value CreateFence(const Napi::CallbackInfo& info);
  // Issue 5: the objects of a compute workload; each factory lives in its family's file.
  Napi::Value CreateSemaphore(const Napi::CallbackInfo& info);
  Napi::Value CreateCommandPool(const Napi::CallbackInfo& info);
  Napi::Value CreateShaderModule(const Napi::CallbackInfo& info);
  Napi::Value CreateDescriptorSetLayout(const Napi::CallbackInfo& info);
  Napi::Value CreateDescriptorPool(const Napi::CallbackInfo& info);
  Napi::Value CreatePipelineLayout(const Napi::CallbackInfo& info);
  Napi::Value CreatePipelineCache(const Napi::CallbackInfo& info);
  Napi::Value CreateComputePipeline(const Napi::CallbackInfo& info);
  Napi::Value CreateImage(const Napi::CallbackInfo& info);
  Napi::Value WaitIdle(const Napi::CallbackInfo& info);
  void DestroyHandle() override;

  PhysicalDevice* physical_ = nullptr;
  VkDevice handle_ = VK_NULL_HANDLE;
  DeviceDispatch dispatch_;
  std::map<std::pair<uint32_t, uint32_t>, Napi::ObjectReference> queues_;
  bool submitted_ = false;
};

}  // namespace vkalloc
