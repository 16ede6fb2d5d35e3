#include "vulkan/pipeline.h"
#include "bridge/command_scope.h"
#include "vulkan/descriptor.h"
#include "vulkan/device.h"
#include "bridge/js_args.h"
#include "vulkan/shader_module.h"

namespace vkalloc {

// ---- PipelineLayout ----

Napi::Function PipelineLayout::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> props;
  AddCommonMembers(props);
  return DefineClass(env, "PipelineLayout", props);
}

Napi::Value PipelineLayout::Create(const Napi::CallbackInfo& info, Device* device) {
  Napi::Env env = info.Env();
  Napi::Object opts = info[0].As<Napi::Object>();
  std::vector<VkDescriptorSetLayout> setLayouts;
  for (DescriptorSetLayout* l : UnwrapAll<DescriptorSetLayout>(opts.Get("setLayouts"))) {
    l->CheckAlive(env);
    setLayouts.push_back(l->Handle());
  }
  Napi::Array ranges = opts.Get("pushConstantRanges").As<Napi::Array>();
  std::vector<VkPushConstantRange> pushRanges(ranges.Length());
  for (uint32_t i = 0; i < ranges.Length(); i++) {
    Napi::Object r = ranges.Get(i).As<Napi::Object>();
    pushRanges[i] = {U32(r.Get("stages")), U32(r.Get("offset")), U32(r.Get("size"))};
  }
  VkPipelineLayoutCreateInfo ci{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  ci.setLayoutCount = static_cast<uint32_t>(setLayouts.size());
  ci.pSetLayouts = setLayouts.data();
  ci.pushConstantRangeCount = static_cast<uint32_t>(pushRanges.size());
  ci.pPushConstantRanges = pushRanges.data();
  PipelineLayout* layout = Prepare<PipelineLayout>(env, AddonData::Get(env)->pipelineLayoutCtor, info[1]);
  VkPipelineLayout handle = VK_NULL_HANDLE;
  {
    CommandScope scope(env, "vkCreatePipelineLayout");
    scope.Check(device->Dispatch().vkCreatePipelineLayout(device->Handle(), &ci, layout->Callbacks(), &handle));
  }
  layout->device_ = device;
  layout->handle_ = handle;
  layout->Attach(device);
  return layout->Value();
}

void PipelineLayout::DestroyHandle() {
  CommandScope scope(data_, "vkDestroyPipelineLayout");
  device_->Dispatch().vkDestroyPipelineLayout(device_->Handle(), handle_, Callbacks());
  handle_ = VK_NULL_HANDLE;
}

// ---- PipelineCache ----

Napi::Function PipelineCache::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> props = {InstanceMethod<&PipelineCache::Data>("data", napi_default_method)};
  AddCommonMembers(props);
  return DefineClass(env, "PipelineCache", props);
}

Napi::Value PipelineCache::Create(const Napi::CallbackInfo& info, Device* device) {
  Napi::Env env = info.Env();
  Bytes initial = BytesOf(info[0].As<Napi::Object>().Get("initialData"));
  VkPipelineCacheCreateInfo ci{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
  ci.initialDataSize = initial.size;
  ci.pInitialData = initial.data;
  PipelineCache* cache = Prepare<PipelineCache>(env, AddonData::Get(env)->pipelineCacheCtor, info[1]);
  VkPipelineCache handle = VK_NULL_HANDLE;
  {
    CommandScope scope(env, "vkCreatePipelineCache");
    scope.Check(device->Dispatch().vkCreatePipelineCache(device->Handle(), &ci, cache->Callbacks(), &handle));
  }
  cache->device_ = device;
  cache->handle_ = handle;
  cache->Attach(device);
  return cache->Value();
}

Napi::Value PipelineCache::Data(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  const DeviceDispatch& vk = device_->Dispatch();
  CommandScope scope(env, "vkGetPipelineCacheData");
  std::vector<uint8_t> bytes;
  // The size can grow between the two calls if another thread adds to the cache: retry on VK_INCOMPLETE.
  for (;;) {
    size_t size = 0;
    scope.Check(vk.vkGetPipelineCacheData(device_->Handle(), handle_, &size, nullptr));
    bytes.resize(size);
    VkResult result = scope.Check(vk.vkGetPipelineCacheData(device_->Handle(), handle_, &size, bytes.data()));
    bytes.resize(size);
    if (result != VK_INCOMPLETE) break;
  }
  return Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size());
}

