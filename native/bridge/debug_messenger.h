// The validation layer's messages (VK_EXT_debug_utils), collected natively and handed
// to JS only on the JS thread and never from inside a Vulkan call:
//   - the layer calls Callback() during Vulkan commands, normally on the calling
//     (JS) thread but possibly on a driver's thread: it only appends to a locked list,
//     noting which vkalloc command was running when it was on the JS thread;
//   - JS drains the list (Take()) when it asks for messages, and is told there are new
//     ones through a thread-safe function, which Node runs from its event loop after
//     the current command (and the JS around it) has returned.
#pragma once
#include <napi.h>
#include <vulkan/vulkan.h>
#include <memory>
#include <mutex>
#include <string>
#include <vector>
#include "bridge/addon_data.h"

namespace vkalloc {

class ValidationSink {
 public:
  // `notify` (may be empty): called with no arguments, from the event loop, when messages arrive.
  static std::shared_ptr<ValidationSink> Create(Napi::Env env, Napi::Value notify);
  ~ValidationSink();

  // For vkCreateDebugUtilsMessengerEXT and VkInstanceCreateInfo::pNext (this sink is pUserData).
  VkDebugUtilsMessengerCreateInfoEXT CreateInfo(VkDebugUtilsMessageSeverityFlagsEXT severities,
                                                VkDebugUtilsMessageTypeFlagsEXT types);
  // The messages not taken yet, as JS objects { severity, types, id, idNumber, message, command }.
  Napi::Array Take(Napi::Env env);
  // No more notifications (the instance is gone); messages can still be taken.
  void Close();

 private:
  struct Message {
    VkDebugUtilsMessageSeverityFlagBitsEXT severity;
    VkDebugUtilsMessageTypeFlagsEXT types;
    std::string id;
    int32_t idNumber;
    std::string message;
    std::string command;  // empty: not on the JS thread, or outside any command
  };
  static VkBool32 VKAPI_PTR Callback(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                     VkDebugUtilsMessageTypeFlagsEXT types,
                                     const VkDebugUtilsMessengerCallbackDataEXT* data, void* user);
  static void CallJs(napi_env env, napi_value fn, void* context, void* data);
  static void Finalize(napi_env env, void* finalizeData, void* hint);

  AddonData* data_ = nullptr;
  std::mutex mu_;
  std::vector<Message> pending_;
  napi_threadsafe_function tsfn_ = nullptr;  // null once closed or finalized by Node
  bool notifyQueued_ = false;
};

}  // namespace vkalloc
