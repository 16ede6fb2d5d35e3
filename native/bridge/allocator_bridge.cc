#include "bridge/allocator_bridge.h"
#include "bridge/loader.h"
#include "bridge/attach.h"
#include <algorithm>
#include "core/aligned_allocator.h"
#include "bridge/js_number.h"
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace vkalloc {

namespace {

// The constructor's first argument: "js" or "native" (anything else is refused there).
std::string ModeOf(const Napi::CallbackInfo& info) {
  return info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
}

bool IsPowerOfTwo(size_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}

struct HandleScope {
  explicit HandleScope(napi_env env) : env(env) { napi_open_handle_scope(env, &scope); }
  ~HandleScope() { napi_close_handle_scope(env, scope); }
  napi_env env;
  napi_handle_scope scope = nullptr;
};

napi_ref MakeRef(napi_env env, napi_value v) {
  napi_ref ref = nullptr;
  napi_create_reference(env, v, 1, &ref);
  return ref;
}

// Holds any JS value (a policy may throw a primitive) in a one-element array.
Napi::ObjectReference HoldValue(napi_env env, napi_value v) {
  Napi::Array holder = Napi::Array::New(env, 1);
  holder.Set(0u, Napi::Value(env, v));
  return Napi::Persistent(static_cast<Napi::Object>(holder));
}

std::string Hex(uint64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

Napi::Function AllocatorBridge::Define(Napi::Env env) {
  return DefineClass(
      env, "AllocatorBridge",
      {
          InstanceMethod<&AllocatorBridge::Stats>("stats", napi_default_method),
          InstanceMethod<&AllocatorBridge::LiveBlocks>("liveBlocks", napi_default_method),
          InstanceMethod<&AllocatorBridge::Drain>("drain", napi_default_method),
          InstanceMethod<&AllocatorBridge::ReleaseCache>("releaseCache", napi_default_method),
          InstanceMethod<&AllocatorBridge::ResetCounters>("resetCounters", napi_default_method),
          InstanceMethod<&AllocatorBridge::SetDispatcher>("setDispatcher", napi_default_method),
          InstanceMethod<&AllocatorBridge::SetReadyClasses>("setReadyClasses", napi_default_method),
          InstanceMethod<&AllocatorBridge::StartTrace>("startTrace", napi_default_method),
          InstanceMethod<&AllocatorBridge::EnableValidation>("enableContractChecks", napi_default_method),
          InstanceMethod<&AllocatorBridge::Violations>("violations", napi_default_method),
          InstanceMethod<&AllocatorBridge::StopTrace>("stopTrace", napi_default_method),
          InstanceMethod<&AllocatorBridge::FailFrom>("failFrom", napi_default_method),
          InstanceMethod<&AllocatorBridge::FaultCounts>("faultCounts", napi_default_method),
          InstanceAccessor<&AllocatorBridge::LastPolicyError>("lastPolicyError", napi_configurable),
          InstanceAccessor<&AllocatorBridge::IoArray>("io", napi_configurable),
      });
}

AllocatorBridge::AllocatorBridge(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<AllocatorBridge>(info),
      data_(AddonData::Get(info.Env())),
      env_(info.Env()),
      registry_(ModeOf(info) == "native" ? BlockRegistry::Kind::Malloc : BlockRegistry::Kind::Policy) {
  Napi::Env env = info.Env();
  TagAs<AllocatorBridge>(env, info.This().As<Napi::Object>());
  const std::string mode = ModeOf(info);
  if (mode != "js" && mode != "native") throw Napi::TypeError::New(env, "Expected 'js' or 'native' for mode");
  native_ = mode == "native";
  if (!native_) {
    void* bytes = nullptr;
    napi_value buffer;
    NAPI_THROW_IF_FAILED_VOID(env, napi_create_arraybuffer(env, io::kLength * sizeof(double), &bytes, &buffer));
    io_ = static_cast<double*>(bytes);
    std::fill(io_, io_ + io::kLength, 0.0);
    ioBuffer_ = MakeRef(env, buffer);
  }
  registry_.SetOwnerThread(data_->jsThread);
  callbacks_.pUserData = this;
  callbacks_.pfnAllocation = &AllocatorBridge::Allocation;
  callbacks_.pfnReallocation = &AllocatorBridge::Reallocation;
  callbacks_.pfnFree = &AllocatorBridge::Free;
  callbacks_.pfnInternalAllocation = &AllocatorBridge::InternalAllocation;
  callbacks_.pfnInternalFree = &AllocatorBridge::InternalFree;
  data_->bridges.push_back(this);
}

AllocatorBridge::~AllocatorBridge() {
  auto& bridges = data_->bridges;
  bridges.erase(std::remove(bridges.begin(), bridges.end(), this), bridges.end());
  // Every object created with this bridge is destroyed by now (they hold it alive).
  // Blocks a driver leaked: native ones are ours to free; policy ones live in the
  // policy's chunks, which go with the policy.
  for (auto& [address, block] : registry_.LiveBlocks()) {
    if (block.owner == Owner::Native) AlignedFree(reinterpret_cast<void*>(address));
  }
  if (dispatcher_) napi_delete_reference(env_, dispatcher_);
  if (ioBuffer_) napi_delete_reference(env_, ioBuffer_);
  if (stockBuffer_) napi_delete_reference(env_, stockBuffer_);
}

// ---- trampolines: C entry points handed to the driver -------------------------

// No C++ exception may cross the driver's frames: the callback logic is written not
// to throw (Node-API through its C functions), and whatever still does (a
// std::bad_alloc) ends here, as a failed allocation or an ignored notification.
void* VKAPI_PTR AllocatorBridge::Allocation(void* user, size_t size, size_t alignment, VkSystemAllocationScope scope) {
  try {
    return static_cast<AllocatorBridge*>(user)->OnAllocation(size, alignment, scope, false);
  } catch (...) {
    return nullptr;
  }
}

void* VKAPI_PTR AllocatorBridge::Reallocation(void* user, void* original, size_t size, size_t alignment,
                                              VkSystemAllocationScope scope) {
  try {
    return static_cast<AllocatorBridge*>(user)->OnReallocation(original, size, alignment, scope);
  } catch (...) {
    return nullptr;
  }
}

void VKAPI_PTR AllocatorBridge::Free(void* user, void* memory) {
  try {
    static_cast<AllocatorBridge*>(user)->OnFree(memory, false);
  } catch (...) {
  }
}

void VKAPI_PTR AllocatorBridge::InternalAllocation(void* user, size_t size, VkInternalAllocationType type,
                                                   VkSystemAllocationScope scope) {
  try {
    static_cast<AllocatorBridge*>(user)->OnInternal(true, size, type, scope);
  } catch (...) {
  }
}

void VKAPI_PTR AllocatorBridge::InternalFree(void* user, size_t size, VkInternalAllocationType type,
                                             VkSystemAllocationScope scope) {
  try {
    static_cast<AllocatorBridge*>(user)->OnInternal(false, size, type, scope);
  } catch (...) {
  }
}

// ---- callback logic -------------------------------------------------------------

bool AllocatorBridge::CanCallJs(bool jsThread) const {
  return dispatcher_ && jsThread && data_->jsCallable && data_->policyDepth == 0;
}

const char* AllocatorBridge::CurrentCommand(bool jsThread) const {
  // A wait run off the JS thread (device.cc, fence.cc) names its own command; outside
  // vkalloc's commands, the one the vkalloc layer runs on this thread, if any (attach.cc).
  if (!jsThread) return offThreadCommand ? offThreadCommand : LayerCommand();
  return data_->currentCommand ? data_->currentCommand : LayerCommand();
}

Block AllocatorBridge::Request(size_t size, size_t alignment, VkSystemAllocationScope scope, bool onJs,
                               bool jsThread) const {
  return Block{size,
               static_cast<uint32_t>(alignment),
               static_cast<uint8_t>(scope),
               onJs ? Owner::Policy : Owner::Native,
               CurrentCommand(jsThread),
               jsThread ? data_->currentCommandSeq : 0};
}

void* AllocatorBridge::RejectBadAlignment(CallKind kind, const Block& request, uintptr_t address, size_t alignment) {
  registry_.CountBadAlignment();
  registry_.CountFailure(kind, request);
  if (validator_)
    validator_->Report(Violation::BadAlignment, request.command, !data_->OnJsThread(), address, request.size,
                       "alignment " + std::to_string(alignment) + " is not a power of two");
  return nullptr;
}

void* AllocatorBridge::OnAllocation(size_t size, size_t alignment, VkSystemAllocationScope scope, bool asReallocation) {
  const bool jsThread = data_->OnJsThread();  // asked once: every check below needs it
  if (!asReallocation) CountCall(CallKind::Allocate, jsThread);
  const CallKind kind = asReallocation ? CallKind::Reallocate : CallKind::Allocate;
  const bool onJs = CanCallJs(jsThread);
  const Block request = Request(size, alignment, scope, onJs, jsThread);
  if (validator_) {
    CheckContext(0, size);
    CheckScope(scope, 0, size);
  }
  if (!IsPowerOfTwo(alignment)) return RejectBadAlignment(kind, request, 0, alignment);
  void* p = nullptr;
  bool ready = false;
  if (Refuse()) {
  } else if (!onJs) {
    p = jsThread ? cache_.Allocate(size, alignment) : AlignedAllocate(size, alignment);
  } else if ((p = TakeReady(size, alignment))) {
    ready = true;
  } else {
    p = PolicyAllocate(size, alignment, scope);
  }
  if (!p) {
    registry_.CountFailure(kind, request);
    return nullptr;
  }
  Extent live;
  if (!registry_.Insert(p, request, &live, jsThread)) {
    RejectOverlap(p, "allocate", kind, request, live);
    if (ready) LogTaken(p, size, alignment, -1);  // never the driver's: back to the policy
    return nullptr;
  }
  if (ready) LogTaken(p, size, alignment, scope);
  if (validator_) validator_->Allocated(reinterpret_cast<uintptr_t>(p));
  return p;
}

void* AllocatorBridge::OnReallocation(void* original, size_t size, size_t alignment, VkSystemAllocationScope scope) {
  const bool jsThread = data_->OnJsThread();
  CountCall(CallKind::Reallocate, jsThread);
  // The spec's rules: NULL original acts as allocation, size 0 as free.
  if (!original) return OnAllocation(size, alignment, scope, true);
  if (size == 0) {
    OnFree(original, true);
    return nullptr;
  }
  const bool onJs = CanCallJs(jsThread);
  const Block next = Request(size, alignment, scope, onJs, jsThread);
  const uintptr_t from = reinterpret_cast<uintptr_t>(original);
  if (validator_) {
    CheckContext(from, size);
    CheckScope(scope, from, size);
  }
  Block old;
  if (!registry_.Find(original, &old)) {
    registry_.CountUnknownPointer(CallKind::Reallocate, original, next.command);
    registry_.CountFailure(CallKind::Reallocate, next);
    if (validator_) {
      const bool freed = validator_->WasFreed(from);
      validator_->Report(
          freed ? Violation::ReallocFreed : Violation::ReallocUnknown, next.command, !data_->OnJsThread(), from, size,
          freed ? "reallocation of a block already freed" : "reallocation of a pointer never handed out");
    }
    return nullptr;
  }
  if (!IsPowerOfTwo(alignment)) return RejectBadAlignment(CallKind::Reallocate, next, from, alignment);
  if (validator_ && old.alignment != alignment) {
    validator_->Report(Violation::ReallocAlignmentChange, next.command, !data_->OnJsThread(), from, size,
                       "reallocated with alignment " + std::to_string(alignment) + ", allocated with " +
                           std::to_string(old.alignment));
  }
  if (Refuse()) {
    registry_.CountFailure(CallKind::Reallocate, next);  // the old block stays valid and unchanged
    return nullptr;
  }
  void* p;
  if (onJs && old.owner == Owner::Policy && policyReallocates_ && old.alignment == alignment) {
    // The policy resizes its own block; on failure the old block stays. (A driver that
    // changes the alignment breaks the spec's rule; it is served by allocate-copy-free,
    // which honours the new alignment, rather than refused.)
    p = PolicyReallocate(original, size, alignment, scope);
    if (!p) {
      registry_.CountFailure(CallKind::Reallocate, next);
      return nullptr;
    }
    Extent live;
    if (!registry_.Replace(original, p, next, BlockRegistry::Check::AllButFrom, &live)) {
      RejectOverlap(p, "reallocate", CallKind::Reallocate, next, live);
      return nullptr;
    }
    if (validator_) NoteMove(from, p);
    return p;
  }
  if (!onJs && old.owner == Owner::Native && old.alignment == alignment) {
    p = AlignedReallocate(original, size, alignment);
    if (!p) {
      registry_.CountFailure(CallKind::Reallocate, next);
      return nullptr;
    }
    registry_.Replace(original, p, next, BlockRegistry::Check::None, nullptr);
    if (validator_) NoteMove(from, p);
    return p;
  }
  // Allocate, copy, free: for policies without reallocate, and blocks changing owner
  // (a native block reaching JS, or a policy block resized off-thread).
  p = onJs ? PolicyAllocate(size, alignment, scope) : AlignedAllocate(size, alignment);
  if (!p) {
    registry_.CountFailure(CallKind::Reallocate, next);  // the old block stays valid and unchanged
    return nullptr;
  }
  Extent live;
  if (!registry_.Replace(original, p, next, BlockRegistry::Check::All, &live)) {
    RejectOverlap(p, "allocate", CallKind::Reallocate, next, live);
    return nullptr;
  }
  std::memcpy(p, original, std::min(old.size, size));
  ReleaseBlock(original, old, onJs, jsThread);
  if (validator_) NoteMove(from, p);
  return p;
}

void AllocatorBridge::NoteMove(uintptr_t from, void* to) {
  if (reinterpret_cast<uintptr_t>(to) == from) return;
  validator_->Freed(from);
  validator_->Allocated(reinterpret_cast<uintptr_t>(to));
}

void AllocatorBridge::OnFree(void* memory, bool asReallocation) {
  const bool jsThread = data_->OnJsThread();
  if (!asReallocation) CountCall(CallKind::Free, jsThread);
  if (!memory) {  // freeing NULL is allowed and does nothing (but a trace shows the call)
    if (registry_.Tracing()) registry_.TraceNullFree(CurrentCommand(jsThread));
    return;
  }
  const uintptr_t address = reinterpret_cast<uintptr_t>(memory);
  if (validator_) CheckContext(address, 0);
  const char* command = CurrentCommand(jsThread);
  Block block;
  if (!registry_.Remove(memory, command, &block, jsThread)) {
    // Never handed out, or already freed: leave it alone.
    registry_.CountUnknownPointer(CallKind::Free, memory, command);
    if (validator_) {
      const bool freed = validator_->WasFreed(address);
      validator_->Report(freed ? Violation::DoubleFree : Violation::FreeUnknown, command, !jsThread, address, 0,
                         freed ? "free of a block already freed" : "free of a pointer never handed out");
    }
    return;
  }
  if (validator_) validator_->Freed(address);
  ReleaseBlock(memory, block, CanCallJs(jsThread), jsThread);
}

void AllocatorBridge::ReleaseBlock(void* memory, const Block& block, bool onJs, bool jsThread) {
  if (block.owner == Owner::Native) {
    if (jsThread)
      cache_.Free(memory);
    else
      AlignedFree(memory);
  } else if (onJs) {
    DeferPolicyFree(memory);
  } else {
    std::lock_guard<std::mutex> lock(queueMu_);
    queued_.push_back(memory);
    hasQueued_.store(true, std::memory_order_release);
  }
}

void AllocatorBridge::OnInternal(bool allocate, size_t size, VkInternalAllocationType type,
                                 VkSystemAllocationScope scope) {
  CountCall(allocate ? CallKind::InternalAllocate : CallKind::InternalFree);
  registry_.Internal(allocate, size, scope, CurrentCommand());
  if (validator_) {
    CheckContext(0, size);
    CheckScope(scope, 0, size);
    if (type != VK_INTERNAL_ALLOCATION_TYPE_EXECUTABLE) {
      validator_->Report(Violation::InvalidInternalType, CurrentCommand(), !data_->OnJsThread(), 0, size,
                         "internal allocation type " + std::to_string(static_cast<int>(type)));
    }
    if (!validator_->Internal(allocate, size, scope)) {
      validator_->Report(Violation::NegativeInternalTotal, CurrentCommand(), !data_->OnJsThread(), 0, size,
                         std::string("internal frees exceed internal allocations in scope ") +
                             (scope >= 0 && scope < kScopeCount ? kScopeNames[scope] : "?"));
    }
  }
  if (!CanCallJs()) return;
  HandleScope hs(env_);
  io_[io::kSize] = static_cast<double>(size);
  io_[io::kScope] = scope < kScopeCount ? scope : 0;
  Dispatch(allocate ? io::kInternalAllocate : io::kInternalFree);
}

// ---- fault injection ---------------------------------------------------------------

bool AllocatorBridge::Refuse() {
  if (!faults_.on || !data_->OnJsThread()) return false;
  if (faults_.requests++ < faults_.from) return false;
  if (faults_.refused++ == 0 && !faults_.holdLibrary.empty() && HoldLoadedLibrary(faults_.holdLibrary)) {
    faults_.holdLibrary.clear();  // held for good
  }
  return true;
}

// failFrom(point: number | null, holdLibrary?: string): refuse from that request on
// (counts start over), or stop refusing (null).
Napi::Value AllocatorBridge::FailFrom(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faults_.on = info[0].IsNumber();
  faults_.from = faults_.on ? static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue()) : 0;
  faults_.requests = faults_.refused = 0;
  if (info[1].IsString()) faults_.holdLibrary = info[1].As<Napi::String>().Utf8Value();
  return env.Undefined();
}

// faultCounts() -> { requests, refused } since the last failFrom().
Napi::Value AllocatorBridge::FaultCounts(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("requests", static_cast<double>(faults_.requests));
  o.Set("refused", static_cast<double>(faults_.refused));
  return o;
}

// ---- validation --------------------------------------------------------------------

void AllocatorBridge::CheckContext(uintptr_t address, uint64_t size) {
  // The spec: only during a command, only on the thread that called it.
  if (LayerCommand() != kNoCommand) return;  // inside a command on its own thread (attach.cc)
  if (data_->OnJsThread()) {
    if (!data_->currentCommand) {
      validator_->Report(Violation::OutsideCommand, kNoCommand, false, address, size,
                         "callback on the JS thread while no Vulkan command runs");
    }
  } else if (offThreadCommand) {
    // An asynchronous wait's own thread, inside its command: where the spec allows callbacks.
  } else if (data_->commandRunning.load(std::memory_order_relaxed)) {
    validator_->Report(Violation::WrongThread, kNoCommand, true, address, size,
                       "callback from another thread while a command runs on the JS thread");
  } else {
    validator_->Report(Violation::OutsideCommand, kNoCommand, true, address, size,
                       "callback from another thread while no Vulkan command runs");
  }
}

void AllocatorBridge::CheckScope(int scope, uintptr_t address, uint64_t size) {
  if (scope < 0 || scope >= kScopeCount) {
    validator_->Report(Violation::InvalidScope, CurrentCommand(), !data_->OnJsThread(), address, size,
                       "allocation scope " + std::to_string(scope));
  }
}

Napi::Object AllocatorBridge::ViolationObject(Napi::Env env, const ViolationRecord& v) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("kind", kViolationNames[static_cast<int>(v.kind)]);
  o.Set("command", v.command);
  o.Set("object", v.object
                      ? Napi::Value(Napi::String::New(env, std::string(v.objectType) + "#" + std::to_string(v.object)))
                      : env.Null());
  o.Set("thread", v.offThread ? "other" : "js");
  o.Set("address", static_cast<double>(v.address));
  o.Set("size", static_cast<double>(v.size));
  o.Set("detail", v.detail);
  return o;
}

Napi::Value AllocatorBridge::EnableValidation(const Napi::CallbackInfo& info) {
  if (!validator_) validator_ = std::make_unique<Validator>();
  throwOnViolation_ = info[0].ToBoolean().Value();
  return info.Env().Undefined();
}

// violations(take: boolean) -> [{ kind, command, object, thread, address, size, detail }]
Napi::Value AllocatorBridge::Violations(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!validator_) return Napi::Array::New(env, 0);
  std::vector<ViolationRecord> list = info[0].ToBoolean().Value() ? validator_->Take() : validator_->Snapshot();
  Napi::Array out = Napi::Array::New(env, list.size());
  for (size_t i = 0; i < list.size(); i++) out.Set(static_cast<uint32_t>(i), ViolationObject(env, list[i]));
  return out;
}

// ---- calling the policy (JS thread only) -----------------------------------------

napi_value AllocatorBridge::Dispatch(io::Op op) {
  MoveQueuedFrees();
  io_[io::kOp] = op;
  napi_value result = nullptr, recv = nullptr, fn = nullptr;
  napi_get_undefined(env_, &recv);
  napi_get_reference_value(env_, dispatcher_, &fn);
  data_->policyDepth++;
  crossings_++;
  napi_status status = napi_call_function(env_, recv, fn, 0, nullptr, &result);
  data_->policyDepth--;
  if (io_[io::kErrorCount] > 0) CollectFreeErrors();
  if (status == napi_ok) return result;
  napi_value error = nullptr;
  bool pending = false;
  napi_is_exception_pending(env_, &pending);
  if (pending) napi_get_and_clear_last_exception(env_, &error);
  // A worker stopped in (or before) the call: not the policy's doing, and nothing can
  // be recorded in JS any more. The driver gets NULL for this and every later
  // callback, so the command fails and leaves no object that could not be wrapped
  // (ready blocks included: none can be committed any more).
  if (!JsRunnable(env_)) {
    jsStopped_ = true;
    return nullptr;
  }
  if (error)
    RecordPolicyError(error);
  else
    RecordPolicyError("the allocator policy could not be called", false);
  return nullptr;
}

void* AllocatorBridge::PolicyAllocate(size_t size, size_t alignment, int scope) {
  HandleScope hs(env_);
  io_[io::kSize] = static_cast<double>(size);
  io_[io::kAlignment] = static_cast<double>(alignment);
  io_[io::kScope] = scope < kScopeCount ? scope : 0;
  napi_value result = Dispatch(io::kAllocate);
  return result ? AcceptAddress(result, "allocate", size, alignment) : nullptr;
}

void* AllocatorBridge::PolicyReallocate(void* original, size_t size, size_t alignment, int scope) {
  HandleScope hs(env_);
  io_[io::kAddress] = static_cast<double>(reinterpret_cast<uintptr_t>(original));
  io_[io::kSize] = static_cast<double>(size);
  io_[io::kAlignment] = static_cast<double>(alignment);
  io_[io::kScope] = scope < kScopeCount ? scope : 0;
  napi_value result = Dispatch(io::kReallocate);
  return result ? AcceptAddress(result, "reallocate", size, alignment) : nullptr;
}

void* AllocatorBridge::TakeReady(size_t size, size_t alignment) {
  if (alignment > readyMaxAlignment_ || readyBounds_.empty() || size > readyBounds_.back() || jsStopped_)
    return nullptr;
  if (io_[io::kTakenCount] == io::kTakenCapacity) return nullptr;
  size_t k = 0;
  while (readyBounds_[k] < size) k++;  // few classes, and most requests are small
  double* slots = stock_ + k * io::kReadyStride;
  const int count = static_cast<int>(slots[0]);
  if (count == 0) return nullptr;
  slots[0] = count - 1;
  return reinterpret_cast<void*>(static_cast<uintptr_t>(slots[count]));
}

void AllocatorBridge::LogTaken(void* p, size_t size, size_t alignment, int scope) {
  const int count = static_cast<int>(io_[io::kTakenCount]);  // below capacity: TakeReady checked
  double* entry = io_ + io::kTakenStart + count * io::kTakenFields;
  entry[0] = static_cast<double>(reinterpret_cast<uintptr_t>(p));
  entry[1] = static_cast<double>(size);
  entry[2] = static_cast<double>(alignment);
  entry[3] = scope < 0 ? -1 : scope < kScopeCount ? scope : 0;
  io_[io::kTakenCount] = count + 1;
}

void AllocatorBridge::DeferPolicyFree(void* memory) {
  int count = static_cast<int>(io_[io::kFreeCount]);
  if (count == io::kFreeCapacity) {
    FlushFrees();
    count = 0;
  }
  io_[io::kFreesStart + count] = static_cast<double>(reinterpret_cast<uintptr_t>(memory));
  io_[io::kFreeCount] = count + 1;
}

void AllocatorBridge::MoveQueuedFrees() {
  if (!hasQueued_.load(std::memory_order_acquire)) return;
  std::vector<void*> items;
  {
    std::lock_guard<std::mutex> lock(queueMu_);
    items.swap(queued_);
    hasQueued_.store(false, std::memory_order_release);
  }
  for (void* p : items) {
    int count = static_cast<int>(io_[io::kFreeCount]);
    if (count == io::kFreeCapacity) {  // full: hand this batch over first
      HandleScope hs(env_);
      Dispatch(io::kFlush);
      count = 0;
    }
    io_[io::kFreesStart + count] = static_cast<double>(reinterpret_cast<uintptr_t>(p));
    io_[io::kFreeCount] = count + 1;
  }
}

size_t AllocatorBridge::FlushFrees() {
  if (!CanCallJs()) return 0;
  if (io_[io::kFreeCount] == 0 && io_[io::kTakenCount] == 0 && !hasQueued_.load(std::memory_order_acquire)) return 0;
  bool pending = false;
  napi_is_exception_pending(env_, &pending);
  if (pending) return 0;  // never run JS over an exception on its way out
  HandleScope hs(env_);
  MoveQueuedFrees();
  size_t count = static_cast<size_t>(io_[io::kFreeCount]);
  if (count > 0 || io_[io::kTakenCount] > 0) Dispatch(io::kFlush);
  return count;
}

void AllocatorBridge::CollectFreeErrors() {
  // The dispatcher keeps free() exceptions in its `errors` array (a free has no
  // result to fail with); they are recorded like any other policy error.
  io_[io::kErrorCount] = 0;
  HandleScope hs(env_);
  napi_value fn, errors;
  napi_get_reference_value(env_, dispatcher_, &fn);
  if (napi_get_named_property(env_, fn, "errors", &errors) != napi_ok) return;
  uint32_t length = 0;
  napi_get_array_length(env_, errors, &length);
  for (uint32_t i = 0; i < length; i++) {
    napi_value e;
    napi_get_element(env_, errors, i, &e);
    RecordPolicyError(e);
  }
  napi_value zero;
  napi_create_uint32(env_, 0, &zero);
  napi_set_named_property(env_, errors, "length", zero);
}

void AllocatorBridge::RecordPolicyError(napi_value error) {
  policyErrors_++;
  try {  // no C++ exception may cross the driver's frames
    lastError_ = HoldValue(env_, error);
    if (data_->commandPolicyError.IsEmpty()) data_->commandPolicyError = HoldValue(env_, error);
  } catch (...) {
  }
}

void AllocatorBridge::RecordPolicyError(const std::string& message, bool typeError) {
  napi_value msg, error;
  napi_create_string_utf8(env_, message.c_str(), message.size(), &msg);
  if (typeError)
    napi_create_type_error(env_, nullptr, msg, &error);
  else
    napi_create_error(env_, nullptr, msg, &error);
  RecordPolicyError(error);
}

void AllocatorBridge::RejectOverlap(void* p, const char* method, CallKind kind, const Block& request,
                                    const Extent& live) {
  registry_.CountFailure(kind, request);
  const uintptr_t at = reinterpret_cast<uintptr_t>(p);
  const std::string liveBlock = Hex(live.address) + " (" + std::to_string(live.size) + " bytes)";
  if (request.owner == Owner::Native) {
    // Only a bogus policy block can overlap memory the C++ allocator hands out.
    AlignedFree(p);
    if (!data_->OnJsThread() || !data_->jsCallable) return;  // no JS value can be made here
    RecordPolicyError("The C++ allocator handed out " + Hex(at) + ", which overlaps the live block " + liveBlock +
                          " that the allocator policy returned earlier: the policy returned memory it does not own",
                      false);
    return;
  }
  const std::string where =
      at == live.address  ? "an address that is already live"
      : at > live.address ? "inside the live block " + liveBlock
                          : "whose " + std::to_string(request.size) + " bytes overlap the live block " + liveBlock;
  RecordPolicyError(std::string("Allocator policy ") + method + "(" + std::to_string(request.size) + ", " +
                        std::to_string(request.alignment) + ") returned " + Hex(at) + ", " + where +
                        ": the driver still uses that memory",
                    false);
}

void* AllocatorBridge::AcceptAddress(napi_value result, const char* method, size_t size, size_t alignment) {
  constexpr double kAddressLimit = 9007199254740992.0;  // 2^53: addresses above are not exact numbers
  double v = 0;
  std::string problem;
  if (napi_get_value_double(env_, result, &v) != napi_ok) {
    problem = "a non-number";  // (the dispatcher names what it was; this is the bridge's own guard)
  } else if (v == 0) {
    return nullptr;  // the policy's own, ordinary failure
  } else if (!(v > 0 && std::isfinite(v) && std::floor(v) == v)) {
    problem = JsNumber(v);
  } else if (!(v < kAddressLimit)) {
    problem = JsNumber(v) + ", which is not below 2^53 (no address is)";
  } else if (static_cast<uint64_t>(v) % alignment != 0) {
    problem = Hex(static_cast<uint64_t>(v)) + ", which is not aligned to " + std::to_string(alignment);
  }
  if (problem.empty()) return reinterpret_cast<void*>(static_cast<uintptr_t>(v));
  RecordPolicyError(std::string("Allocator policy ") + method + "(" + std::to_string(size) + ", " +
                        std::to_string(alignment) + ") returned " + problem +
                        ": expected 0 (failure) or an address aligned to " + std::to_string(alignment),
                    true);
  return nullptr;
}

// ---- JS-facing methods ------------------------------------------------------------

namespace {

Napi::Object CallCounts(Napi::Env env, const uint64_t* counts) {
  Napi::Object o = Napi::Object::New(env);
  const char* names[] = {"allocate", "reallocate", "free", "internalAllocate", "internalFree"};
  for (int i = 0; i < static_cast<int>(CallKind::Count); i++) o.Set(names[i], static_cast<double>(counts[i]));
  return o;
}

}  // namespace

Napi::Value AllocatorBridge::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RegistrySnapshot s = registry_.Snapshot();
  for (int i = 0; i < static_cast<int>(CallKind::Count); i++) s.calls[i] += jsCalls_[i];
  Napi::Object o = Napi::Object::New(env);
  o.Set("liveCount", static_cast<double>(s.liveCount));
  o.Set("liveBytes", static_cast<double>(s.liveBytes));
  o.Set("peakCount", static_cast<double>(s.peakCount));
  o.Set("peakBytes", static_cast<double>(s.peakBytes));
  o.Set("nativeLiveCount", static_cast<double>(s.nativeLiveCount));
  o.Set("calls", CallCounts(env, s.calls));
  o.Set("offThreadCalls", CallCounts(env, s.offThreadCalls));
  o.Set("failures", static_cast<double>(s.failures));
  o.Set("unknownPointers", static_cast<double>(s.unknownPointers));
  o.Set("badAlignments", static_cast<double>(s.badAlignments));
  o.Set("policyErrors", static_cast<double>(policyErrors_));
  {
    std::lock_guard<std::mutex> lock(queueMu_);
    o.Set("pendingFrees", static_cast<double>(queued_.size()) + (io_ ? io_[io::kFreeCount] : 0));
  }
  Napi::Object scopes = Napi::Object::New(env);
  for (int i = 0; i < kScopeCount; i++) {
    const ScopeCounters& c = s.scopes[i];
    Napi::Object so = Napi::Object::New(env);
    so.Set("allocations", static_cast<double>(c.allocations));
    so.Set("reallocations", static_cast<double>(c.reallocations));
    so.Set("frees", static_cast<double>(c.frees));
    so.Set("bytesAllocated", static_cast<double>(c.bytesAllocated));
    so.Set("bytesFreed", static_cast<double>(c.bytesFreed));
    so.Set("liveCount", static_cast<double>(c.liveCount));
    so.Set("liveBytes", static_cast<double>(c.liveBytes));
    so.Set("peakBytes", static_cast<double>(c.peakBytes));
    so.Set("internalBytes", static_cast<double>(c.internalBytes));
    scopes.Set(kScopeNames[i], so);
  }
  o.Set("scopes", scopes);
  Napi::Array commands = Napi::Array::New(env, s.commands.size());
  for (size_t i = 0; i < s.commands.size(); i++) {
    const CommandCounters& c = s.commands[i];
    Napi::Object co = Napi::Object::New(env);
    co.Set("command", c.command);
    co.Set("allocations", static_cast<double>(c.allocations));
    co.Set("reallocations", static_cast<double>(c.reallocations));
    co.Set("frees", static_cast<double>(c.frees));
    co.Set("bytesAllocated", static_cast<double>(c.bytesAllocated));
    co.Set("bytesFreed", static_cast<double>(c.bytesFreed));
    co.Set("peakLiveBytes", static_cast<double>(c.peakLiveBytes));
    commands.Set(static_cast<uint32_t>(i), co);
  }
  o.Set("commands", commands);
  return o;
}

