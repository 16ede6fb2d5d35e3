// Module entry: per-environment state, class registration, teardown.
#include <napi.h>
#include <string>
#include "bridge/addon_data.h"
#include "bridge/allocator_bridge.h"
#include "bridge/attach.h"
#include "vulkan/buffer.h"
#include "vulkan/command_pool.h"
#include "bridge/chunk_source.h"
#include "vulkan/descriptor.h"
#include "vulkan/device.h"
#include "vulkan/fence.h"
#include "vulkan/image.h"
#include "vulkan/instance.h"
#include "vulkan/memory.h"
#include "vulkan/physical_device.h"
#include "vulkan/pipeline.h"
#include "vulkan/queue.h"
#include "vulkan/resource.h"
#include "vulkan/semaphore.h"
#include "vulkan/shader_module.h"

namespace vkalloc {

Napi::Object Boundary(Napi::Env env);  // boundary.cc
#ifdef VKALLOC_TEST_HOOKS
Napi::Object TestDriver(Napi::Env env);  // native/test/test_driver.cc
#endif

namespace {

// Runs before Node-API finalizes wrapped objects (hooks run newest first, and
// Node-API registered its own before this module loaded): objects the program never
// destroyed are destroyed here, children first, while their parents still exist;
// then the policy chunks they lived in are freed (chunk_source.cc). No JS may run
// now, so callbacks are served natively. Nothing may throw out of a cleanup hook
// (the process would abort): an object whose destruction throws is left behind.
void Teardown(void* arg) {
  auto* data = static_cast<AddonData*>(arg);
  data->jsCallable = false;
  napi_handle_scope scope;  // destroying touches handles (e.g. detaching a mapping)
  napi_open_handle_scope(data->env, &scope);
  try {
    Device::IdleForTeardown(data);  // nothing may be destroyed under GPU work still in flight
  } catch (...) {
  }
  while (!data->roots.empty()) {
    Resource* root = data->roots.back();
    try {
      root->Destroy();
    } catch (...) {
      if (!data->roots.empty() && data->roots.back() == root) data->roots.pop_back();
    }
  }
  FreeAllChunks(data);
  napi_close_handle_scope(data->env, scope);
}

// holdLoadedLibrary(path): HoldLoadedLibrary (bridge/loader.h) for JS.
Napi::Value JsHoldLoadedLibrary(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) throw Napi::TypeError::New(info.Env(), "holdLoadedLibrary needs a library path");
  return Napi::Boolean::New(info.Env(), HoldLoadedLibrary(info[0].As<Napi::String>().Utf8Value()));
}

Napi::Value CurrentCommand(const Napi::CallbackInfo& info) {
  const char* command = AddonData::Get(info.Env())->currentCommand;
  return command ? Napi::Value(Napi::String::New(info.Env(), command)) : info.Env().Null();
}

Napi::Value SetErrorFactory(const Napi::CallbackInfo& info) {
  AddonData::Get(info.Env())->errorFactory = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

template <typename T>
void Register(Napi::Env env, Napi::Object exports, const char* name, Napi::FunctionReference* ctor) {
  Napi::Function fn = T::Define(env);
  TypeNameOf<T>() = name;
  if (ctor) *ctor = Napi::Persistent(fn);
  exports.Set(name, fn);
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData(env);
  env.SetInstanceData(data);
  napi_add_env_cleanup_hook(env, Teardown, data);

  Register<AllocatorBridge>(env, exports, "AllocatorBridge", nullptr);
  TypeNameOf<AllocatorBridge>() = "HostAllocator";  // what users know it as
  Register<Instance>(env, exports, "Instance", &data->instanceCtor);
  Register<PhysicalDevice>(env, exports, "PhysicalDevice", &data->physicalDeviceCtor);
  Register<Device>(env, exports, "Device", &data->deviceCtor);
  Register<Buffer>(env, exports, "Buffer", &data->bufferCtor);
  Register<DeviceMemory>(env, exports, "DeviceMemory", &data->memoryCtor);
  Register<Queue>(env, exports, "Queue", &data->queueCtor);
  Register<Fence>(env, exports, "Fence", &data->fenceCtor);
  Register<Semaphore>(env, exports, "Semaphore", &data->semaphoreCtor);
  Register<CommandPool>(env, exports, "CommandPool", &data->commandPoolCtor);
  Register<CommandBuffer>(env, exports, "CommandBuffer", &data->commandBufferCtor);
  Register<ShaderModule>(env, exports, "ShaderModule", &data->shaderModuleCtor);
  Register<DescriptorSetLayout>(env, exports, "DescriptorSetLayout", &data->descriptorSetLayoutCtor);
  Register<DescriptorPool>(env, exports, "DescriptorPool", &data->descriptorPoolCtor);
  Register<DescriptorSet>(env, exports, "DescriptorSet", &data->descriptorSetCtor);
  Register<PipelineLayout>(env, exports, "PipelineLayout", &data->pipelineLayoutCtor);
  Register<PipelineCache>(env, exports, "PipelineCache", &data->pipelineCacheCtor);
  Register<Pipeline>(env, exports, "Pipeline", &data->pipelineCtor);
  Register<Image>(env, exports, "Image", &data->imageCtor);
  Register<ImageView>(env, exports, "ImageView", &data->imageViewCtor);

  exports.Set("createInstance", Napi::Function::New<Instance::Create>(env, "createInstance"));
  exports.Set("loaderStatus", Napi::Function::New<Instance::LoaderStatus>(env, "loaderStatus"));
  exports.Set("instanceLayers", Napi::Function::New<Instance::Layers>(env, "instanceLayers"));
  exports.Set("instanceExtensions", Napi::Function::New<Instance::Extensions>(env, "instanceExtensions"));
  exports.Set("currentCommand", Napi::Function::New<CurrentCommand>(env, "currentCommand"));
  exports.Set("holdLoadedLibrary", Napi::Function::New<JsHoldLoadedLibrary>(env, "holdLoadedLibrary"));
  exports.Set("setErrorFactory", Napi::Function::New<SetErrorFactory>(env, "setErrorFactory"));
  exports.Set("chunkObtain", Napi::Function::New<ChunkObtain>(env, "chunkObtain"));
  exports.Set("chunkRelease", Napi::Function::New<ChunkRelease>(env, "chunkRelease"));
  exports.Set("attachLayer", Napi::Function::New<AttachLayer>(env, "attachLayer"));
  exports.Set("detachLayer", Napi::Function::New<DetachLayer>(env, "detachLayer"));
  exports.Set("layerAttachments", Napi::Function::New<LayerAttachments>(env, "layerAttachments"));
  exports.Set("boundary", Boundary(env));
  exports.Set("chunkStats", Napi::Function::New<ChunkStats>(env, "chunkStats"));
  exports.Set("liveObjects", Napi::Function::New<LiveObjects>(env, "liveObjects"));
#ifdef VKALLOC_TEST_HOOKS
  exports.Set("__testDriver", TestDriver(env));
#endif
  return exports;
}

}  // namespace vkalloc

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return vkalloc::Init(env, exports);
}
NODE_API_MODULE(vkalloc, InitModule)
