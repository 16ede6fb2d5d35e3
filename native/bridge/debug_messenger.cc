#include "bridge/debug_messenger.h"

namespace vkalloc {

std::shared_ptr<ValidationSink> ValidationSink::Create(Napi::Env env, Napi::Value notify) {
  auto sink = std::make_shared<ValidationSink>();
  sink->data_ = AddonData::Get(env);
  if (notify.IsFunction()) {
    // The thread-safe function holds a reference of its own, released in Finalize.
    auto* hold = new std::shared_ptr<ValidationSink>(sink);
    napi_status status =
        napi_create_threadsafe_function(env, notify, nullptr, Napi::String::New(env, "vkalloc validation messages"), 0,
                                        1, hold, Finalize, hold, CallJs, &sink->tsfn_);
    if (status != napi_ok) {
      delete hold;
      throw Napi::Error::New(env, "Could not create the validation message notifier");
    }
    napi_unref_threadsafe_function(env, sink->tsfn_);  // never keeps the process alive
  }
  return sink;
}

ValidationSink::~ValidationSink() = default;

VkDebugUtilsMessengerCreateInfoEXT ValidationSink::CreateInfo(VkDebugUtilsMessageSeverityFlagsEXT severities,
                                                              VkDebugUtilsMessageTypeFlagsEXT types) {
  VkDebugUtilsMessengerCreateInfoEXT ci{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
  ci.messageSeverity = severities;
  ci.messageType = types;
  ci.pfnUserCallback = Callback;
  ci.pUserData = this;
  return ci;
}

VkBool32 VKAPI_PTR ValidationSink::Callback(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                            VkDebugUtilsMessageTypeFlagsEXT types,
                                            const VkDebugUtilsMessengerCallbackDataEXT* data, void* user) {
  auto* sink = static_cast<ValidationSink*>(user);
  try {  // no C++ exception (a std::bad_alloc) may cross the layer's frames
    Message m{severity,
              types,
              data && data->pMessageIdName ? data->pMessageIdName : "",
              data ? data->messageIdNumber : 0,
              data && data->pMessage ? data->pMessage : "",
              ""};
    // The running command is only meaningful (and only safe to read) on the JS thread.
    if (sink->data_->OnJsThread() && sink->data_->currentCommand) m.command = sink->data_->currentCommand;
    if (offThreadCommand) m.command = offThreadCommand;  // an asynchronous wait's thread (vulkan/device.cc)
    std::lock_guard<std::mutex> lock(sink->mu_);
    sink->pending_.push_back(std::move(m));
    if (sink->tsfn_ && !sink->notifyQueued_) {
      // Non-blocking: queues a call for the event loop; never runs JS here.
      if (napi_call_threadsafe_function(sink->tsfn_, nullptr, napi_tsfn_nonblocking) == napi_ok)
        sink->notifyQueued_ = true;
    }
  } catch (...) {
  }
  return VK_FALSE;  // the Vulkan call goes on
}

void ValidationSink::CallJs(napi_env env, napi_value fn, void* context, void* data) {
  // Calls still queued when the function is closed come with a null env, after Finalize
  // has already dropped `context`: nothing to do, and nothing to touch.
  if (env == nullptr || fn == nullptr) return;
  auto* sink = static_cast<std::shared_ptr<ValidationSink>*>(context)->get();
  {
    std::lock_guard<std::mutex> lock(sink->mu_);
    sink->notifyQueued_ = false;
  }
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  napi_value result;
  // An exception from the notifier becomes an uncaught exception, as for any callback;
  // in a stopping worker there is none to report (and JS can no longer run).
  if (napi_call_function(env, undefined, fn, 0, nullptr, &result) == napi_pending_exception) {
    napi_value error = nullptr;
    bool pending = false;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &error);
    if (error && JsRunnable(env)) napi_fatal_exception(env, error);
  }
}

void ValidationSink::Finalize(napi_env env, void* finalizeData, void* hint) {
  auto* hold = static_cast<std::shared_ptr<ValidationSink>*>(finalizeData);
  {
    std::lock_guard<std::mutex> lock((*hold)->mu_);
    (*hold)->tsfn_ = nullptr;
  }
  delete hold;
}

void ValidationSink::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (tsfn_) napi_release_threadsafe_function(tsfn_, napi_tsfn_abort);
  tsfn_ = nullptr;  // Finalize (run later by Node) drops its reference
}

static const char* SeverityName(VkDebugUtilsMessageSeverityFlagBitsEXT s) {
  switch (s) {
    case VK_DEBUG_UTILS_MESSAGE_SEVERITY_VERBOSE_BIT_EXT:
      return "verbose";
    case VK_DEBUG_UTILS_MESSAGE_SEVERITY_INFO_BIT_EXT:
      return "info";
    case VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT:
      return "warning";
    default:
      return "error";
  }
}

Napi::Array ValidationSink::Take(Napi::Env env) {
  std::vector<Message> taken;
  {
    std::lock_guard<std::mutex> lock(mu_);
    taken.swap(pending_);
  }
  Napi::Array out = Napi::Array::New(env, taken.size());
  for (size_t i = 0; i < taken.size(); i++) {
    const Message& m = taken[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("severity", SeverityName(m.severity));
    Napi::Array types = Napi::Array::New(env);
    if (m.types & VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT) types.Set(types.Length(), "general");
    if (m.types & VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT) types.Set(types.Length(), "validation");
    if (m.types & VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT) types.Set(types.Length(), "performance");
    o.Set("types", types);
    o.Set("id", m.id);
    o.Set("idNumber", m.idNumber);
    o.Set("message", m.message);
    o.Set("command", m.command.empty() ? env.Null() : Napi::String::New(env, m.command));
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}

}  // namespace vkalloc
