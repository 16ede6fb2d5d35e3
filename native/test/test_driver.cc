// A stand-in driver for tests, exported as `__testDriver` (internal, not part of the
// API): it calls an AllocatorBridge's installed VkAllocationCallbacks exactly as a
// driver would, from the JS thread or from a thread of its own, including calls no
// well-behaved driver makes (NULL original, size 0, unknown pointers, odd alignments).
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include "bridge/allocator_bridge.h"
#include "bridge/command_scope.h"
#include "vulkan/device.h"

namespace vkalloc {

namespace {

const VkAllocationCallbacks* CallbacksArg(const Napi::CallbackInfo& info) {
  if (!info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "Expected an AllocatorBridge");
  return UnwrapAs<AllocatorBridge>(info[0])->Callbacks();
}

void* Address(const Napi::Value& v) {
  return reinterpret_cast<void*>(static_cast<uintptr_t>(v.As<Napi::Number>().DoubleValue()));
}
Napi::Value Number(Napi::Env env, void* p) {
  return Napi::Number::New(env, static_cast<double>(reinterpret_cast<uintptr_t>(p)));
}
size_t Size(const Napi::Value& v) {
  return static_cast<size_t>(v.As<Napi::Number>().DoubleValue());
}
VkSystemAllocationScope Scope(const Napi::Value& v) {
  return static_cast<VkSystemAllocationScope>(v.As<Napi::Number>().Uint32Value());
}

// allocate(bridge, size, alignment, scope) -> address (0 on NULL)
Napi::Value Allocate(const Napi::CallbackInfo& info) {
  const VkAllocationCallbacks* cb = CallbacksArg(info);
  CommandScope scope(info.Env(), "testDriver");
  return Number(info.Env(), cb->pfnAllocation(cb->pUserData, Size(info[1]), Size(info[2]), Scope(info[3])));
}

// reallocate(bridge, original, size, alignment, scope) -> address (0 on NULL)
Napi::Value Reallocate(const Napi::CallbackInfo& info) {
  const VkAllocationCallbacks* cb = CallbacksArg(info);
  CommandScope scope(info.Env(), "testDriver");
  return Number(info.Env(),
                cb->pfnReallocation(cb->pUserData, Address(info[1]), Size(info[2]), Size(info[3]), Scope(info[4])));
}

// free(bridge, address)
Napi::Value Free(const Napi::CallbackInfo& info) {
  const VkAllocationCallbacks* cb = CallbacksArg(info);
  CommandScope scope(info.Env(), "testDriver");
  cb->pfnFree(cb->pUserData, Address(info[1]));
  return info.Env().Undefined();
}

// internal(bridge, allocate: boolean, size, scope, type = EXECUTABLE)
Napi::Value Internal(const Napi::CallbackInfo& info) {
  const VkAllocationCallbacks* cb = CallbacksArg(info);
  CommandScope scope(info.Env(), "testDriver");
  auto fn = info[1].ToBoolean().Value() ? cb->pfnInternalAllocation : cb->pfnInternalFree;
  auto type = info[4].IsNumber() ? static_cast<VkInternalAllocationType>(info[4].As<Napi::Number>().Uint32Value())
                                 : VK_INTERNAL_ALLOCATION_TYPE_EXECUTABLE;
  fn(cb->pUserData, Size(info[2]), type, Scope(info[3]));
  return info.Env().Undefined();
}

// outsideCommand(bridge, size) -> address: pfnAllocation on the JS thread with no command running
Napi::Value OutsideCommand(const Napi::CallbackInfo& info) {
  const VkAllocationCallbacks* cb = CallbacksArg(info);
  return Number(info.Env(), cb->pfnAllocation(cb->pUserData, Size(info[1]), 8, VK_SYSTEM_ALLOCATION_SCOPE_OBJECT));
}

// duringCommand(bridge, frees: number[]): frees the addresses on another thread while a
// command runs on the JS thread (the JS thread waits for it inside the command).
Napi::Value DuringCommand(const Napi::CallbackInfo& info) {
  const VkAllocationCallbacks* cb = CallbacksArg(info);
  std::vector<void*> frees;
  Napi::Array list = info[1].As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); i++) frees.push_back(Address(list.Get(i)));
  CommandScope scope(info.Env(), "testDriver");
  std::thread worker([&] {
    for (void* p : frees) cb->pfnFree(cb->pUserData, p);
  });
  worker.join();
  return info.Env().Undefined();
}

