// VkPhysicalDevice: properties, memory types, queue families, and vkCreateDevice.
// Owned by its Instance (invalidated with it); parent of the Devices made from it.
#pragma once
#include "vulkan/resource.h"

namespace vkalloc {

class Instance;

class PhysicalDevice : public WrappedResource<PhysicalDevice> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit PhysicalDevice(const Napi::CallbackInfo& info) : WrappedResource(info, "PhysicalDevice") {}
  static PhysicalDevice* Wrap(Napi::Env env, Instance* instance, VkPhysicalDevice handle);

  VkPhysicalDevice Handle() const { return handle_; }
  Instance* Owner() const { return instance_; }

 private:
  Napi::Value Properties(const Napi::CallbackInfo& info);
  Napi::Value MemoryProperties(const Napi::CallbackInfo& info);
  Napi::Value QueueFamilies(const Napi::CallbackInfo& info);
  Napi::Value CreateDevice(const Napi::CallbackInfo& info);
  // Issue 5: optional features a compute workload may enable, and format support.
  Napi::Value Features(const Napi::CallbackInfo& info);
  Napi::Value FormatProperties(const Napi::CallbackInfo& info);
  void DestroyHandle() override {}  // physical devices are not destroyed, only forgotten

  Instance* instance_ = nullptr;
  VkPhysicalDevice handle_ = VK_NULL_HANDLE;
};

}  // namespace vkalloc