Napi::Value AllocatorBridge::LiveBlocks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto blocks = registry_.LiveBlocks();
  std::sort(blocks.begin(), blocks.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  Napi::Array out = Napi::Array::New(env, blocks.size());
  for (size_t i = 0; i < blocks.size(); i++) {
    const Block& b = blocks[i].second;
    Napi::Object o = Napi::Object::New(env);
    o.Set("address", static_cast<double>(blocks[i].first));
    o.Set("size", static_cast<double>(b.size));
    o.Set("alignment", static_cast<double>(b.alignment));
    o.Set("scope", kScopeNames[b.scope < kScopeCount ? b.scope : 0]);
    o.Set("owner", b.owner == Owner::Policy ? "policy" : "native");
    o.Set("command", b.command);
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}

Napi::Value AllocatorBridge::Drain(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(FlushFrees()));
}

// releaseCache() -> how many kept native blocks went back to malloc (dispose()).
Napi::Value AllocatorBridge::ReleaseCache(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(cache_.Release()));
}

Napi::Value AllocatorBridge::IoArray(const Napi::CallbackInfo& info) {
  if (!ioBuffer_) return info.Env().Null();
  napi_value buffer, array;
  napi_get_reference_value(env_, ioBuffer_, &buffer);
  NAPI_THROW_IF_FAILED(info.Env(), napi_create_typedarray(env_, napi_float64_array, io::kLength, buffer, 0, &array),
                       Napi::Value());
  return Napi::Value(env_, array);
}

