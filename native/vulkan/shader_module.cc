#include "vulkan/shader_module.h"
#include <cstring>
#include "bridge/command_scope.h"
#include "vulkan/device.h"
#include "bridge/js_args.h"

namespace vkalloc {

Napi::Function ShaderModule::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> props;
  AddCommonMembers(props);
  return DefineClass(env, "ShaderModule", props);
}

Napi::Value ShaderModule::Create(const Napi::CallbackInfo& info, Device* device) {
  Napi::Env env = info.Env();
  Bytes code = BytesOf(info[0].As<Napi::Object>().Get("code"));
  // pCode must be 4-byte aligned: copy when the view is not (a Buffer slice may not be).
  std::vector<uint32_t> aligned;
  const uint32_t* words = reinterpret_cast<const uint32_t*>(code.data);
  if (reinterpret_cast<uintptr_t>(code.data) % alignof(uint32_t) != 0) {
    aligned.resize(code.size / 4);
    memcpy(aligned.data(), code.data, aligned.size() * 4);
    words = aligned.data();
  }
  VkShaderModuleCreateInfo ci{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
  ci.codeSize = code.size;
  ci.pCode = words;
  ShaderModule* module = Prepare<ShaderModule>(env, AddonData::Get(env)->shaderModuleCtor, info[1]);
  VkShaderModule handle = VK_NULL_HANDLE;
  {
    CommandScope scope(env, "vkCreateShaderModule");
    scope.Check(device->Dispatch().vkCreateShaderModule(device->Handle(), &ci, module->Callbacks(), &handle));
  }
  module->device_ = device;
  module->handle_ = handle;
  module->Attach(device);
  return module->Value();
}

void ShaderModule::DestroyHandle() {
  CommandScope scope(data_, "vkDestroyShaderModule");
  device_->Dispatch().vkDestroyShaderModule(device_->Handle(), handle_, Callbacks());
  handle_ = VK_NULL_HANDLE;
}

}  // namespace vkalloc