// offThread(bridge, allocations: number, size, alignment, frees: number[]) -> addresses allocated
// On a thread of its own, outside any command, as lavapipe's submit thread does:
// frees the given addresses, then makes `allocations` allocations.
Napi::Value OffThread(const Napi::CallbackInfo& info) {
  const VkAllocationCallbacks* cb = CallbacksArg(info);
  uint32_t count = info[1].As<Napi::Number>().Uint32Value();
  size_t size = Size(info[2]), alignment = Size(info[3]);
  std::vector<void*> frees;
  Napi::Array list = info[4].As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); i++) frees.push_back(Address(list.Get(i)));
  std::vector<void*> made(count);
  std::thread worker([&] {
    for (void* p : frees) cb->pfnFree(cb->pUserData, p);
    for (uint32_t i = 0; i < count; i++) {
      made[i] = cb->pfnAllocation(cb->pUserData, size, alignment, VK_SYSTEM_ALLOCATION_SCOPE_OBJECT);
      if (made[i]) std::memset(made[i], 0xA5, size);
    }
  });
  worker.join();
  Napi::Array out = Napi::Array::New(info.Env(), count);
  for (uint32_t i = 0; i < count; i++) out.Set(i, Number(info.Env(), made[i]));
  return out;
}

// contend(bridge, pairs) -> whether the registry's lock is still biased afterwards
// Inside one command, the JS thread and a thread of its own each make `pairs`
// allocations at the same time, keeping up to 32 live and freeing the oldest, as a
// driver's queue thread may while the JS thread creates objects: the registry's lock
// (biased towards the JS thread, core/biased_lock.h) must keep both sides' records whole.
Napi::Value Contend(const Napi::CallbackInfo& info) {
  AllocatorBridge* bridge = UnwrapAs<AllocatorBridge>(info[0]);
  const VkAllocationCallbacks* cb = bridge->Callbacks();
  const uint32_t pairs = info[1].As<Napi::Number>().Uint32Value();
  auto run = [cb, pairs] {
    std::vector<void*> held;
    for (uint32_t i = 0; i < pairs; i++) {
      const size_t size = 16 + (i % 64) * 8;
      void* p = cb->pfnAllocation(cb->pUserData, size, 16, VK_SYSTEM_ALLOCATION_SCOPE_OBJECT);
      if (p) std::memset(p, 0x5A, size);
      held.push_back(p);
      if (held.size() > 32) {
        cb->pfnFree(cb->pUserData, held.front());
        held.erase(held.begin());
      }
    }
    for (void* p : held) cb->pfnFree(cb->pUserData, p);
  };
  CommandScope scope(info.Env(), "contend");
  std::atomic<bool> go{false};
  std::thread other([&] {
    while (!go.load()) std::this_thread::yield();
    run();
  });
  go = true;
  run();
  other.join();
  return Napi::Boolean::New(info.Env(), bridge->Registry().LockBiased());
}

// read(address, length) -> Buffer (a copy); write(address, bytes)
Napi::Value Read(const Napi::CallbackInfo& info) {
  return Napi::Buffer<uint8_t>::Copy(info.Env(), static_cast<uint8_t*>(Address(info[0])), Size(info[1]));
}
Napi::Value Write(const Napi::CallbackInfo& info) {
  Napi::Uint8Array bytes = info[1].As<Napi::Uint8Array>();
  std::memcpy(Address(info[0]), bytes.Data(), bytes.ByteLength());
  return info.Env().Undefined();
}

