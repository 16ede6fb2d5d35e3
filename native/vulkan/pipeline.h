// Pipelines: VkPipelineLayout (descriptor set layouts and push-constant ranges),
// compute VkPipeline (with specialization constants) and VkPipelineCache (created
// from and serialized to bytes).
#pragma once
#include "vulkan/resource.h"

namespace vkalloc {

class Device;

class PipelineLayout : public WrappedResource<PipelineLayout> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit PipelineLayout(const Napi::CallbackInfo& info) : WrappedResource(info, "PipelineLayout") {}
  // device.createPipelineLayout({ setLayouts, pushConstantRanges: [{ stages, offset, size }] }, allocator)
  static Napi::Value Create(const Napi::CallbackInfo& info, Device* device);
  VkPipelineLayout Handle() const { return handle_; }

 private:
  void DestroyHandle() override;

  Device* device_ = nullptr;
  VkPipelineLayout handle_ = VK_NULL_HANDLE;
};

class PipelineCache : public WrappedResource<PipelineCache> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit PipelineCache(const Napi::CallbackInfo& info) : WrappedResource(info, "PipelineCache") {}
  // device.createPipelineCache({ initialData: Uint8Array | null }, allocator)
  static Napi::Value Create(const Napi::CallbackInfo& info, Device* device);
  VkPipelineCache Handle() const { return handle_; }

 private:
  // vkGetPipelineCacheData, as a Node Buffer (a copy).
  Napi::Value Data(const Napi::CallbackInfo& info);
  void DestroyHandle() override;

  Device* device_ = nullptr;
  VkPipelineCache handle_ = VK_NULL_HANDLE;
};

class Pipeline : public WrappedResource<Pipeline> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Pipeline(const Napi::CallbackInfo& info) : WrappedResource(info, "Pipeline") {}
  // device.createComputePipeline({ layout, module, entryPoint, specialization, cache }, allocator)
  static Napi::Value CreateCompute(const Napi::CallbackInfo& info, Device* device);
  VkPipeline Handle() const { return handle_; }

 private:
  void DestroyHandle() override;

  Device* device_ = nullptr;
  VkPipeline handle_ = VK_NULL_HANDLE;
};

}  // namespace vkalloc
