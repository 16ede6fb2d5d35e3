// The layer's entry points: loader negotiation, vkGetInstanceProcAddr/vkGetDeviceProcAddr,
// and the commands that build or tear down dispatch state (instance, device, physical
// device enumeration). Everything else is generated (generated/layer_dispatch.cc).
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include "layer/layer.h"
#include "layer/recorder.h"

namespace vkalloc_layer {

namespace {

void* KeyOf(const void* dispatchable) {
  return *static_cast<void* const*>(dispatchable);
}

// Dispatch key -> state. Looked up on every command, so reads take no lock: a fixed
// array published with release stores (the few instances and devices of a program fit;
// more spill into a locked map).
template <typename State>
class StateMap {
 public:
  State* Find(const void* dispatchable) {
    void* key = KeyOf(dispatchable);
    int n = count_.load(std::memory_order_acquire);
    for (int i = 0; i < n; i++)
      if (keys_[i].load(std::memory_order_acquire) == key) return states_[i];
    if (!spilled_.load(std::memory_order_acquire)) return nullptr;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = spill_.find(key);
    return it == spill_.end() ? nullptr : it->second;
  }
  void Add(const void* dispatchable, State* s) {
    void* key = KeyOf(dispatchable);
    std::lock_guard<std::mutex> lock(mu_);
    int n = count_.load(std::memory_order_relaxed);
    for (int i = 0; i < n; i++) {
      if (keys_[i].load(std::memory_order_relaxed) == nullptr) {
        states_[i] = s;
        keys_[i].store(key, std::memory_order_release);
        return;
      }
    }
    if (n < kSlots) {
      states_[n] = s;
      keys_[n].store(key, std::memory_order_release);
      count_.store(n + 1, std::memory_order_release);
      return;
    }
    spill_[key] = s;
    spilled_.store(true, std::memory_order_release);
  }
  // Forgets `dispatchable`; returns how many remain.
  size_t Remove(const void* dispatchable) {
    void* key = KeyOf(dispatchable);
    std::lock_guard<std::mutex> lock(mu_);
    int n = count_.load(std::memory_order_relaxed);
    spill_.erase(key);
    size_t remaining = 0;
    for (int i = 0; i < n; i++)
      if (keys_[i].load(std::memory_order_relaxed) == key) keys_[i].store(nullptr, std::memory_order_release);
    for (int i = 0; i < n; i++) remaining += keys_[i].load(std::memory_order_relaxed) != nullptr;
    return remaining + spill_.size();
  }