// bench(bridge | null, sizes: Float64Array, alignments: Float64Array, mode) -> ns
// A driver's allocation loop with no driver in it, for the benchmark:
//   'pairs'   pfnAllocation then pfnFree, per (size, alignment)
//   'realloc' pfnAllocation, pfnReallocation to twice the size, pfnFree
//   'malloc'  posix_memalign + free, no callbacks at all (bridge ignored)
// Runs as one command, so deferred frees are handed over at its end (included).
Napi::Value Bench(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Float64Array sizes = info[1].As<Napi::Float64Array>();
  Napi::Float64Array aligns = info[2].As<Napi::Float64Array>();
  std::string mode = info[3].As<Napi::String>().Utf8Value();
  const size_t n = sizes.ElementLength();
  const VkAllocationCallbacks* cb = info[0].IsObject() ? CallbacksArg(info) : nullptr;
  auto start = std::chrono::steady_clock::now();
  {
    CommandScope scope(env, "benchmark");
    if (mode == "malloc") {
      for (size_t i = 0; i < n; i++) {
        void* p = nullptr;
        if (posix_memalign(&p, std::max<size_t>(static_cast<size_t>(aligns[i]), sizeof(void*)),
                           static_cast<size_t>(sizes[i])) == 0)
          std::free(p);
      }
    } else if (mode == "pairs") {
      for (size_t i = 0; i < n; i++) {
        void* p = cb->pfnAllocation(cb->pUserData, static_cast<size_t>(sizes[i]), static_cast<size_t>(aligns[i]),
                                    VK_SYSTEM_ALLOCATION_SCOPE_OBJECT);
        cb->pfnFree(cb->pUserData, p);
      }
    } else if (mode == "realloc") {
      for (size_t i = 0; i < n; i++) {
        size_t size = static_cast<size_t>(sizes[i]), align = static_cast<size_t>(aligns[i]);
        void* p = cb->pfnAllocation(cb->pUserData, size, align, VK_SYSTEM_ALLOCATION_SCOPE_OBJECT);
        void* q = cb->pfnReallocation(cb->pUserData, p, size * 2, align, VK_SYSTEM_ALLOCATION_SCOPE_OBJECT);
        cb->pfnFree(cb->pUserData, q ? q : p);
      }
    } else {
      throw Napi::TypeError::New(env, "Expected 'pairs', 'realloc' or 'malloc' for mode");
    }
  }
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
  return Napi::Number::New(env, static_cast<double>(ns));
}

// crossings(bridge) -> calls from C++ into the bridge's JS dispatcher so far
// cachedBlocks(bridge) -> freed native blocks the JS thread keeps (AlignedBlockCache)
Napi::Value CachedBlocks(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(UnwrapAs<AllocatorBridge>(info[0])->CachedBlocks()));
}

Napi::Value Crossings(const Napi::CallbackInfo& info) {
  if (!info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "Expected an AllocatorBridge");
  return Napi::Number::New(info.Env(), static_cast<double>(UnwrapAs<AllocatorBridge>(info[0])->Crossings()));
}

// failedWait(device, result) -> Promise: an asynchronous wait of `device` (Device::StartWait,
// as fence.waitAsync() makes) whose vkWaitForFences returns `result`, as a driver's would
// on a lost device: the failure path the CPU drivers never take.
Napi::Value FailedWait(const Napi::CallbackInfo& info) {
  Device* device = UnwrapAs<Device>(info[0], "device");
  device->CheckAlive(info.Env());
  const VkResult result = static_cast<VkResult>(info[1].As<Napi::Number>().Int32Value());
  return device->StartWait(info.Env(), "vkWaitForFences", device, UINT64_MAX, Device::WaitKind::Fence,
                           [result](uint64_t) { return result; });
}

}  // namespace

Napi::Object TestDriver(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("allocate", Napi::Function::New<Allocate>(env, "allocate"));
  o.Set("reallocate", Napi::Function::New<Reallocate>(env, "reallocate"));
  o.Set("free", Napi::Function::New<Free>(env, "free"));
  o.Set("internal", Napi::Function::New<Internal>(env, "internal"));
  o.Set("offThread", Napi::Function::New<OffThread>(env, "offThread"));
  o.Set("outsideCommand", Napi::Function::New<OutsideCommand>(env, "outsideCommand"));
  o.Set("duringCommand", Napi::Function::New<DuringCommand>(env, "duringCommand"));
  o.Set("read", Napi::Function::New<Read>(env, "read"));
  o.Set("write", Napi::Function::New<Write>(env, "write"));
  o.Set("bench", Napi::Function::New<Bench>(env, "bench"));
  o.Set("contend", Napi::Function::New<Contend>(env, "contend"));
  o.Set("crossings", Napi::Function::New<Crossings>(env, "crossings"));
  o.Set("cachedBlocks", Napi::Function::New<CachedBlocks>(env, "cachedBlocks"));
  o.Set("failedWait", Napi::Function::New<FailedWait>(env, "failedWait"));
  return o;
}

}  // namespace vkalloc