// startTrace({ capacity, maxEvents, grow, callSites }) (validated in lib/allocator/host-allocator.ts)
Napi::Value AllocatorBridge::StartTrace(const Napi::CallbackInfo& info) {
  Napi::Object o = info[0].As<Napi::Object>();
  TraceOptions options;
  options.capacity = static_cast<size_t>(o.Get("capacity").As<Napi::Number>().DoubleValue());
  options.maxEvents = static_cast<size_t>(o.Get("maxEvents").As<Napi::Number>().DoubleValue());
  options.grow = o.Get("grow").ToBoolean().Value();
  options.callSites = o.Get("callSites").ToBoolean().Value();
  if (registry_.Tracing()) throw Napi::Error::New(info.Env(), "A trace is already running on this allocator");
  wantsCallSites_ = options.callSites;
  registry_.StartTrace(options, data_->jsThread);
  return info.Env().Undefined();
}

// stopTrace() -> { events: ArrayBuffer (count x 56 bytes), count, dropped, commands, objects, callSites }
Napi::Value AllocatorBridge::StopTrace(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  FlushFrees();
  std::unique_ptr<TraceRecorder> trace = registry_.StopTrace();
  if (!trace) throw Napi::Error::New(env, "No trace is running on this allocator: call startTrace() first");
  wantsCallSites_ = false;
  trace->Finish();
  const auto& events = trace->Events();
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, events.size() * sizeof(TraceEvent));
  if (!events.empty()) std::memcpy(buffer.Data(), events.data(), events.size() * sizeof(TraceEvent));
  Napi::Object out = Napi::Object::New(env);
  out.Set("events", buffer);
  out.Set("count", static_cast<double>(events.size()));
  out.Set("dropped", static_cast<double>(trace->Dropped()));
  Napi::Array commands = Napi::Array::New(env, trace->Commands().size());
  for (size_t i = 0; i < trace->Commands().size(); i++) commands.Set(static_cast<uint32_t>(i), trace->Commands()[i]);
  out.Set("commands", commands);
  Napi::Array objects = Napi::Array::New(env, trace->Objects().size());
  for (size_t i = 0; i < trace->Objects().size(); i++) {
    const TraceObjectRecord& r = trace->Objects()[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("id", static_cast<double>(i));
    o.Set("type", r.type);
    o.Set("createdBy", r.createdBy);
    o.Set("createdAt", static_cast<double>(r.createdAt));
    o.Set("destroyedAt", r.destroyedAt < 0 ? env.Null() : Napi::Number::New(env, static_cast<double>(r.destroyedAt)));
    o.Set("parent", static_cast<double>(r.parent));
    objects.Set(static_cast<uint32_t>(i), o);
  }
  out.Set("objects", objects);
  Napi::Object callSites = Napi::Object::New(env);
  for (const auto& [seq, site] : trace->CallSites()) callSites.Set(std::to_string(seq), site);
  out.Set("callSites", callSites);
  return out;
}

