// VkDevice: the factory of device-level objects, and the parent that destroys
// them (newest first) when it is destroyed itself. It also runs the asynchronous
// waits on itself and its objects (fence.waitAsync(), device.waitIdleAsync()):
//  - each waits on a thread of its own, which calls only the wait command
//    (vkWaitForFences in slices, so that it can be stopped; vkDeviceWaitIdle) and
//    never touches JS; the promise settles on the JS thread (a threadsafe function);
//  - destroying the object waited on (or the device) stops the wait and joins its
//    thread before the handle goes: an idle wait cannot be stopped and is waited for;
//  - environment teardown stops and joins every wait before anything is destroyed
//    (IdleForTeardown); their promises then never settle, as no JS runs any more.
#pragma once
#include <functional>
#include <map>
#include "vulkan/resource.h"

namespace vkalloc {

class PhysicalDevice;
struct AsyncWait;  // device.cc

class Device : public WrappedResource<Device> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Device(const Napi::CallbackInfo& info) : WrappedResource(info, "Device") {}
  // Takes the handle vkCreateDevice made into this wrapper (made first: resource.h).
  void Adopt(PhysicalDevice* physical, VkDevice handle);

  VkDevice Handle() const { return handle_; }
  const DeviceDispatch& Dispatch() const { return dispatch_; }
  // Work was submitted to one of its queues (Queue::Submit).
  void NoteSubmit() {
    submitted_ = true;
    submits_++;
  }
  // Environment teardown (no JS): stops every asynchronous wait, then waits for every
  // live device of `data` that has had work submitted, before anything is destroyed
  // under work still in flight.
  static void IdleForTeardown(AddonData* data);

  // One slice of an asynchronous wait: a Vulkan wait of at most `sliceNs` (VK_TIMEOUT
  // when it ran out), called on the wait's own thread.
  using WaitStep = std::function<VkResult(uint64_t sliceNs)>;
  // Fence: resolves true (signaled) or false (timed out). Idle: resolves undefined.
  enum class WaitKind { Fence, Idle };
  // Starts `step` on a thread of its own, repeated until it returns something other
  // than VK_TIMEOUT or `timeoutNs` (UINT64_MAX: none) has passed; returns the promise,
  // which rejects with the VulkanError of a failure. `target` is the object waited on.
  Napi::Value StartWait(Napi::Env env, const char* command, const Resource* target, uint64_t timeoutNs, WaitKind kind,
                        WaitStep step);
  // Stops the waits on `target` (every wait of this device when null) and joins their
  // threads; JS thread only. Their promises reject ("<Type> was destroyed ...") later.
  void StopWaits(const Resource* target);

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
  Napi::Value WaitIdleAsync(const Napi::CallbackInfo& info);
  Napi::Value Quiesce(const Napi::CallbackInfo& info);
  void DestroyHandle() override;
  // The wait's thread: the slices, then the threadsafe function's call and release.
  static void RunWait(AsyncWait* wait);
  // On the JS thread: the wait ended (settles its promise), or its function is gone.
  static void SettleWait(napi_env env, napi_value, void* context, void*);
  static void FinalizeWait(napi_env env, void* data, void*);
  void Forget(AsyncWait* wait);

  PhysicalDevice* physical_ = nullptr;
  VkDevice handle_ = VK_NULL_HANDLE;
  DeviceDispatch dispatch_;
  std::map<std::pair<uint32_t, uint32_t>, Napi::ObjectReference> queues_;
  bool submitted_ = false;
  uint64_t submits_ = 0;           // submits so far: an idle wait clears submitted_ only if none came since
  std::vector<AsyncWait*> waits_;  // asynchronous waits not yet settled (JS thread only)
};

}  // namespace vkalloc