void PipelineCache::DestroyHandle() {
  CommandScope scope(data_, "vkDestroyPipelineCache");
  device_->Dispatch().vkDestroyPipelineCache(device_->Handle(), handle_, Callbacks());
  handle_ = VK_NULL_HANDLE;
}

// ---- Pipeline ----

Napi::Function Pipeline::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> props;
  AddCommonMembers(props);
  return DefineClass(env, "Pipeline", props);
}

Napi::Value Pipeline::CreateCompute(const Napi::CallbackInfo& info, Device* device) {
  Napi::Env env = info.Env();
  Napi::Object opts = info[0].As<Napi::Object>();
  PipelineLayout* layout = UnwrapAs<PipelineLayout>(opts.Get("layout"));
  ShaderModule* module = UnwrapAs<ShaderModule>(opts.Get("module"));
  layout->CheckAlive(env);
  module->CheckAlive(env);
  VkPipelineCache cache = VK_NULL_HANDLE;
  if (opts.Get("cache").IsObject()) {
    PipelineCache* c = UnwrapAs<PipelineCache>(opts.Get("cache"));
    c->CheckAlive(env);
    cache = c->Handle();
  }
  std::string entryPoint = opts.Get("entryPoint").As<Napi::String>().Utf8Value();

  // Specialization: map entries { id, offset, size } into one data block.
  std::vector<VkSpecializationMapEntry> entries;
  std::vector<uint8_t> specData;
  VkSpecializationInfo spec{};
  Napi::Value specialization = opts.Get("specialization");
  if (specialization.IsObject()) {
    Napi::Object s = specialization.As<Napi::Object>();
    Napi::Array list = s.Get("entries").As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); i++) {
      Napi::Object e = list.Get(i).As<Napi::Object>();
      entries.push_back({U32(e.Get("id")), U32(e.Get("offset")), static_cast<size_t>(U32(e.Get("size")))});
    }
    Bytes bytes = BytesOf(s.Get("data"));
    specData.assign(bytes.data, bytes.data + bytes.size);
    spec.mapEntryCount = static_cast<uint32_t>(entries.size());
    spec.pMapEntries = entries.data();
    spec.dataSize = specData.size();
    spec.pData = specData.data();
  }

  VkComputePipelineCreateInfo ci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  ci.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
  ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  ci.stage.module = module->Handle();
  ci.stage.pName = entryPoint.c_str();
  ci.stage.pSpecializationInfo = specialization.IsObject() ? &spec : nullptr;
  ci.layout = layout->Handle();
  ci.basePipelineIndex = -1;
  Pipeline* pipeline = Prepare<Pipeline>(env, AddonData::Get(env)->pipelineCtor, info[1]);
  VkPipeline handle = VK_NULL_HANDLE;
  {
    CommandScope scope(env, "vkCreateComputePipelines");
    scope.Check(
        device->Dispatch().vkCreateComputePipelines(device->Handle(), cache, 1, &ci, pipeline->Callbacks(), &handle));
  }
  pipeline->device_ = device;
  pipeline->handle_ = handle;
  pipeline->Attach(device);
  return pipeline->Value();
}

void Pipeline::DestroyHandle() {
  CommandScope scope(data_, "vkDestroyPipeline");
  device_->Dispatch().vkDestroyPipeline(device_->Handle(), handle_, Callbacks());
  handle_ = VK_NULL_HANDLE;
}

}  // namespace vkalloc
