// VkInstance, the global (pre-instance) queries, and driver selection.
#pragma once
#include <memory>
#include "vulkan/resource.h"

namespace vkalloc {

class PhysicalDevice;
class ValidationSink;

class Instance : public WrappedResource<Instance> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Instance(const Napi::CallbackInfo& info) : WrappedResource(info, "Instance") {}

  // Module functions.
  static Napi::Value Create(const Napi::CallbackInfo& info);
  static Napi::Value LoaderStatus(const Napi::CallbackInfo& info);
  static Napi::Value Layers(const Napi::CallbackInfo& info);
  static Napi::Value Extensions(const Napi::CallbackInfo& info);

  VkInstance Handle() const { return handle_; }
  const InstanceDispatch& Dispatch() const { return dispatch_; }

 private:
  Napi::Value PhysicalDevices(const Napi::CallbackInfo& info);
  // Validation messages collected since the last call (also after destroy: messages
  // from vkDestroyInstance come last). Empty when validation is off.
  Napi::Value TakeValidationMessages(const Napi::CallbackInfo& info);
  void DestroyHandle() override;

  VkInstance handle_ = VK_NULL_HANDLE;
  InstanceDispatch dispatch_;
  std::vector<Napi::ObjectReference> physicalDevices_;  // enumerated once, same wrappers each call
  // With validation: the messages, and the messenger (made with the instance's
  // allocator, destroyed before the instance).
  std::shared_ptr<ValidationSink> validation_;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
};

// Opens the loader or throws an Error naming the Debian package to install.
Loader& RequireLoader(Napi::Env env);

}  // namespace vkalloc