 private:
  static constexpr int kSlots = 64;
  std::atomic<void*> keys_[kSlots] = {};
  State* states_[kSlots] = {};
  std::atomic<int> count_{0};
  std::atomic<bool> spilled_{false};
  std::mutex mu_;
  std::unordered_map<void*, State*> spill_;
};

StateMap<InstanceState>& Instances() {
  static auto* m = new StateMap<InstanceState>();
  return *m;
}
StateMap<DeviceState>& Devices() {
  static auto* m = new StateMap<DeviceState>();
  return *m;
}
ObjectMap& InstanceObjects() {
  static auto* m = new ObjectMap();
  return *m;
}

[[noreturn]] void Unknown(const char* what) {
  std::fprintf(stderr, "vkalloc layer: a Vulkan call on an unknown %s (not made through this layer, or destroyed)\n",
               what);
  std::abort();
}

template <typename T>
T* FindInChain(const void* pNext, VkStructureType type) {
  for (auto* p = static_cast<const VkBaseInStructure*>(pNext); p; p = p->pNext) {
    if (p->sType == type && reinterpret_cast<const T*>(p)->function == VK_LAYER_LINK_INFO)
      return const_cast<T*>(reinterpret_cast<const T*>(p));
  }
  return nullptr;
}

std::string Version(uint32_t v) {
  return std::to_string(VK_API_VERSION_MAJOR(v)) + "." + std::to_string(VK_API_VERSION_MINOR(v)) + "." +
         std::to_string(VK_API_VERSION_PATCH(v));
}

// The trace header names the devices and drivers the program saw (once per instance).
void DescribeDevices(InstanceState* s, uint32_t count, const VkPhysicalDevice* devices) {
  if (s->describedDevices || !devices || !s->next.GetPhysicalDeviceProperties) return;
  s->describedDevices = true;
  for (uint32_t i = 0; i < count; i++) {
    VkPhysicalDeviceProperties p{};
    s->next.GetPhysicalDeviceProperties(devices[i], &p);
    std::string driver;
    if (s->apiVersion >= VK_API_VERSION_1_1 && p.apiVersion >= VK_API_VERSION_1_2 &&
        s->next.GetPhysicalDeviceProperties2) {
      VkPhysicalDeviceDriverProperties d{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
      VkPhysicalDeviceProperties2 p2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, &d};
      s->next.GetPhysicalDeviceProperties2(devices[i], &p2);
      driver = std::string(d.driverName) + (d.driverInfo[0] ? std::string(" ") + d.driverInfo : "");
    } else {
      char id[64];
      std::snprintf(id, sizeof(id), "vendor 0x%04x, driver version 0x%x", p.vendorID, p.driverVersion);
      driver = id;
    }
    Meta("device", (std::string(p.deviceName) + " (Vulkan " + Version(p.apiVersion) + ")").c_str());
    Meta("driver", driver.c_str());
  }
}

}  // namespace

InstanceState* InstanceOf(const void* dispatchable) {
  InstanceState* s = Instances().Find(dispatchable);
  if (!s) Unknown("instance or physical device");
  return s;
}

DeviceState* DeviceOf(const void* dispatchable) {
  DeviceState* s = Devices().Find(dispatchable);
  if (!s) Unknown("device, queue or command buffer");
  return s;
}

VKAPI_ATTR VkResult VKAPI_CALL L_vkCreateInstance(const VkInstanceCreateInfo* pCreateInfo,
                                                  const VkAllocationCallbacks* pAllocator, VkInstance* pInstance) {
  auto* link =
      FindInChain<VkLayerInstanceCreateInfo>(pCreateInfo->pNext, VK_STRUCTURE_TYPE_LOADER_INSTANCE_CREATE_INFO);
  if (!link || !link->u.pLayerInfo) return VK_ERROR_INITIALIZATION_FAILED;
  PFN_vkGetInstanceProcAddr nextGipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
  link->u.pLayerInfo = link->u.pLayerInfo->pNext;  // the next layer finds its own link
  auto create = reinterpret_cast<PFN_vkCreateInstance>(nextGipa(VK_NULL_HANDLE, "vkCreateInstance"));
  if (!create) return VK_ERROR_INITIALIZATION_FAILED;

  StartTrace();
  const VkApplicationInfo* app = pCreateInfo->pApplicationInfo;
  if (app && app->pApplicationName) Meta("application", app->pApplicationName);
  Command cmd(kId_vkCreateInstance, 0, true);
  const VkAllocationCallbacks* a = CallbacksFor(pAllocator);
  VkResult r = create(pCreateInfo, a, pInstance);
  if (r == VK_SUCCESS) {
    auto* s = new InstanceState();
    s->handle = *pInstance;
    s->nextGipa = nextGipa;
    s->apiVersion = app && app->apiVersion ? app->apiVersion : VK_API_VERSION_1_0;
    FillInstanceDispatch(&s->next, nextGipa, *pInstance);
    Instances().Add(*pInstance, s);
    cmd.Created(InstanceObjects(), "Instance", Handle(*pInstance), 0, a);
  }
  cmd.Result(r);
  return r;
}

VKAPI_ATTR void VKAPI_CALL L_vkDestroyInstance(VkInstance instance, const VkAllocationCallbacks* pAllocator) {
  if (!instance) return;
  InstanceState* s = InstanceOf(instance);
  size_t remaining;
  {
    Command cmd(kId_vkDestroyInstance, Handle(instance), true);
    const VkAllocationCallbacks* a = cmd.Destroying(InstanceObjects(), Handle(instance), pAllocator);
    s->next.DestroyInstance(instance, a);
    remaining = Instances().Remove(instance);
  }
  AfterDestroy("instance", Handle(instance), remaining == 0);
  delete s;
}

VKAPI_ATTR VkResult VKAPI_CALL L_vkEnumeratePhysicalDevices(VkInstance instance, uint32_t* pPhysicalDeviceCount,
                                                            VkPhysicalDevice* pPhysicalDevices) {
  InstanceState* s = InstanceOf(instance);
  Command cmd(kId_vkEnumeratePhysicalDevices);
  VkResult r = s->next.EnumeratePhysicalDevices(instance, pPhysicalDeviceCount, pPhysicalDevices);
  if (r >= 0 && pPhysicalDevices) DescribeDevices(s, *pPhysicalDeviceCount, pPhysicalDevices);
  cmd.Result(r);
  return r;
}

VKAPI_ATTR VkResult VKAPI_CALL L_vkCreateDevice(VkPhysicalDevice physicalDevice, const VkDeviceCreateInfo* pCreateInfo,
                                                const VkAllocationCallbacks* pAllocator, VkDevice* pDevice) {
  InstanceState* is = InstanceOf(physicalDevice);
  auto* link = FindInChain<VkLayerDeviceCreateInfo>(pCreateInfo->pNext, VK_STRUCTURE_TYPE_LOADER_DEVICE_CREATE_INFO);
  if (!link || !link->u.pLayerInfo) return VK_ERROR_INITIALIZATION_FAILED;
  PFN_vkGetInstanceProcAddr nextGipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
  PFN_vkGetDeviceProcAddr nextGdpa = link->u.pLayerInfo->pfnNextGetDeviceProcAddr;
  link->u.pLayerInfo = link->u.pLayerInfo->pNext;
  auto create = reinterpret_cast<PFN_vkCreateDevice>(nextGipa(is->handle, "vkCreateDevice"));
  if (!create) return VK_ERROR_INITIALIZATION_FAILED;

  Command cmd(kId_vkCreateDevice, 0, true);
  const VkAllocationCallbacks* a = CallbacksFor(pAllocator);
  VkResult r = create(physicalDevice, pCreateInfo, a, pDevice);
  if (r == VK_SUCCESS) {
    auto* s = new DeviceState();
    s->handle = *pDevice;
    s->instance = is;
    s->nextGdpa = nextGdpa;
    FillDeviceDispatch(&s->next, nextGdpa, *pDevice);
    Devices().Add(*pDevice, s);
    cmd.Created(is->objects, "Device", Handle(*pDevice), is->Parent(), a);
  }
  cmd.Result(r);
  return r;
}

VKAPI_ATTR void VKAPI_CALL L_vkDestroyDevice(VkDevice device, const VkAllocationCallbacks* pAllocator) {
  if (!device) return;
  DeviceState* s = DeviceOf(device);
  {
    Command cmd(kId_vkDestroyDevice, Handle(device), true);
    const VkAllocationCallbacks* a = cmd.Destroying(s->instance->objects, Handle(device), pAllocator);
    s->next.DestroyDevice(device, a);
    Devices().Remove(device);
  }
  AfterDestroy("device", Handle(device), false);
  delete s;
}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL L_vkGetInstanceProcAddr(VkInstance instance, const char* name) {
  if (!name) return nullptr;
  if (std::strcmp(name, "vkCreateInstance") == 0) return reinterpret_cast<PFN_vkVoidFunction>(&L_vkCreateInstance);
  if (std::strcmp(name, "vkGetInstanceProcAddr") == 0)
    return reinterpret_cast<PFN_vkVoidFunction>(&L_vkGetInstanceProcAddr);
  if (instance == VK_NULL_HANDLE) return nullptr;  // other global commands: the loader answers them
  InstanceState* s = Instances().Find(instance);
  if (!s) return nullptr;
  PFN_vkVoidFunction next = s->nextGipa(instance, name);
  const InterceptEntry* e = FindIntercept(name);
  return e && next ? e->function : next;
}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL L_vkGetDeviceProcAddr(VkDevice device, const char* name) {
  if (!name || !device) return nullptr;
  if (std::strcmp(name, "vkGetDeviceProcAddr") == 0)
    return reinterpret_cast<PFN_vkVoidFunction>(&L_vkGetDeviceProcAddr);
  DeviceState* s = Devices().Find(device);
  if (!s) return nullptr;
  PFN_vkVoidFunction next = s->nextGdpa(device, name);
  const InterceptEntry* e = FindIntercept(name);
  return e && e->chain == 'd' && next ? e->function : next;
}

}  // namespace vkalloc_layer

