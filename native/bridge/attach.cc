// In-process attach (attach.h). The layer library is loaded once per process: this addon
// dlopens it from its known path, and the Vulkan loader's later dlopen of the same file
// returns the same copy. The addon hands it an Attachment's callbacks, which forward to an
// AllocatorBridge, so the bridge serves every object created with a NULL pAllocator while
// attached, exactly as for vkalloc's own objects: the policy on the JS thread, the native
// allocator on other threads. The layer's begin/end hooks bracket each outermost command
// like CommandScope does (attribution, trace spans, deferred frees, command-scope leak
// checks), without throwing: the caller is another addon's native code.
//
// Lifetimes: an Attachment is never freed (the layer keeps its callbacks for the objects
// made with them). It holds its HostAllocator (a strong reference) while attached and while
// any object made with its callbacks lives; the last destroy seen at a command's end on the
// JS thread (or a layerAttachments() call) lets it go. At environment teardown with such
// objects still alive it is orphaned: the memory they use is left allocated, later
// allocations are served natively, frees ignored, reallocations refused.
#include "bridge/attach.h"
#include "bridge/chunk_source.h"
#include <dlfcn.h>
#include <atomic>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include "bridge/addon_data.h"
#include "bridge/allocator_bridge.h"
#include "core/aligned_allocator.h"
#include "core/block_registry.h"
#include "layer/vkalloc_attach.h"

