#include "allocator_bridge.h"
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace vkalloc {

namespace {

bool IsPowerOfTwo(size_t v) { return v != 0 && (v & (v - 1)) == 0; }

void* NativeAllocate(size_t size, size_t alignment) {
  void* p = nullptr;
  if (posix_memalign(&p, std::max(alignment, sizeof(void*)), size ? size : 1) != 0) return nullptr;
  return p;
}

struct HandleScope {
  explicit HandleScope(napi_env env) : env(env) { napi_open_handle_scope(env, &scope); }
  ~HandleScope() { napi_close_handle_scope(env, scope); }
  napi_env env;
  napi_handle_scope scope = nullptr;
};

napi_value RefValue(napi_env env, napi_ref ref) {
  napi_value v = nullptr;
  napi_get_reference_value(env, ref, &v);
  return v;
}

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
  return DefineClass(env, "AllocatorBridge",
                     {
                         InstanceMethod<&AllocatorBridge::Stats>("stats"),
                         InstanceMethod<&AllocatorBridge::LiveBlocks>("liveBlocks"),
                         InstanceMethod<&AllocatorBridge::Drain>("drain"),
                         InstanceMethod<&AllocatorBridge::ResetCounters>("resetCounters"),
                         InstanceAccessor<&AllocatorBridge::LastPolicyError>("lastPolicyError"),
                     });
}

AllocatorBridge::AllocatorBridge(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<AllocatorBridge>(info), data_(AddonData::Get(info.Env())), env_(info.Env()) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    throw Napi::TypeError::New(env, "Expected an allocator policy object for policy");
  }
  Napi::Object policy = info[0].As<Napi::Object>();
  auto method = [&](const char* name, bool required) -> napi_ref {
    Napi::Value fn = policy.Get(name);
    if (fn.IsFunction()) return MakeRef(env, fn);
    if (required || !fn.IsUndefined()) {
      throw Napi::TypeError::New(env, std::string("Expected a function for policy.") + name);
    }
    return nullptr;
  };
  allocate_ = method("allocate", true);
  free_ = method("free", true);
  reallocate_ = method("reallocate", false);
  internalAllocation_ = method("internalAllocation", false);
  internalFree_ = method("internalFree", false);
  policy_ = MakeRef(env, policy);
  Napi::Array names = Napi::Array::New(env, kScopeCount + 1);
  for (uint32_t i = 0; i < kScopeCount; i++) names.Set(i, kScopeNames[i]);
  names.Set(static_cast<uint32_t>(kScopeCount), "executable");
  names_ = MakeRef(env, names);

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
    if (block.owner == Owner::Native) std::free(reinterpret_cast<void*>(address));
  }
  napi_ref refs[] = {policy_, allocate_, reallocate_, free_, internalAllocation_, internalFree_, names_};
  for (napi_ref ref : refs)
    if (ref) napi_delete_reference(env_, ref);
}

// ---- trampolines: C entry points handed to the driver -------------------------

void* VKAPI_PTR AllocatorBridge::Allocation(void* user, size_t size, size_t alignment, VkSystemAllocationScope scope) {
  return static_cast<AllocatorBridge*>(user)->OnAllocation(size, alignment, scope, false);
}

void* VKAPI_PTR AllocatorBridge::Reallocation(void* user, void* original, size_t size, size_t alignment,
                                             VkSystemAllocationScope scope) {
  return static_cast<AllocatorBridge*>(user)->OnReallocation(original, size, alignment, scope);
}

void VKAPI_PTR AllocatorBridge::Free(void* user, void* memory) {
  static_cast<AllocatorBridge*>(user)->OnFree(memory, false);
}

void VKAPI_PTR AllocatorBridge::InternalAllocation(void* user, size_t size, VkInternalAllocationType type,
                                                  VkSystemAllocationScope scope) {
  static_cast<AllocatorBridge*>(user)->OnInternal(true, size, type, scope);
}

void VKAPI_PTR AllocatorBridge::InternalFree(void* user, size_t size, VkInternalAllocationType type,
                                            VkSystemAllocationScope scope) {
  static_cast<AllocatorBridge*>(user)->OnInternal(false, size, type, scope);
}

// ---- callback logic -------------------------------------------------------------

bool AllocatorBridge::CanCallJs() const {
  return data_->OnJsThread() && data_->jsCallable && data_->policyDepth == 0;
}

const char* AllocatorBridge::CurrentCommand() const {
  if (!data_->OnJsThread() || !data_->currentCommand) return kNoCommand;
  return data_->currentCommand;
}

