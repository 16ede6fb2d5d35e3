#include "vulkan/physical_device.h"
#include "bridge/command_scope.h"
#include "vulkan/device.h"
#include "vulkan/instance.h"

namespace vkalloc {

Napi::Function PhysicalDevice::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> props = {
      InstanceMethod<&PhysicalDevice::Properties>("properties", napi_default_method),
      InstanceMethod<&PhysicalDevice::MemoryProperties>("memoryProperties", napi_default_method),
      InstanceMethod<&PhysicalDevice::QueueFamilies>("queueFamilies", napi_default_method),
      InstanceMethod<&PhysicalDevice::CreateDevice>("createDevice", napi_default_method),
      InstanceMethod<&PhysicalDevice::Features>("features", napi_default_method),
      InstanceMethod<&PhysicalDevice::FormatProperties>("formatProperties", napi_default_method),
  };
  AddCommonMembers(props);
  return DefineClass(env, "PhysicalDevice", props);
}

PhysicalDevice* PhysicalDevice::Wrap(Napi::Env env, Instance* instance, VkPhysicalDevice handle) {
  PhysicalDevice* pd = NewWrapped<PhysicalDevice>(env, AddonData::Get(env)->physicalDeviceCtor);
  pd->instance_ = instance;
  pd->handle_ = handle;
  pd->Attach(instance);
  return pd;
}