namespace vkalloc {

namespace {

struct Attachment {
  VkAllocationCallbacks down{};                   // what the layer hands drivers; pUserData = this
  std::atomic<AllocatorBridge*> bridge{nullptr};  // null: orphaned
  std::atomic<int> inflight{0};
  AddonData* data = nullptr;  // the bridge's environment (valid while `bridge` is set)
  napi_ref holder = nullptr;  // [HostAllocator, bridge]
  bool attached = false;
  std::vector<std::pair<std::string, std::optional<std::string>>> savedEnv;  // restored by detach
};

struct Layer {
  std::mutex mu;  // slots, attach/detach (JS threads of any environment)
  void* library = nullptr;
  std::string path;
  PFN_vkallocLayerAttach attach = nullptr;
  PFN_vkallocLayerDetach detach = nullptr;
  PFN_vkallocLayerLiveObjects live = nullptr;
  static constexpr int kSlots = 32;
  std::atomic<Attachment*> slots[kSlots] = {};  // attached or holding; read by the hooks without the lock
  VkallocAttachHooks hooks{};
};

// Process-wide by nature (the layer is): never freed, driver threads may call at exit.
Layer& L() {
  static Layer* l = new Layer();
  return *l;
}

// A callback's hold on an attachment's bridge: teardown waits until none is held.
struct Use {
  explicit Use(Attachment* a) : a(a) {
    a->inflight.fetch_add(1);
    bridge = a->bridge.load();
  }
  ~Use() { a->inflight.fetch_sub(1); }
  Attachment* a;
  AllocatorBridge* bridge;
};

void Orphan(Attachment* a) {
  a->bridge.store(nullptr);
  while (a->inflight.load() > 0) std::this_thread::yield();
}

// ---- the callbacks the layer gets ---------------------------------------------------

void* VKAPI_PTR Allocation(void* user, size_t size, size_t alignment, VkSystemAllocationScope scope) {
  Use u(static_cast<Attachment*>(user));
  if (!u.bridge) return alignment && !(alignment & (alignment - 1)) ? AlignedAllocate(size, alignment) : nullptr;
  const VkAllocationCallbacks* c = u.bridge->Callbacks();
  return c->pfnAllocation(c->pUserData, size, alignment, scope);
}

void* VKAPI_PTR Reallocation(void* user, void* original, size_t size, size_t alignment, VkSystemAllocationScope scope) {
  Use u(static_cast<Attachment*>(user));
  if (!u.bridge) return nullptr;  // the original's size is gone with the bridge: refused, the original stays valid
  const VkAllocationCallbacks* c = u.bridge->Callbacks();
  return c->pfnReallocation(c->pUserData, original, size, alignment, scope);
}

void VKAPI_PTR Free(void* user, void* memory) {
  Use u(static_cast<Attachment*>(user));
  if (!u.bridge) return;  // left allocated (see the file comment)
  const VkAllocationCallbacks* c = u.bridge->Callbacks();
  c->pfnFree(c->pUserData, memory);
}

void VKAPI_PTR InternalAllocation(void* user, size_t size, VkInternalAllocationType type,
                                  VkSystemAllocationScope scope) {
  Use u(static_cast<Attachment*>(user));
  if (!u.bridge) return;
  const VkAllocationCallbacks* c = u.bridge->Callbacks();
  c->pfnInternalAllocation(c->pUserData, size, type, scope);
}

void VKAPI_PTR InternalFree(void* user, size_t size, VkInternalAllocationType type, VkSystemAllocationScope scope) {
  Use u(static_cast<Attachment*>(user));
  if (!u.bridge) return;
  const VkAllocationCallbacks* c = u.bridge->Callbacks();
  c->pfnInternalFree(c->pUserData, size, type, scope);
}

// ---- the command hooks --------------------------------------------------------------

thread_local const char* tCommand = nullptr;  // the layer's command on this thread
thread_local AddonData* tScoped = nullptr;    // the environment whose command Begin set
thread_local uint32_t tSeq = 0;

void Begin(void*, const char* command) {
  tCommand = command;
  tScoped = nullptr;
  Layer& l = L();
  for (auto& slot : l.slots) {
    Attachment* a = slot.load(std::memory_order_acquire);
    if (!a) continue;
    Use u(a);
    if (!u.bridge || !a->data->OnJsThread()) continue;
    AddonData* d = a->data;
    if (!tScoped) {
      // Inside a vkalloc command (its own objects, when the layer is in their chain too):
      // that command already names the callbacks.
      if (d->currentCommand || !d->jsCallable) return;
      tScoped = d;
      d->currentCommand = command;
      tSeq = d->currentCommandSeq = ++d->commandCounter;
      d->commandRunning.store(true, std::memory_order_relaxed);
      d->unclaimedCreateSeq = 0;
      d->commandPolicyError.Reset();
    }
    if (d == tScoped && u.bridge->Registry().Tracing()) u.bridge->Registry().TraceCommandBegin(command, 0, nullptr);
  }
}

void Release(Attachment* a, Napi::Env env);

void End(void*, const char* command, int32_t result) {
  tCommand = nullptr;
  AddonData* d = tScoped;
  if (!d) return;
  tScoped = nullptr;
  Layer& l = L();
  std::vector<Attachment*> done;
  for (auto& slot : l.slots) {
    Attachment* a = slot.load(std::memory_order_acquire);
    if (!a || a->data != d) continue;
    Use u(a);
    if (!u.bridge) continue;
    if (Validator* v = u.bridge->GetValidator()) {
      for (auto& [address, block] : u.bridge->Registry().LiveBlocksOf(tSeq, VK_SYSTEM_ALLOCATION_SCOPE_COMMAND))
        v->Report(Violation::Leak, command, false, address, block.size,
                  std::string("command-scope block still live after ") + command + " returned");
    }
    u.bridge->FlushFrees();
    if (u.bridge->Registry().Tracing()) u.bridge->Registry().TraceCommandEnd(command, result, 0, "", 0);
    if (!a->attached && l.live(&a->down) == 0) done.push_back(a);
  }
  d->currentCommand = nullptr;
  d->currentCommandSeq = 0;
  d->commandRunning.store(false, std::memory_order_relaxed);
  d->commandPolicyError.Reset();  // nobody to throw it to: the caller is not vkalloc
  if (!done.empty() && d->jsCallable) {
    std::lock_guard<std::mutex> lock(l.mu);
    for (Attachment* a : done) Release(a, Napi::Env(d->env));
  }
}

// ---- lifetime ------------------------------------------------------------------------

void Teardown(void* arg);

void RestoreEnv(Attachment* a) {
  for (auto& [name, value] : a->savedEnv) {
    if (value)
      setenv(name.c_str(), value->c_str(), 1);
    else
      unsetenv(name.c_str());
  }
  a->savedEnv.clear();
}

// Lets the HostAllocator go: no object uses it any more. With l.mu held, on its JS thread.
void Release(Attachment* a, Napi::Env env) {
  Layer& l = L();
  for (auto& slot : l.slots)
    if (slot.load() == a) slot.store(nullptr, std::memory_order_release);
  Orphan(a);  // a create racing the release (another thread) is served natively, never by a freed bridge
  if (a->holder) napi_delete_reference(env, a->holder);
  a->holder = nullptr;
  napi_remove_env_cleanup_hook(env, Teardown, a);
}

void DetachLocked(Attachment* a) {
  if (!a->attached) return;
  L().detach();
  a->attached = false;
  RestoreEnv(a);
}

// The environment is going (hooks run newest first: before Node-API finalizes the bridge
// and before addon.cc's Teardown frees the policy chunks).
void Teardown(void* arg) {
  auto* a = static_cast<Attachment*>(arg);
  Layer& l = L();
  std::lock_guard<std::mutex> lock(l.mu);
  DetachLocked(a);
  AllocatorBridge* bridge = a->bridge.load();
  if (bridge && l.live(&a->down) > 0) {
    // Objects of another addon still use this memory: it must outlive the bridge and the
    // chunks (the process is usually exiting; a worker's policy memory is leaked).
    for (auto& [address, block] : bridge->Registry().LiveBlocks()) {
      Block b;
      if (block.owner == Owner::Native) bridge->Registry().Remove(reinterpret_cast<void*>(address), kNoCommand, &b);
    }
    AbandonAllChunks(a->data);
  }
  for (auto& slot : l.slots)
    if (slot.load() == a) slot.store(nullptr, std::memory_order_release);
  Orphan(a);
  if (a->holder) napi_delete_reference(a->data->env, a->holder);
  a->holder = nullptr;
}

Attachment* CurrentIn(AddonData* data) {
  for (auto& slot : L().slots) {
    Attachment* a = slot.load();
    if (a && a->attached && a->data == data) return a;
  }
  return nullptr;
}

}  // namespace

const char* LayerCommand() {
  return tCommand ? tCommand : kNoCommand;
}

// attachLayer(libraryPath, bridge, holder, env)  (checked in lib/layer/attach.ts)
Napi::Value AttachLayer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData* data = AddonData::Get(env);
  std::string path = info[0].As<Napi::String>().Utf8Value();
  AllocatorBridge* bridge = UnwrapAs<AllocatorBridge>(info[1], "allocator");
  Layer& l = L();
  std::lock_guard<std::mutex> lock(l.mu);
  if (!l.library) {
    void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* why = dlerror();
      throw Napi::Error::New(env, "Cannot load the vkalloc layer " + path + ": " + (why ? why : "dlopen failed"));
    }
    auto attach = reinterpret_cast<PFN_vkallocLayerAttach>(dlsym(h, "vkalloc_layer_attach"));
    auto detach = reinterpret_cast<PFN_vkallocLayerDetach>(dlsym(h, "vkalloc_layer_detach"));
    auto live = reinterpret_cast<PFN_vkallocLayerLiveObjects>(dlsym(h, "vkalloc_layer_live_objects"));
    if (!attach || !detach || !live) {
      throw Napi::Error::New(
          env, "The vkalloc layer " + path +
                   " has no vkalloc_layer_attach/detach/live_objects: rebuild it (node scripts/setup.js)");
    }
    l.library = h;  // kept: the loader opens the same copy, drivers call into it until exit
    l.path = path;
    l.attach = attach;
    l.detach = detach;
    l.live = live;
    l.hooks = VkallocAttachHooks{VKALLOC_ATTACH_HOOKS_VERSION, nullptr, &Begin, &End};
  } else if (path != l.path) {
    throw Napi::Error::New(env, "The vkalloc layer is already loaded from " + l.path + ", not " + path);
  }
  for (auto& slot : l.slots) {
    Attachment* a = slot.load();
    if (a && a->attached) {
      throw Napi::Error::New(
          env, a->data == data ? "A HostAllocator is already attached: call detach() first"
                               : "A HostAllocator of another thread (worker) is attached to this process's Vulkan");
    }
  }
  int free = -1;
  for (int i = 0; i < Layer::kSlots && free < 0; i++)
    if (!l.slots[i].load()) free = i;
  if (free < 0) throw Napi::Error::New(env, "Too many detached allocators still serve live Vulkan objects (32)");

  auto* a = new Attachment();  // never freed: the layer keeps its callbacks
  a->down = VkAllocationCallbacks{a, &Allocation, &Reallocation, &Free, &InternalAllocation, &InternalFree};
  a->data = data;
  a->bridge.store(bridge);
  napi_create_reference(env, info[2], 1, &a->holder);
  int r = l.attach(&a->down, &l.hooks);
  if (r != 0) {
    napi_delete_reference(env, a->holder);
    a->holder = nullptr;
    a->bridge.store(nullptr);
    throw Napi::Error::New(env, r == VKALLOC_ATTACH_BUSY
                                    ? "The vkalloc layer is attached by other code in this process"
                                    : "The vkalloc layer does not speak this addon's attach version");
  }
  a->attached = true;
  // The loader reads these at each vkCreateInstance: instances created from now on get the layer.
  Napi::Array vars = info[3].As<Napi::Array>();
  for (uint32_t i = 0; i < vars.Length(); i++) {
    Napi::Array pair = vars.Get(i).As<Napi::Array>();
    std::string name = pair.Get(0u).As<Napi::String>().Utf8Value();
    std::string value = pair.Get(1u).As<Napi::String>().Utf8Value();
    const char* old = getenv(name.c_str());
    a->savedEnv.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    setenv(name.c_str(), value.c_str(), 1);
  }
  napi_add_env_cleanup_hook(env, Teardown, a);
  l.slots[free].store(a, std::memory_order_release);
  return env.Undefined();
}

