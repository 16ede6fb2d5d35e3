// The vkalloc Vulkan layer (libVkLayer_vkalloc.so): what the generated intercepts
// (generated/layer_dispatch.cc) and the hand-written entry points (layer.cc) share.
//
// Per instance and per device: the next element's dispatch table and the objects made
// with callbacks (handle -> the callbacks its create got, so its destroy gets them too).
// Per thread: the stack of Vulkan commands in progress (Command), which attributes each
// allocation callback (callbacks.cc). Dispatchable handles are found by their loader
// dispatch pointer, the first word of the handle, which the loader sets and shares between
// an instance and its physical devices, and between a device and its queues and command
// buffers.
#pragma once
#include <vulkan/vulkan.h>
#include <vulkan/vk_layer.h>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include "generated/layer_dispatch.h"

namespace vkalloc_layer {

template <typename H>
inline uint64_t Handle(H h) {
  return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(h));
}

// The callbacks handed down for one object, and which object type it is.
struct ObjectRecord {
  const VkAllocationCallbacks* callbacks;
};

class ObjectMap {
 public:
  ObjectMap() = default;
  ~ObjectMap();
  void Add(uint64_t handle, const VkAllocationCallbacks* callbacks);
  // The callbacks `handle` was created with, removing it; null when the layer did not see it made.
  const VkAllocationCallbacks* Take(uint64_t handle);
  size_t Size();

 private:
  std::mutex mu_;
  std::unordered_map<uint64_t, ObjectRecord> objects_;
};

struct InstanceState {
  VkInstance handle = VK_NULL_HANDLE;
  PFN_vkGetInstanceProcAddr nextGipa = nullptr;
  InstanceDispatch next{};
  uint32_t apiVersion = VK_API_VERSION_1_0;
  ObjectMap objects;
  bool describedDevices = false;
  uint64_t Parent() const { return Handle(handle); }
};

struct DeviceState {
  VkDevice handle = VK_NULL_HANDLE;
  InstanceState* instance = nullptr;
  PFN_vkGetDeviceProcAddr nextGdpa = nullptr;
  DeviceDispatch next{};
  ObjectMap objects;
  uint64_t Parent() const { return Handle(handle); }
};

// The state of a dispatchable handle's instance / device (never null for a handle the
// loader made through this layer: an unknown one aborts with a message, as the app's
// next call would crash anyway).
InstanceState* InstanceOf(const void* dispatchable);
DeviceState* DeviceOf(const void* dispatchable);

// The callbacks to hand down for an app's pAllocator: the layer's own when NULL, else a
// wrapper that calls the app's and records (one wrapper per distinct app allocator, kept
// for the life of the process: drivers may call it until the object goes).
const VkAllocationCallbacks* CallbacksFor(const VkAllocationCallbacks* app);

// A Vulkan command in progress on this thread, for the time of the intercept.
class Command {
 public:
  // `destroying`: the handle a destroy command ends (0 = none). `eager`: announce the
  // command in the trace now (creates and destroys), else only when a callback comes.
  explicit Command(unsigned id, uint64_t destroying = 0, bool eager = false);
  ~Command();
  Command(const Command&) = delete;
  Command& operator=(const Command&) = delete;

  void Result(int32_t result) { result_ = result; }
  // A create made `handle` (of type `type`, e.g. "Buffer") with `callbacks`; `parent` is
  // the instance or device handle it belongs to.
  void Created(ObjectMap& objects, const char* type, uint64_t handle, uint64_t parent,
               const VkAllocationCallbacks* callbacks);
  // The callbacks to hand to the destroy of `handle`: what its create got, or the app's
  // own when the layer did not see it created.
  const VkAllocationCallbacks* Destroying(ObjectMap& objects, uint64_t handle, const VkAllocationCallbacks* app);
  void Destroyed(ObjectMap& objects, uint64_t handle) {}

 private:
  int32_t result_ = 0;
  bool pushed_;
};

// Hand-written entry points (layer.cc), listed by the generated intercept table.
VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL L_vkGetInstanceProcAddr(VkInstance instance, const char* name);
VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL L_vkGetDeviceProcAddr(VkDevice device, const char* name);
VKAPI_ATTR void VKAPI_CALL L_vkDestroyInstance(VkInstance instance, const VkAllocationCallbacks* pAllocator);
VKAPI_ATTR VkResult VKAPI_CALL L_vkCreateDevice(VkPhysicalDevice physicalDevice, const VkDeviceCreateInfo* pCreateInfo,
                                                const VkAllocationCallbacks* pAllocator, VkDevice* pDevice);
VKAPI_ATTR void VKAPI_CALL L_vkDestroyDevice(VkDevice device, const VkAllocationCallbacks* pAllocator);
VKAPI_ATTR VkResult VKAPI_CALL L_vkEnumeratePhysicalDevices(VkInstance instance, uint32_t* pPhysicalDeviceCount,
                                                            VkPhysicalDevice* pPhysicalDevices);

}  // namespace vkalloc_layer