void* AllocatorBridge::OnAllocation(size_t size, size_t alignment, VkSystemAllocationScope scope,
                                    bool asReallocation) {
  if (!asReallocation) registry_.CountCall(CallKind::Allocate, !data_->OnJsThread());
  if (!IsPowerOfTwo(alignment)) {
    registry_.CountBadAlignment();
    registry_.CountFailure();
    return nullptr;
  }
  const bool onJs = CanCallJs();
  void* p;
  if (onJs) {
    DrainPending();
    p = CallPolicyAllocate(size, alignment, scope);
  } else {
    p = NativeAllocate(size, alignment);
  }
  if (!p) {
    registry_.CountFailure();
    return nullptr;
  }
  registry_.Insert(p, Block{size, static_cast<uint32_t>(alignment), static_cast<uint8_t>(scope),
                            onJs ? Owner::Policy : Owner::Native, CurrentCommand()});
  return p;
}

void* AllocatorBridge::OnReallocation(void* original, size_t size, size_t alignment, VkSystemAllocationScope scope) {
  registry_.CountCall(CallKind::Reallocate, !data_->OnJsThread());
  // The spec's rules: NULL original acts as allocation, size 0 as free.
  if (!original) return OnAllocation(size, alignment, scope, true);
  if (size == 0) {
    OnFree(original, true);
    return nullptr;
  }
  Block old;
  if (!registry_.Find(original, &old)) {
    registry_.CountUnknownPointer();
    registry_.CountFailure();
    return nullptr;
  }
  if (!IsPowerOfTwo(alignment)) {
    registry_.CountBadAlignment();
    registry_.CountFailure();
    return nullptr;
  }
  const bool onJs = CanCallJs();
  Block next{size, static_cast<uint32_t>(alignment), static_cast<uint8_t>(scope),
             onJs ? Owner::Policy : Owner::Native, CurrentCommand()};
  void* p;
  if (onJs) {
    DrainPending();
    if (old.owner == Owner::Policy && reallocate_) {
      p = CallPolicyReallocate(original, size, alignment, scope);
      if (!p) {
        registry_.CountFailure();  // the policy keeps the old block, as the spec requires
        return nullptr;
      }
      registry_.Replace(original, p, next);
      return p;
    }
    p = CallPolicyAllocate(size, alignment, scope);
  } else {
    p = NativeAllocate(size, alignment);
  }
  if (!p) {
    registry_.CountFailure();  // the old block stays valid and unchanged
    return nullptr;
  }
  std::memcpy(p, original, std::min(old.size, size));
  registry_.Replace(original, p, next);
  ReleaseBlock(original, old, onJs);
  return p;
}

void AllocatorBridge::OnFree(void* memory, bool asReallocation) {
  if (!asReallocation) registry_.CountCall(CallKind::Free, !data_->OnJsThread());
  if (!memory) return;  // freeing NULL is allowed and does nothing
  Block block;
  if (!registry_.Remove(memory, CurrentCommand(), &block)) {
    registry_.CountUnknownPointer();  // never handed out, or already freed: leave it alone
    return;
  }
  ReleaseBlock(memory, block, CanCallJs());
}

void AllocatorBridge::ReleaseBlock(void* memory, const Block& block, bool onJs) {
  if (block.owner == Owner::Native) {
    std::free(memory);
  } else if (onJs) {
    DrainPending();
    CallPolicyFree(memory);
  } else {
    std::lock_guard<std::mutex> lock(pendingMu_);
    pending_.push_back(memory);
    hasPending_.store(true, std::memory_order_release);
  }
}

void AllocatorBridge::OnInternal(bool allocate, size_t size, VkInternalAllocationType type,
                                 VkSystemAllocationScope scope) {
  registry_.CountCall(allocate ? CallKind::InternalAllocate : CallKind::InternalFree, !data_->OnJsThread());
  registry_.Internal(allocate, size, scope);
  if (CanCallJs() && (allocate ? internalAllocation_ : internalFree_)) CallPolicyInternal(allocate, size, scope);
}

size_t AllocatorBridge::DrainPending() {
  if (!hasPending_.load(std::memory_order_acquire) || !CanCallJs()) return 0;
  std::vector<void*> items;
  {
    std::lock_guard<std::mutex> lock(pendingMu_);
    items.swap(pending_);
    hasPending_.store(false, std::memory_order_release);
  }
  for (void* p : items) CallPolicyFree(p);
  return items.size();
}

// ---- calling the policy (JS thread only) -----------------------------------------

napi_value AllocatorBridge::Name(uint32_t index) {
  napi_value name = nullptr;
  napi_get_element(env_, RefValue(env_, names_), index, &name);
  return name;
}

