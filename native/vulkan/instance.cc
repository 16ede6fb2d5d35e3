#include "vulkan/instance.h"
#include <cstdlib>
#include <mutex>
#include "bridge/command_scope.h"
#include "bridge/debug_messenger.h"
#include "vulkan/physical_device.h"

namespace vkalloc {

namespace {

// The process environment is shared by every worker: selecting drivers through
// VK_DRIVER_FILES must not interleave with another thread's vkCreateInstance.
std::mutex driverEnvMutex;

// Sets the loader's driver variables for the lifetime of this object, then restores them.
class DriverSelection {
 public:
  explicit DriverSelection(const std::string& files) {
    for (const char* name : kNames) {
      const char* old = getenv(name);
      saved_.push_back(old ? std::make_pair(true, std::string(old)) : std::make_pair(false, std::string()));
      setenv(name, files.c_str(), 1);
    }
  }
  ~DriverSelection() {
    for (size_t i = 0; i < 2; i++) {
      if (saved_[i].first)
        setenv(kNames[i], saved_[i].second.c_str(), 1);
      else
        unsetenv(kNames[i]);
    }
  }

 private:
  static constexpr const char* kNames[2] = {"VK_DRIVER_FILES", "VK_ICD_FILENAMES"};
  std::vector<std::pair<bool, std::string>> saved_;
};

std::vector<std::string> StringList(Napi::Value v) {
  std::vector<std::string> out;
  if (!v.IsArray()) return out;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(a.Get(i).As<Napi::String>().Utf8Value());
  return out;
}

}  // namespace

Loader& RequireLoader(Napi::Env env) {
  Loader& loader = AddonData::Get(env)->loader;
  if (!loader.Open()) {
    throw Napi::Error::New(env, "The Vulkan loader (" + loader.LibraryName() +
                                    ") could not be loaded: " + loader.Error() +
                                    ". Install it with: apt-get install libvulkan1 mesa-vulkan-drivers");
  }
  return loader;
}

Napi::Function Instance::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> props = {
      InstanceMethod<&Instance::PhysicalDevices>("physicalDevices", napi_default_method),
      InstanceMethod<&Instance::TakeValidationMessages>("takeValidationMessages", napi_default_method),
  };
  AddCommonMembers(props);
  return DefineClass(env, "Instance", props);
}

Napi::Value Instance::Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Loader& loader = RequireLoader(env);
  Napi::Object opts = info[0].As<Napi::Object>();
  std::string appName = opts.Get("applicationName").As<Napi::String>().Utf8Value();
  std::string engineName = opts.Get("engineName").As<Napi::String>().Utf8Value();
  std::vector<std::string> layers = StringList(opts.Get("layers"));
  std::vector<std::string> extensions = StringList(opts.Get("extensions"));
  Napi::Value driverFiles = opts.Get("driverFiles");

  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = appName.c_str();
  app.applicationVersion = opts.Get("applicationVersion").As<Napi::Number>().Uint32Value();
  app.pEngineName = engineName.c_str();
  app.engineVersion = 1;
  app.apiVersion = opts.Get("apiVersion").As<Napi::Number>().Uint32Value();
  std::vector<const char*> layerPtrs, extensionPtrs;
  for (auto& s : layers) layerPtrs.push_back(s.c_str());
  for (auto& s : extensions) extensionPtrs.push_back(s.c_str());
  VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  Napi::Value flags = opts.Get("flags");  // checked by lib/vulkan/instance.ts; absent means none
  ci.flags = flags.IsNumber() ? flags.As<Napi::Number>().Uint32Value() : 0;
  ci.pApplicationInfo = &app;
  ci.enabledLayerCount = static_cast<uint32_t>(layerPtrs.size());
  ci.ppEnabledLayerNames = layerPtrs.data();
  ci.enabledExtensionCount = static_cast<uint32_t>(extensionPtrs.size());
  ci.ppEnabledExtensionNames = extensionPtrs.data();

  Instance* instance = Prepare<Instance>(env, AddonData::Get(env)->instanceCtor, info[1]);
  const VkAllocationCallbacks* callbacks = instance->Callbacks();

  // Validation (lib/vulkan/instance.ts has added the layer and VK_EXT_debug_utils): the same
  // messenger info in pNext also catches messages of vkCreateInstance/vkDestroyInstance.
  Napi::Value validation = opts.Get("validation");
  std::shared_ptr<ValidationSink> sink;
  VkDebugUtilsMessengerCreateInfoEXT messengerInfo{};
  if (validation.IsObject()) {
    Napi::Object v = validation.As<Napi::Object>();
    sink = ValidationSink::Create(env, v.Get("notify"));
    messengerInfo = sink->CreateInfo(v.Get("severities").As<Napi::Number>().Uint32Value(),
                                     v.Get("types").As<Napi::Number>().Uint32Value());
    ci.pNext = &messengerInfo;
  }

  VkInstance handle = VK_NULL_HANDLE;
  {
    CommandScope scope(env, "vkCreateInstance");
    VkResult result;
    if (driverFiles.IsArray()) {
      std::string joined;
      for (auto& f : StringList(driverFiles)) joined += (joined.empty() ? "" : ":") + f;
      std::lock_guard<std::mutex> lock(driverEnvMutex);
      DriverSelection selection(joined);
      result = loader.vkCreateInstance(&ci, callbacks, &handle);
    } else {
      std::lock_guard<std::mutex> lock(driverEnvMutex);
      result = loader.vkCreateInstance(&ci, callbacks, &handle);
    }
    if (result < 0 && sink) sink->Close();
    scope.Check(result);
  }
  instance->handle_ = handle;
  loader.LoadInstance(handle, &instance->dispatch_);
  instance->validation_ = sink;
  instance->Attach(nullptr);
  if (sink) {
    VkResult result = VK_ERROR_EXTENSION_NOT_PRESENT;
    {
      CommandScope scope(env, "vkCreateDebugUtilsMessengerEXT");
      if (instance->dispatch_.vkCreateDebugUtilsMessengerEXT) {
        result = instance->dispatch_.vkCreateDebugUtilsMessengerEXT(handle, &messengerInfo, callbacks,
                                                                    &instance->messenger_);
      }
      if (result < 0) instance->Destroy();
      scope.Check(result);
    }
  }
  return instance->Value();
}

