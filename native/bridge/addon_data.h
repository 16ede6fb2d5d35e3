// Per-environment state (main thread and each worker have their own): kept in
// Node-API instance data, never in globals.
#pragma once
#include <napi.h>
#include <atomic>
#include <list>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>
#include "bridge/loader.h"

namespace vkalloc {

class AllocatorBridge;
class Device;
class Resource;
struct ChunkTable;

struct AddonData {
  explicit AddonData(napi_env env) : env(env), jsThread(std::this_thread::get_id()) {}

  napi_env env;
  Loader loader;
  std::thread::id jsThread;
  // False once the environment is being torn down: from then on no callback may call JS.
  bool jsCallable = true;
  // Above zero while a policy callback runs: Vulkan must not be re-entered from it.
  int policyDepth = 0;
  // The Vulkan command running on the JS thread (a string literal), or nullptr, and
  // which run of a command it is (counted from 1). `commandRunning` mirrors it for
  // driver threads, which must not read the rest.
  const char* currentCommand = nullptr;
  uint32_t currentCommandSeq = 0;
  uint32_t commandCounter = 0;
  std::atomic<bool> commandRunning{false};
  // The last create command (vkCreate*/vkAllocate*) that ended, until an object claims it.
  uint32_t unclaimedCreateSeq = 0;
  // Violations of a create command, thrown once its object is attached (Resource::Attach).
  Napi::ObjectReference pendingViolation;
  // The first policy failure (exception or rejected result) of the current command.
  // Held in a one-element array so that a thrown primitive can be kept too.
  Napi::ObjectReference commandPolicyError;

  std::vector<AllocatorBridge*> bridges;  // whose deferred frees are handed over at each command end
  uint64_t nextObjectId = 1;              // Resource ids, for traces
  Resource* destroying = nullptr;         // the object whose destroy command is running
  std::list<Resource*> roots;             // live resources without a parent (instances)
  std::vector<Device*> liveDevices;       // waited idle before teardown (Device::IdleForTeardown)

  Napi::FunctionReference errorFactory;
  std::shared_ptr<ChunkTable> chunks;  // live policy chunks (chunk_source.cc), from the first obtain
  Napi::FunctionReference instanceCtor, physicalDeviceCtor, deviceCtor, bufferCtor, memoryCtor, queueCtor, fenceCtor;
  Napi::FunctionReference semaphoreCtor, commandPoolCtor, commandBufferCtor, shaderModuleCtor, descriptorSetLayoutCtor,
      descriptorPoolCtor, descriptorSetCtor, pipelineLayoutCtor, pipelineCacheCtor, pipelineCtor, imageCtor,
      imageViewCtor;

  static AddonData* Get(Napi::Env env) { return env.GetInstanceData<AddonData>(); }
  bool OnJsThread() const { return std::this_thread::get_id() == jsThread; }
};

// The Vulkan command an asynchronous wait's own thread is running (native/vulkan/device.cc),
// or nullptr on every other thread. Callbacks on that thread during it come from the
// thread that called the command, during it, as the spec asks: the bridge attributes
// them to it (served natively all the same: it is not the JS thread).
inline thread_local const char* offThreadCommand = nullptr;

// False once the environment is stopping (worker.terminate(), process.exit() in a
// worker): Node-API then refuses every call that could run JS with
// napi_pending_exception although no exception is pending. Costs two Node-API calls:
// for failure paths only. Clears any pending exception first (the caller has it).
inline bool JsRunnable(napi_env env) {
  bool pending = false;
  napi_value value;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &value);
  if (napi_create_object(env, &value) != napi_ok) return false;
  return napi_set_named_property(env, value, "probe", value) == napi_ok;
}

// Passed as the only constructor argument when native code creates a wrapped
// object, so that `new Instance()` from JS is refused.
inline bool IsConstructionToken(const Napi::CallbackInfo& info, AddonData* data) {
  return info.Length() == 1 && info[0].IsExternal() && info[0].As<Napi::External<AddonData>>().Data() == data;
}

// Type tags: every wrapped object carries the tag of its class, so that an object of
// the wrong class (or a plain object) passed where a T is expected is refused with a
// TypeError instead of being reinterpreted.
template <typename T>
const napi_type_tag* TypeTagOf() {
  static const napi_type_tag tag{reinterpret_cast<uint64_t>(&tag), 0x766b616c6c6f6321ULL};
  return &tag;
}

// The class's name in messages (set when the class is registered, addon.cc).
template <typename T>
const char*& TypeNameOf() {
  static const char* name = "object of the right class";
  return name;
}

template <typename T>
void TagAs(Napi::Env env, Napi::Object object) {
  napi_type_tag_object(env, object, TypeTagOf<T>());
}

template <typename T>
T* UnwrapAs(Napi::Value value, const char* what = "argument") {
  bool ok = false;
  if (value.IsObject()) napi_check_object_type_tag(value.Env(), value, TypeTagOf<T>(), &ok);
  if (!ok) throw Napi::TypeError::New(value.Env(), std::string("Expected a ") + TypeNameOf<T>() + " for " + what);
  return T::Unwrap(value.As<Napi::Object>());
}

template <typename T>
T* NewWrapped(Napi::Env env, Napi::FunctionReference& ctor) {
  AddonData* data = AddonData::Get(env);
  Napi::Object obj = ctor.New({Napi::External<AddonData>::New(env, data)});
  return T::Unwrap(obj);
}

}  // namespace vkalloc
