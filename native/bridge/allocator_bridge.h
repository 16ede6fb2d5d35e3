// AllocatorBridge: one genuine VkAllocationCallbacks, at a stable address for the
// bridge's whole life, whose function pointers trampoline into a JS policy.
//
// Threading (the spec says callbacks come only during a command, on its thread;
// lavapipe frees from its queue-submit thread after vkQueueSubmit):
//   - on the JS thread: the policy is called synchronously;
//   - on any other thread: JS is never touched and nothing waits for the JS thread.
//     Allocations are served natively (aligned_allocator.h); frees of policy blocks
//     are queued and handed to the policy at the next JS-thread callback or command.
//
// Crossings into JS are the cost to watch (~100 ns each, against ~13 ns for a
// malloc+free pair), so the policy is reached through one JS dispatcher function
// (lib/allocator/policy-dispatcher.ts) that reads its arguments from a shared Float64Array:
//   - allocate, reallocate and internal notifications: one call each;
//   - free: no call. The address is appended to the shared array and the policy
//     gets it at the start of the next call, at the end of the command, or when
//     the array is full. The bridge's own record is updated at once, so statistics
//     are exact; only the policy's memory is reserved a little longer.
//   - ready blocks (a policy with readyClasses, docs/policies.md): blocks the policy
//     prepared ahead, per size class, in a second shared array (its "stock"). An
//     allocation that fits a class with a block in stock takes it with no call, is
//     recorded as any policy block, and is logged in the shared array; the dispatcher
//     commits the log, in order, before anything else at its next call (at the latest
//     at the end of the command, or when the log is full) and refills the stock.
// Without a policy (NATIVE_POLICY) everything is served by the C++ allocator.
#pragma once
#include <napi.h>
#include <vulkan/vulkan.h>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>
#include "bridge/addon_data.h"
#include "core/aligned_allocator.h"
#include "core/block_registry.h"
#include "core/validator.h"

namespace vkalloc {

// The shared Float64Array's layout, exported to TypeScript by boundary.cc (which
// lib/allocator/policy-dispatcher.ts reads it from).
namespace io {
constexpr int kOp = 0, kSize = 1, kAlignment = 2, kScope = 3, kAddress = 4, kFreeCount = 5, kErrorCount = 6;
constexpr int kTakenCount = 7;
constexpr int kFreesStart = 8;
constexpr int kFreeCapacity = 1024;
// Ready blocks taken since the last call, in order: (address, size, alignment, scope)
// each; scope -1 marks a block refused (it overlapped a live one), to be given back.
constexpr int kTakenStart = kFreesStart + kFreeCapacity;
constexpr int kTakenFields = 4;
constexpr int kTakenCapacity = 256;
constexpr int kLength = kTakenStart + kTakenFields * kTakenCapacity;
// The stock (a Float64Array of its own, one per policy, shared by the bridges on it):
// per class, at class * kReadyStride, the count of ready blocks, then their addresses.
constexpr int kReadyClassLimit = 32;
constexpr int kReadyCapacity = 64;
constexpr int kReadyStride = 1 + kReadyCapacity;
enum Op { kAllocate = 1, kReallocate = 2, kFlush = 3, kInternalAllocate = 4, kInternalFree = 5 };
}  // namespace io

class AllocatorBridge : public Napi::ObjectWrap<AllocatorBridge> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit AllocatorBridge(const Napi::CallbackInfo& info);
  ~AllocatorBridge() override;

  const VkAllocationCallbacks* Callbacks() const { return &callbacks_; }
  BlockRegistry& Registry() { return registry_; }
  // Null unless validation is on.
  Validator* GetValidator() { return validator_.get(); }
  bool ThrowsOnViolation() const { return throwOnViolation_; }
  // A violation as a JS object { kind, command, object, thread, address, size, detail }.
  static Napi::Object ViolationObject(Napi::Env env, const ViolationRecord& v);
  bool WantsCallSites() const { return wantsCallSites_; }
  // Hands the ready blocks taken and every deferred and queued free to the policy; JS
  // thread only. Returns how many frees.
  size_t FlushFrees();
  // Calls into the dispatcher so far (a counter for tests: the test driver's crossings()).
  uint64_t Crossings() const { return crossings_; }
  // Freed native blocks the JS thread keeps for its next requests (AlignedBlockCache).
  size_t CachedBlocks() const { return cache_.Kept(); }

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
  // The record of a block about to be handed out (or refused), for the current command.
  // `onJs`: the policy serves it; `jsThread`: the caller is the JS thread.
  Block Request(size_t size, size_t alignment, VkSystemAllocationScope scope, bool onJs, bool jsThread) const;
  // An alignment that is not a power of two: counted, reported when checking; NULL.
  void* RejectBadAlignment(CallKind kind, const Block& request, uintptr_t address, size_t alignment);