// ---- exported ----------------------------------------------------------------------------

extern "C" {

__attribute__((visibility("default"))) VKAPI_ATTR VkResult VKAPI_CALL
vkNegotiateLoaderLayerInterfaceVersion(VkNegotiateLayerInterface* p) {
  if (!p || p->sType != LAYER_NEGOTIATE_INTERFACE_STRUCT || p->loaderLayerInterfaceVersion < 2)
    return VK_ERROR_INITIALIZATION_FAILED;
  p->loaderLayerInterfaceVersion = 2;
  p->pfnGetInstanceProcAddr = &vkalloc_layer::L_vkGetInstanceProcAddr;
  p->pfnGetDeviceProcAddr = &vkalloc_layer::L_vkGetDeviceProcAddr;
  p->pfnGetPhysicalDeviceProcAddr = nullptr;
  return VK_SUCCESS;
}

__attribute__((visibility("default"))) VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL
vkGetInstanceProcAddr(VkInstance instance, const char* name) {
  return vkalloc_layer::L_vkGetInstanceProcAddr(instance, name);
}

__attribute__((visibility("default"))) VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vkGetDeviceProcAddr(VkDevice device,
                                                                                                    const char* name) {
  return vkalloc_layer::L_vkGetDeviceProcAddr(device, name);
}

}  // extern "C"