Napi::Value AllocatorBridge::SetDispatcher(const Napi::CallbackInfo& info) {
  if (native_ || dispatcher_) throw Napi::Error::New(info.Env(), "This bridge takes no (other) dispatcher");
  if (!info[0].IsFunction()) throw Napi::TypeError::New(info.Env(), "Expected a function for dispatcher");
  // Weak: the caller keeps the dispatcher reachable from this bridge's wrapper
  // (lib/allocator/host-allocator.ts), so that a dropped allocator's policy is collected with
  // it in one collection, instead of living on until this object's finalizer runs.
  napi_create_reference(env_, info[0], 0, &dispatcher_);
  policyReallocates_ = info[1].ToBoolean().Value();
  return info.Env().Undefined();
}

// setReadyClasses(stock: ArrayBuffer, bounds: number[], maxAlignment: number), checked in
// lib/allocator/ready-stock.ts: from now on, JS-thread allocations of up to bounds[k]
// bytes (the first class that fits) aligned to at most maxAlignment take class k's
// ready blocks from `stock`. Once per bridge, after setDispatcher.
Napi::Value AllocatorBridge::SetReadyClasses(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!dispatcher_ || stockBuffer_) throw Napi::Error::New(env, "This bridge takes no (other) ready classes");
  if (!info[0].IsArrayBuffer() || !info[1].IsArray() || !info[2].IsNumber())
    throw Napi::TypeError::New(env, "Expected a stock ArrayBuffer, class bounds and an alignment");
  Napi::Array array = info[1].As<Napi::Array>();
  std::vector<size_t> bounds;
  for (uint32_t k = 0; k < array.Length(); k++)
    bounds.push_back(static_cast<size_t>(array.Get(k).As<Napi::Number>().DoubleValue()));
  Napi::ArrayBuffer stock = info[0].As<Napi::ArrayBuffer>();
  if (bounds.empty() || bounds.size() > io::kReadyClassLimit ||
      stock.ByteLength() < bounds.size() * io::kReadyStride * sizeof(double))
    throw Napi::RangeError::New(env, "Expected 1 to 32 class bounds and a stock large enough for them");
  // Set only once all is read: TakeReady needs every one of them.
  readyBounds_ = std::move(bounds);
  readyMaxAlignment_ = static_cast<size_t>(info[2].As<Napi::Number>().DoubleValue());
  stock_ = static_cast<double*>(stock.Data());
  stockBuffer_ = MakeRef(env_, stock);
  return env.Undefined();
}

Napi::Value AllocatorBridge::ResetCounters(const Napi::CallbackInfo& info) {
  registry_.ResetCounters();
  return info.Env().Undefined();
}

Napi::Value AllocatorBridge::LastPolicyError(const Napi::CallbackInfo& info) {
  if (lastError_.IsEmpty()) return info.Env().Undefined();
  return lastError_.Value().Get(0u);
}

}  // namespace vkalloc
