// Per-environment state (main thread and each worker have their own): kept in
// Node-API instance data, never in globals.
#pragma once
#include <napi.h>
#include <atomic>
#include <list>
#include <thread>
#include <unordered_map>
#include <vector>
#include "loader.h"

namespace vkalloc {

class AllocatorBridge;
class Resource;
struct ChunkRecord;

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

  Napi::FunctionReference errorFactory;
  std::unordered_map<void*, ChunkRecord*> chunks;  // live policy chunks (chunk_source.cc)
  Napi::FunctionReference instanceCtor, physicalDeviceCtor, deviceCtor, bufferCtor, memoryCtor, queueCtor, fenceCtor;
  Napi::FunctionReference semaphoreCtor, commandPoolCtor, commandBufferCtor, shaderModuleCtor,
      descriptorSetLayoutCtor, descriptorPoolCtor, descriptorSetCtor, pipelineLayoutCtor, pipelineCacheCtor,
      pipelineCtor, imageCtor, imageViewCtor;

  static AddonData* Get(Napi::Env env) { return env.GetInstanceData<AddonData>(); }
  bool OnJsThread() const { return std::this_thread::get_id() == jsThread; }
};

// Passed as the only constructor argument when native code creates a wrapped
// object, so that `new Instance()` from JS is refused.
inline bool IsConstructionToken(const Napi::CallbackInfo& info, AddonData* data) {
  return info.Length() == 1 && info[0].IsExternal() && info[0].As<Napi::External<AddonData>>().Data() == data;
}

template <typename T>
T* NewWrapped(Napi::Env env, Napi::FunctionReference& ctor) {
  AddonData* data = AddonData::Get(env);
  Napi::Object obj = ctor.New({Napi::External<AddonData>::New(env, data)});
  return T::Unwrap(obj);
}

}  // namespace vkalloc