// detachLayer() -> live objects still served by the allocator that was attached (-1: none was)
Napi::Value DetachLayer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Layer& l = L();
  std::lock_guard<std::mutex> lock(l.mu);
  Attachment* a = CurrentIn(AddonData::Get(env));
  if (!a) return Napi::Number::New(env, -1);
  DetachLocked(a);
  uint64_t live = l.live(&a->down);
  if (live == 0) Release(a, env);
  return Napi::Number::New(env, static_cast<double>(live));
}

// layerAttachments() -> [{ holder, attached, liveObjects }] of this environment; releases
// the detached ones no object uses any more.
Napi::Value LayerAttachments(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData* data = AddonData::Get(env);
  Layer& l = L();
  std::lock_guard<std::mutex> lock(l.mu);
  Napi::Array out = Napi::Array::New(env);
  for (auto& slot : l.slots) {
    Attachment* a = slot.load();
    if (!a || a->data != data) continue;
    uint64_t live = l.live(&a->down);
    if (!a->attached && live == 0) {
      Release(a, env);
      continue;
    }
    Napi::Object o = Napi::Object::New(env);
    napi_value holder;
    napi_get_reference_value(env, a->holder, &holder);
    o.Set("holder", Napi::Value(env, holder));
    o.Set("attached", a->attached);
    o.Set("liveObjects", static_cast<double>(live));
    out.Set(out.Length(), o);
  }
  return out;
}

}  // namespace vkalloc