Napi::Value PhysicalDevice::Properties(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  const InstanceDispatch& vk = instance_->Dispatch();
  VkPhysicalDeviceProperties p{};
  vk.vkGetPhysicalDeviceProperties(handle_, &p);
  Napi::Object o = Napi::Object::New(env);
  o.Set("deviceName", p.deviceName);
  o.Set("deviceType", static_cast<double>(p.deviceType));
  o.Set("apiVersion", p.apiVersion);
  o.Set("driverVersion", p.driverVersion);
  o.Set("vendorID", p.vendorID);
  o.Set("deviceID", p.deviceID);
  {
    static const char* kHex = "0123456789abcdef";
    std::string uuid;
    for (uint8_t b : p.pipelineCacheUUID) uuid += {kHex[b >> 4], kHex[b & 15]};
    o.Set("pipelineCacheUUID", uuid);
  }
  // Driver identity is core in Vulkan 1.2; older devices report none.
  if (p.apiVersion >= VK_API_VERSION_1_2 && vk.vkGetPhysicalDeviceProperties2) {
    VkPhysicalDeviceDriverProperties driver{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceProperties2 p2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    p2.pNext = &driver;
    vk.vkGetPhysicalDeviceProperties2(handle_, &p2);
    o.Set("driverID", static_cast<double>(driver.driverID));
    o.Set("driverName", driver.driverName);
    o.Set("driverInfo", driver.driverInfo);
  } else {
    o.Set("driverID", env.Null());
    o.Set("driverName", env.Null());
    o.Set("driverInfo", env.Null());
  }
  Napi::Object limits = Napi::Object::New(env);
  limits.Set("maxMemoryAllocationCount", p.limits.maxMemoryAllocationCount);
  limits.Set("nonCoherentAtomSize", static_cast<double>(p.limits.nonCoherentAtomSize));
  limits.Set("minMemoryMapAlignment", static_cast<double>(p.limits.minMemoryMapAlignment));
  // What a compute workload must respect (issue 5): never assume a CPU driver's values.
  const VkPhysicalDeviceLimits& l = p.limits;
  auto triple = [&](const uint32_t v[3]) {
    Napi::Array a = Napi::Array::New(env, 3);
    for (uint32_t i = 0; i < 3; i++) a.Set(i, v[i]);
    return a;
  };
  limits.Set("maxComputeWorkGroupCount", triple(l.maxComputeWorkGroupCount));
  limits.Set("maxComputeWorkGroupSize", triple(l.maxComputeWorkGroupSize));
  limits.Set("maxComputeWorkGroupInvocations", l.maxComputeWorkGroupInvocations);
  limits.Set("maxComputeSharedMemorySize", l.maxComputeSharedMemorySize);
  limits.Set("maxPushConstantsSize", l.maxPushConstantsSize);
  limits.Set("maxBoundDescriptorSets", l.maxBoundDescriptorSets);
  limits.Set("maxStorageBufferRange", static_cast<double>(l.maxStorageBufferRange));
  limits.Set("maxUniformBufferRange", static_cast<double>(l.maxUniformBufferRange));
  limits.Set("minStorageBufferOffsetAlignment", static_cast<double>(l.minStorageBufferOffsetAlignment));
  limits.Set("minUniformBufferOffsetAlignment", static_cast<double>(l.minUniformBufferOffsetAlignment));
  limits.Set("maxImageDimension2D", l.maxImageDimension2D);
  limits.Set("optimalBufferCopyOffsetAlignment", static_cast<double>(l.optimalBufferCopyOffsetAlignment));
  o.Set("limits", limits);
  // Subgroup size (Vulkan 1.1) is reported, never assumed.
  if (p.apiVersion >= VK_API_VERSION_1_1 && vk.vkGetPhysicalDeviceProperties2) {
    VkPhysicalDeviceSubgroupProperties subgroup{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceProperties2 p2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    p2.pNext = &subgroup;
    vk.vkGetPhysicalDeviceProperties2(handle_, &p2);
    o.Set("subgroupSize", subgroup.subgroupSize);
  } else {
    o.Set("subgroupSize", env.Null());
  }
  return o;
}

Napi::Value PhysicalDevice::MemoryProperties(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  VkPhysicalDeviceMemoryProperties m{};
  instance_->Dispatch().vkGetPhysicalDeviceMemoryProperties(handle_, &m);
  Napi::Array types = Napi::Array::New(env, m.memoryTypeCount);
  for (uint32_t i = 0; i < m.memoryTypeCount; i++) {
    Napi::Object t = Napi::Object::New(env);
    t.Set("propertyFlags", m.memoryTypes[i].propertyFlags);
    t.Set("heapIndex", m.memoryTypes[i].heapIndex);
    types.Set(i, t);
  }
  Napi::Array heaps = Napi::Array::New(env, m.memoryHeapCount);
  for (uint32_t i = 0; i < m.memoryHeapCount; i++) {
    Napi::Object h = Napi::Object::New(env);
    h.Set("size", static_cast<double>(m.memoryHeaps[i].size));
    h.Set("flags", m.memoryHeaps[i].flags);
    heaps.Set(i, h);
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("memoryTypes", types);
  o.Set("memoryHeaps", heaps);
  return o;
}

Napi::Value PhysicalDevice::QueueFamilies(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  const InstanceDispatch& vk = instance_->Dispatch();
  uint32_t count = 0;
  vk.vkGetPhysicalDeviceQueueFamilyProperties(handle_, &count, nullptr);
  std::vector<VkQueueFamilyProperties> families(count);
  vk.vkGetPhysicalDeviceQueueFamilyProperties(handle_, &count, families.data());
  Napi::Array out = Napi::Array::New(env, count);
  for (uint32_t i = 0; i < count; i++) {
    Napi::Object f = Napi::Object::New(env);
    f.Set("queueFlags", families[i].queueFlags);
    f.Set("queueCount", families[i].queueCount);
    f.Set("timestampValidBits", families[i].timestampValidBits);
    out.Set(i, f);
  }
  return out;
}

Napi::Value PhysicalDevice::CreateDevice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  Napi::Object opts = info[0].As<Napi::Object>();
  Napi::Array queues = opts.Get("queues").As<Napi::Array>();
  std::vector<std::vector<float>> priorities(queues.Length());
  std::vector<VkDeviceQueueCreateInfo> queueInfos(queues.Length());
  for (uint32_t i = 0; i < queues.Length(); i++) {
    Napi::Object q = queues.Get(i).As<Napi::Object>();
    Napi::Array pr = q.Get("priorities").As<Napi::Array>();
    for (uint32_t j = 0; j < pr.Length(); j++) priorities[i].push_back(pr.Get(j).As<Napi::Number>().FloatValue());
    queueInfos[i] = {VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    queueInfos[i].queueFamilyIndex = q.Get("family").As<Napi::Number>().Uint32Value();
    queueInfos[i].queueCount = static_cast<uint32_t>(priorities[i].size());
    queueInfos[i].pQueuePriorities = priorities[i].data();
  }
  std::vector<std::string> extensions;
  Napi::Array ext = opts.Get("extensions").As<Napi::Array>();
  for (uint32_t i = 0; i < ext.Length(); i++) extensions.push_back(ext.Get(i).As<Napi::String>().Utf8Value());
  std::vector<const char*> extensionPtrs;
  for (auto& e : extensions) extensionPtrs.push_back(e.c_str());

  VkDeviceCreateInfo ci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  VkPhysicalDeviceTimelineSemaphoreFeatures timeline{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES};
  Napi::Value features = opts.Get("features");
  if (features.IsObject() && features.As<Napi::Object>().Get("timelineSemaphore").ToBoolean().Value()) {
    timeline.timelineSemaphore = VK_TRUE;
    ci.pNext = &timeline;
  }
  ci.queueCreateInfoCount = static_cast<uint32_t>(queueInfos.size());
  ci.pQueueCreateInfos = queueInfos.data();
  ci.enabledExtensionCount = static_cast<uint32_t>(extensionPtrs.size());
  ci.ppEnabledExtensionNames = extensionPtrs.data();

  Device* device = Prepare<Device>(env, data_->deviceCtor, info[1]);
  VkDevice handle = VK_NULL_HANDLE;
  {
    CommandScope scope(env, "vkCreateDevice");
    scope.Check(instance_->Dispatch().vkCreateDevice(handle_, &ci, device->Callbacks(), &handle));
  }
  device->Adopt(this, handle);
  return device->Value();
}

// Optional features, as far as this device reports them (Vulkan 1.2 structures only
// on 1.2 devices).
Napi::Value PhysicalDevice::Features(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  const InstanceDispatch& vk = instance_->Dispatch();
  VkPhysicalDeviceProperties p{};
  vk.vkGetPhysicalDeviceProperties(handle_, &p);
  Napi::Object o = Napi::Object::New(env);
  bool timeline = false;
  if (p.apiVersion >= VK_API_VERSION_1_2 && vk.vkGetPhysicalDeviceFeatures2) {
    VkPhysicalDeviceTimelineSemaphoreFeatures t{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES};
    VkPhysicalDeviceFeatures2 f2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    f2.pNext = &t;
    vk.vkGetPhysicalDeviceFeatures2(handle_, &f2);
    timeline = t.timelineSemaphore == VK_TRUE;
  }
  o.Set("timelineSemaphore", timeline);
  return o;
}

// formatProperties(format) -> { linearTilingFeatures, optimalTilingFeatures, bufferFeatures }
Napi::Value PhysicalDevice::FormatProperties(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  VkFormatProperties fp{};
  instance_->Dispatch().vkGetPhysicalDeviceFormatProperties(
      handle_, static_cast<VkFormat>(info[0].As<Napi::Number>().Uint32Value()), &fp);
  Napi::Object o = Napi::Object::New(env);
  o.Set("linearTilingFeatures", fp.linearTilingFeatures);
  o.Set("optimalTilingFeatures", fp.optimalTilingFeatures);
  o.Set("bufferFeatures", fp.bufferFeatures);
  return o;
}

}  // namespace vkalloc