Napi::Value Instance::PhysicalDevices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  if (physicalDevices_.empty()) {
    CommandScope scope(env, "vkEnumeratePhysicalDevices");
    uint32_t count = 0;
    scope.Check(dispatch_.vkEnumeratePhysicalDevices(handle_, &count, nullptr));
    std::vector<VkPhysicalDevice> handles(count);
    scope.Check(dispatch_.vkEnumeratePhysicalDevices(handle_, &count, handles.data()));
    handles.resize(count);
    for (VkPhysicalDevice h : handles) {
      PhysicalDevice* pd = PhysicalDevice::Wrap(env, this, h);
      physicalDevices_.push_back(Napi::Persistent(pd->Value()));
    }
  }
  Napi::Array out = Napi::Array::New(env, physicalDevices_.size());
  for (size_t i = 0; i < physicalDevices_.size(); i++) out.Set(static_cast<uint32_t>(i), physicalDevices_[i].Value());
  return out;
}

Napi::Value Instance::TakeValidationMessages(const Napi::CallbackInfo& info) {
  return validation_ ? validation_->Take(info.Env()) : Napi::Array::New(info.Env());
}

void Instance::DestroyHandle() {
  if (messenger_ != VK_NULL_HANDLE) {
    CommandScope scope(data_, "vkDestroyDebugUtilsMessengerEXT");
    dispatch_.vkDestroyDebugUtilsMessengerEXT(handle_, messenger_, Callbacks());
    messenger_ = VK_NULL_HANDLE;
  }
  {
    CommandScope scope(data_, "vkDestroyInstance");
    dispatch_.vkDestroyInstance(handle_, Callbacks());
  }
  handle_ = VK_NULL_HANDLE;
  physicalDevices_.clear();
  if (validation_) validation_->Close();  // its messages stay for takeValidationMessages()
}

Napi::Value Instance::LoaderStatus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Loader& loader = AddonData::Get(env)->loader;
  bool found = loader.Open();
  Napi::Object o = Napi::Object::New(env);
  o.Set("found", found);
  o.Set("library", loader.LibraryName());
  o.Set("error", found ? env.Null() : Napi::String::New(env, loader.Error()));
  uint32_t version = 0;
  if (found && loader.vkEnumerateInstanceVersion && loader.vkEnumerateInstanceVersion(&version) == VK_SUCCESS) {
    o.Set("instanceVersion", version);
  } else {
    o.Set("instanceVersion", env.Null());
  }
  return o;
}

Napi::Value Instance::Layers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Loader& loader = RequireLoader(env);
  CommandScope scope(env, "vkEnumerateInstanceLayerProperties");
  uint32_t count = 0;
  scope.Check(loader.vkEnumerateInstanceLayerProperties(&count, nullptr));
  std::vector<VkLayerProperties> props(count);
  scope.Check(loader.vkEnumerateInstanceLayerProperties(&count, props.data()));
  Napi::Array out = Napi::Array::New(env, count);
  for (uint32_t i = 0; i < count; i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", props[i].layerName);
    o.Set("specVersion", props[i].specVersion);
    o.Set("implementationVersion", props[i].implementationVersion);
    o.Set("description", props[i].description);
    out.Set(i, o);
  }
  return out;
}

Napi::Value Instance::Extensions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Loader& loader = RequireLoader(env);
  std::string layer = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  const char* layerName = info[0].IsString() ? layer.c_str() : nullptr;
  CommandScope scope(env, "vkEnumerateInstanceExtensionProperties");
  uint32_t count = 0;
  scope.Check(loader.vkEnumerateInstanceExtensionProperties(layerName, &count, nullptr));
  std::vector<VkExtensionProperties> props(count);
  scope.Check(loader.vkEnumerateInstanceExtensionProperties(layerName, &count, props.data()));
  Napi::Array out = Napi::Array::New(env, count);
  for (uint32_t i = 0; i < count; i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", props[i].extensionName);
    o.Set("specVersion", props[i].specVersion);
    out.Set(i, o);
  }
  return out;
}

}  // namespace vkalloc