  // True when this callback may call the policy: JS thread, environment alive,
  // not already inside a policy call, and there is a JS policy.
  bool CanCallJs() const { return CanCallJs(data_->OnJsThread()); }
  bool CanCallJs(bool jsThread) const;
  const char* CurrentCommand() const { return CurrentCommand(data_->OnJsThread()); }
  const char* CurrentCommand(bool jsThread) const;
  // Runs the dispatcher for io_[kOp]; returns its result, or nullptr after recording a throw.
  napi_value Dispatch(io::Op op);
  void* PolicyAllocate(size_t size, size_t alignment, int scope);
  // A ready block for this request (JS thread, no call), or nullptr: no class fits,
  // none is in stock, or the taken log is full (then the call that follows empties it).
  void* TakeReady(size_t size, size_t alignment);
  void LogTaken(void* p, size_t size, size_t alignment, int scope);
  void* PolicyReallocate(void* original, size_t size, size_t alignment, int scope);
  void DeferPolicyFree(void* memory);
  void MoveQueuedFrees();  // off-thread queue -> shared array (JS thread)
  void CollectFreeErrors();
  // Checks what allocate/reallocate returned; a rejection is recorded as a TypeError.
  void* AcceptAddress(napi_value result, const char* method, size_t size, size_t alignment);
  // A new block overlaps `live`, which the driver still holds: refused, recorded.
  void RejectOverlap(void* p, const char* method, CallKind kind, const Block& request, const Extent& live);
  void RecordPolicyError(napi_value error);
  void RecordPolicyError(const std::string& message, bool typeError);
  void ReleaseBlock(void* memory, const Block& block, bool onJs, bool jsThread);

  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value LiveBlocks(const Napi::CallbackInfo& info);
  Napi::Value Drain(const Napi::CallbackInfo& info);
  Napi::Value ReleaseCache(const Napi::CallbackInfo& info);
  Napi::Value ResetCounters(const Napi::CallbackInfo& info);
  Napi::Value LastPolicyError(const Napi::CallbackInfo& info);
  Napi::Value IoArray(const Napi::CallbackInfo& info);
  Napi::Value SetDispatcher(const Napi::CallbackInfo& info);
  Napi::Value SetReadyClasses(const Napi::CallbackInfo& info);
  Napi::Value StartTrace(const Napi::CallbackInfo& info);
  Napi::Value EnableValidation(const Napi::CallbackInfo& info);
  Napi::Value FailFrom(const Napi::CallbackInfo& info);
  Napi::Value FaultCounts(const Napi::CallbackInfo& info);
  // Counts an allocation or reallocation request; true when it is to be refused.
  bool Refuse();
  Napi::Value Violations(const Napi::CallbackInfo& info);
  // Thread and command checks, done for every callback when validating.
  void CheckContext(uintptr_t address, uint64_t size);
  void CheckScope(int scope, uintptr_t address, uint64_t size);
  void NoteMove(uintptr_t from, void* to);
  Napi::Value StopTrace(const Napi::CallbackInfo& info);

  AddonData* data_;
  napi_env env_;
  VkAllocationCallbacks callbacks_{};
  bool native_ = false;             // no JS policy: the C++ allocator serves everything
  bool policyReallocates_ = false;  // the policy has its own reallocate
  napi_ref dispatcher_ = nullptr;
  napi_ref ioBuffer_ = nullptr;  // the ArrayBuffer behind io_ (V8's: never moves)
  double* io_ = nullptr;
  uint64_t crossings_ = 0;
  // Ready blocks: the classes' usable-size bounds (ascending; empty: none), the largest
  // alignment they serve, and the stock (the ArrayBuffer is V8's: never moves).
  std::vector<size_t> readyBounds_;
  size_t readyMaxAlignment_ = 0;
  napi_ref stockBuffer_ = nullptr;
  double* stock_ = nullptr;
  bool jsStopped_ = false;           // a call found the environment stopping: no more ready blocks
  Napi::ObjectReference lastError_;  // [error]
  uint64_t policyErrors_ = 0;
  bool wantsCallSites_ = false;
  std::unique_ptr<Validator> validator_;
  bool throwOnViolation_ = false;
  // Fault injection in C++, for sweeps (lib/fault/sweep-worker.ts): from the from-th
  // allocation or reallocation request on the JS thread on, every one is refused before
  // the policy or the C++ allocator is asked, as the CTS procedure does, with no
  // crossing into JS per callback. At the first refusal (a command is under way, the
  // driver may be loaded) holdLibrary is held once it is loaded (HoldLoadedLibrary).
  struct Faults {
    bool on = false;
    uint64_t from = 0, requests = 0, refused = 0;
    std::string holdLibrary;
  } faults_;

  // Malloc for NATIVE_POLICY (its blocks cannot overlap), Policy (overlaps checked) for a JS one.
  BlockRegistry registry_;
  // Calls made on the JS thread, counted here without an atomic (only that thread
  // writes them, and stats() reads them there); the registry counts the others.
  uint64_t jsCalls_[static_cast<int>(CallKind::Count)] = {};
  void CountCall(CallKind kind) { CountCall(kind, data_->OnJsThread()); }
  void CountCall(CallKind kind, bool jsThread) {
    if (jsThread)
      jsCalls_[static_cast<int>(kind)]++;
    else
      registry_.CountCall(kind, true);
  }
  AlignedBlockCache cache_;  // native blocks the JS thread freed (JS thread only)
  std::mutex queueMu_;
  std::vector<void*> queued_;  // policy blocks freed off-thread, not yet in io_
  std::atomic<bool> hasQueued_{false};
};

}  // namespace vkalloc
