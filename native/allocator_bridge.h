// AllocatorBridge: one genuine VkAllocationCallbacks, at a stable address for the
// bridge's whole life, whose function pointers trampoline into a JS policy.
//
// Threading (the spec says callbacks come only during a command, on its thread;
// lavapipe frees from its queue-submit thread after vkQueueSubmit):
//   - on the JS thread: the policy is called synchronously (napi_call_function);
//   - on any other thread: JS is never touched and nothing waits for the JS thread.
//     Allocations are served natively (posix_memalign); frees of policy blocks are
//     queued and handed to the policy at the next JS-thread callback or command.
#pragma once
#include <napi.h>
#include <vulkan/vulkan.h>
#include <atomic>
#include <mutex>
#include <vector>
#include "addon_data.h"
#include "block_registry.h"

namespace vkalloc {

class AllocatorBridge : public Napi::ObjectWrap<AllocatorBridge> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit AllocatorBridge(const Napi::CallbackInfo& info);
  ~AllocatorBridge() override;

  const VkAllocationCallbacks* Callbacks() const { return &callbacks_; }
  // Hands queued off-thread frees to the policy; JS thread only. Returns how many.
  size_t DrainPending();

 private:
  static void* VKAPI_PTR Allocation(void* user, size_t size, size_t alignment, VkSystemAllocationScope scope);
  static void* VKAPI_PTR Reallocation(void* user, void* original, size_t size, size_t alignment,
                                      VkSystemAllocationScope scope);
  static void VKAPI_PTR Free(void* user, void* memory);
  static void VKAPI_PTR InternalAllocation(void* user, size_t size, VkInternalAllocationType type,
                                           VkSystemAllocationScope scope);
  static void VKAPI_PTR InternalFree(void* user, size_t size, VkInternalAllocationType type,
                                     VkSystemAllocationScope scope);

  void* OnAllocation(size_t size, size_t alignment, VkSystemAllocationScope scope, bool asReallocation);
  void* OnReallocation(void* original, size_t size, size_t alignment, VkSystemAllocationScope scope);
  void OnFree(void* memory, bool asReallocation);
  void OnInternal(bool allocate, size_t size, VkInternalAllocationType type, VkSystemAllocationScope scope);

  // True when this callback may call the policy: JS thread, environment alive,
  // not already inside a policy call.
  bool CanCallJs() const;
  const char* CurrentCommand() const;
  void* CallPolicyAllocate(size_t size, size_t alignment, int scope);
  void* CallPolicyReallocate(void* original, size_t size, size_t alignment, int scope);
  void CallPolicyFree(void* memory);
  void CallPolicyInternal(bool allocate, size_t size, int scope);
  napi_value Name(uint32_t index);  // a scope index, or kScopeCount for 'executable' 
  // Calls fn with argv; on a throw records the exception and returns nullptr.
  napi_value CallPolicy(napi_ref fn, size_t argc, napi_value* argv);
  // Checks what allocate/reallocate returned; a rejection is recorded as a TypeError.
  void* AcceptAddress(napi_value result, const char* method, size_t size, size_t alignment);
  void RecordPolicyError(napi_value error);
  void ReleaseBlock(void* memory, const Block& block, bool onJs);

  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value LiveBlocks(const Napi::CallbackInfo& info);
  Napi::Value Drain(const Napi::CallbackInfo& info);
  Napi::Value ResetCounters(const Napi::CallbackInfo& info);
  Napi::Value LastPolicyError(const Napi::CallbackInfo& info);

  AddonData* data_;
  napi_env env_;
  VkAllocationCallbacks callbacks_{};
  napi_ref policy_ = nullptr;
  napi_ref allocate_ = nullptr, reallocate_ = nullptr, free_ = nullptr;
  napi_ref internalAllocation_ = nullptr, internalFree_ = nullptr;
  // Strings passed to the policy: [...scope names, 'executable'], in one array
  // because Node-API before version 10 cannot reference a string directly.
  napi_ref names_ = nullptr;
  Napi::ObjectReference lastError_;  // [error]
  uint64_t policyErrors_ = 0;

  BlockRegistry registry_;
  std::mutex pendingMu_;
  std::vector<void*> pending_;  // policy blocks freed off-thread, not yet given back
  std::atomic<bool> hasPending_{false};
};

// The allocation callbacks of an optional AllocatorBridge argument (null: the driver's own).
inline const VkAllocationCallbacks* CallbacksOf(Napi::Value allocator) {
  return allocator.IsObject() ? AllocatorBridge::Unwrap(allocator.As<Napi::Object>())->Callbacks() : nullptr;
}

}  // namespace vkalloc
