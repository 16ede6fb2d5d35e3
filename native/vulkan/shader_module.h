// VkShaderModule from SPIR-V words (lib/vulkan/shader-module.ts has checked they are SPIR-V).
#pragma once
#include "vulkan/resource.h"

namespace vkalloc {

class Device;

class ShaderModule : public WrappedResource<ShaderModule> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit ShaderModule(const Napi::CallbackInfo& info) : WrappedResource(info, "ShaderModule") {}
  // device.createShaderModule({ code: Uint32Array }, allocator)
  static Napi::Value Create(const Napi::CallbackInfo& info, Device* device);
  VkShaderModule Handle() const { return handle_; }

 private:
  void DestroyHandle() override;

  Device* device_ = nullptr;
  VkShaderModule handle_ = VK_NULL_HANDLE;
};

}  // namespace vkalloc