napi_value AllocatorBridge::CallPolicy(napi_ref fn, size_t argc, napi_value* argv) {
  napi_value result = nullptr;
  data_->policyDepth++;
  napi_status status = napi_call_function(env_, RefValue(env_, policy_), RefValue(env_, fn), argc, argv, &result);
  data_->policyDepth--;
  if (status == napi_ok) return result;
  bool pending = false;
  napi_is_exception_pending(env_, &pending);
  napi_value error = nullptr;
  if (pending) {
    napi_get_and_clear_last_exception(env_, &error);
  } else {
    napi_value message;
    napi_create_string_utf8(env_, "the allocator policy could not be called", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env_, nullptr, message, &error);
  }
  RecordPolicyError(error);
  return nullptr;
}

void AllocatorBridge::RecordPolicyError(napi_value error) {
  policyErrors_++;
  try {  // no C++ exception may cross the driver's frames
    lastError_ = HoldValue(env_, error);
    if (data_->commandPolicyError.IsEmpty()) data_->commandPolicyError = HoldValue(env_, error);
  } catch (...) {
  }
}

void* AllocatorBridge::AcceptAddress(napi_value result, const char* method, size_t size, size_t alignment) {
  double v = 0;
  std::string problem;
  if (napi_get_value_double(env_, result, &v) != napi_ok) {
    napi_valuetype type;
    napi_typeof(env_, result, &type);
    problem = type == napi_bigint ? "a bigint" : type == napi_undefined ? "undefined" : "a non-number";
  } else if (v == 0) {
    return nullptr;  // the policy's own, ordinary failure
  } else if (!(v > 0 && v <= 9007199254740992.0 && std::floor(v) == v)) {
    problem = std::to_string(v);
  } else if (static_cast<uint64_t>(v) % alignment != 0) {
    problem = Hex(static_cast<uint64_t>(v)) + ", which is not aligned to " + std::to_string(alignment);
  }
  if (problem.empty()) return reinterpret_cast<void*>(static_cast<uintptr_t>(v));
  std::string message = std::string("Allocator policy ") + method + "(" + std::to_string(size) + ", " +
                        std::to_string(alignment) + ") returned " + problem +
                        ": expected 0 (failure) or an address aligned to " + std::to_string(alignment);
  napi_value msg, error;
  napi_create_string_utf8(env_, message.c_str(), message.size(), &msg);
  napi_create_type_error(env_, nullptr, msg, &error);
  RecordPolicyError(error);
  return nullptr;
}

void* AllocatorBridge::CallPolicyAllocate(size_t size, size_t alignment, int scope) {
  HandleScope hs(env_);
  napi_value argv[3];
  napi_create_double(env_, static_cast<double>(size), &argv[0]);
  napi_create_double(env_, static_cast<double>(alignment), &argv[1]);
  argv[2] = Name(scope < kScopeCount ? scope : 0);
  napi_value result = CallPolicy(allocate_, 3, argv);
  if (!result) return nullptr;
  void* p = AcceptAddress(result, "allocate", size, alignment);
  Block existing;
  if (p && registry_.Find(p, &existing)) {
    napi_value msg, error;
    std::string text = "Allocator policy allocate() returned " + Hex(reinterpret_cast<uintptr_t>(p)) +
                       ", an address that is already live";
    napi_create_string_utf8(env_, text.c_str(), text.size(), &msg);
    napi_create_error(env_, nullptr, msg, &error);
    RecordPolicyError(error);
    return nullptr;
  }
  return p;
}

void* AllocatorBridge::CallPolicyReallocate(void* original, size_t size, size_t alignment, int scope) {
  HandleScope hs(env_);
  napi_value argv[4];
  napi_create_double(env_, static_cast<double>(reinterpret_cast<uintptr_t>(original)), &argv[0]);
  napi_create_double(env_, static_cast<double>(size), &argv[1]);
  napi_create_double(env_, static_cast<double>(alignment), &argv[2]);
  argv[3] = Name(scope < kScopeCount ? scope : 0);
  napi_value result = CallPolicy(reallocate_, 4, argv);
  return result ? AcceptAddress(result, "reallocate", size, alignment) : nullptr;
}

void AllocatorBridge::CallPolicyFree(void* memory) {
  HandleScope hs(env_);
  napi_value argv[1];
  napi_create_double(env_, static_cast<double>(reinterpret_cast<uintptr_t>(memory)), &argv[0]);
  CallPolicy(free_, 1, argv);
}

void AllocatorBridge::CallPolicyInternal(bool allocate, size_t size, int scope) {
  HandleScope hs(env_);
  napi_value argv[3];
  napi_create_double(env_, static_cast<double>(size), &argv[0]);
  argv[1] = Name(kScopeCount);
  argv[2] = Name(scope < kScopeCount ? scope : 0);
  CallPolicy(allocate ? internalAllocation_ : internalFree_, 3, argv);
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
    std::lock_guard<std::mutex> lock(pendingMu_);
    o.Set("pendingFrees", static_cast<double>(pending_.size()));
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
  return Napi::Number::New(info.Env(), static_cast<double>(DrainPending()));
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
