// The Vulkan loader, opened at run time so the addon loads on machines without
// Vulkan. Function pointers come from vkGetInstanceProcAddr / vkGetDeviceProcAddr
// into one dispatch table per VkInstance and per VkDevice.
#pragma once
#include <vulkan/vulkan.h>
#include <string>

#define VKALLOC_GLOBAL_FUNCS(X)             \
  X(vkCreateInstance)                       \
  X(vkEnumerateInstanceLayerProperties)     \
  X(vkEnumerateInstanceExtensionProperties) \
  X(vkEnumerateInstanceVersion)

#define VKALLOC_INSTANCE_FUNCS(X)             \
  X(vkDestroyInstance)                        \
  X(vkEnumeratePhysicalDevices)               \
  X(vkGetPhysicalDeviceProperties)            \
  X(vkGetPhysicalDeviceProperties2)           \
  X(vkGetPhysicalDeviceMemoryProperties)      \
  X(vkGetPhysicalDeviceQueueFamilyProperties) \
  X(vkCreateDevice)                           \
  X(vkGetDeviceProcAddr)                      \
  X(vkGetPhysicalDeviceFeatures2)             \
  X(vkGetPhysicalDeviceFormatProperties)      \
  X(vkCreateDebugUtilsMessengerEXT)           \
  X(vkDestroyDebugUtilsMessengerEXT)

// Issue 5: what a compute workload needs. vkWaitSemaphores, vkSignalSemaphore and
// vkGetSemaphoreCounterValue are core in Vulkan 1.2: null on older devices.
#define VKALLOC_COMPUTE_DEVICE_FUNCS(X) \
  X(vkCreateCommandPool)                \
  X(vkDestroyCommandPool)               \
  X(vkResetCommandPool)                 \
  X(vkAllocateCommandBuffers)           \
  X(vkFreeCommandBuffers)               \
  X(vkBeginCommandBuffer)               \
  X(vkEndCommandBuffer)                 \
  X(vkResetCommandBuffer)               \
  X(vkCmdFillBuffer)                    \
  X(vkCmdUpdateBuffer)                  \
  X(vkCmdCopyBuffer)                    \
  X(vkCmdCopyBufferToImage)             \
  X(vkCmdCopyImageToBuffer)             \
  X(vkCmdPipelineBarrier)               \
  X(vkCmdBindPipeline)                  \
  X(vkCmdBindDescriptorSets)            \
  X(vkCmdPushConstants)                 \
  X(vkCmdDispatch)                      \
  X(vkCreateSemaphore)                  \
  X(vkDestroySemaphore)                 \
  X(vkWaitSemaphores)                   \
  X(vkSignalSemaphore)                  \
  X(vkGetSemaphoreCounterValue)         \
  X(vkCreateShaderModule)               \
  X(vkDestroyShaderModule)              \
  X(vkCreateDescriptorSetLayout)        \
  X(vkDestroyDescriptorSetLayout)       \
  X(vkCreateDescriptorPool)             \
  X(vkDestroyDescriptorPool)            \
  X(vkResetDescriptorPool)              \
  X(vkAllocateDescriptorSets)           \
  X(vkFreeDescriptorSets)               \
  X(vkUpdateDescriptorSets)             \
  X(vkCreatePipelineLayout)             \
  X(vkDestroyPipelineLayout)            \
  X(vkCreateComputePipelines)           \
  X(vkDestroyPipeline)                  \
  X(vkCreatePipelineCache)              \
  X(vkDestroyPipelineCache)             \
  X(vkGetPipelineCacheData)             \
  X(vkCreateImage)                      \
  X(vkDestroyImage)                     \
  X(vkGetImageMemoryRequirements)       \
  X(vkBindImageMemory)                  \
  X(vkCreateImageView)                  \
  X(vkDestroyImageView)

#define VKALLOC_DEVICE_FUNCS(X)     \
  X(vkDestroyDevice)                \
  X(vkDeviceWaitIdle)               \
  X(vkGetDeviceQueue)               \
  X(vkQueueSubmit)                  \
  X(vkQueueWaitIdle)                \
  X(vkCreateBuffer)                 \
  X(vkDestroyBuffer)                \
  X(vkGetBufferMemoryRequirements)  \
  X(vkBindBufferMemory)             \
  X(vkAllocateMemory)               \
  X(vkFreeMemory)                   \
  X(vkMapMemory)                    \
  X(vkUnmapMemory)                  \
  X(vkFlushMappedMemoryRanges)      \
  X(vkInvalidateMappedMemoryRanges) \
  X(vkCreateFence)                  \
  X(vkDestroyFence)                 \
  X(vkWaitForFences)                \
  X(vkResetFences)                  \
  X(vkGetFenceStatus)               \
  VKALLOC_COMPUTE_DEVICE_FUNCS(X)

#define VKALLOC_DECLARE_PFN(name) PFN_##name name = nullptr;

namespace vkalloc {

// The Vulkan loader's name where each platform puts it (VKALLOC_VULKAN_LIBRARY
// overrides). Only Linux is built and tested; macOS (MoltenVK through the loader) is
// prepared: dlopen works the same there. Windows would need LoadLibrary as well.
#if defined(__APPLE__)
constexpr const char* kVulkanLibrary = "libvulkan.1.dylib";
#else
constexpr const char* kVulkanLibrary = "libvulkan.so.1";
#endif

struct InstanceDispatch {
  VKALLOC_INSTANCE_FUNCS(VKALLOC_DECLARE_PFN)
};

struct DeviceDispatch {
  VKALLOC_DEVICE_FUNCS(VKALLOC_DECLARE_PFN)
};

class Loader {
 public:
  ~Loader();
  // Opens libvulkan.so.1 once; false (with Error()) when it is missing.
  bool Open();
  bool IsOpen() const { return handle_ != nullptr; }
  const std::string& Error() const { return error_; }
  // libvulkan.so.1, or what VKALLOC_VULKAN_LIBRARY names (another loader build).
  const std::string& LibraryName() const { return library_; }

  PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr = nullptr;
  VKALLOC_GLOBAL_FUNCS(VKALLOC_DECLARE_PFN)

  void LoadInstance(VkInstance instance, InstanceDispatch* out) const;
  static void LoadDevice(const InstanceDispatch& instance, VkDevice device, DeviceDispatch* out);

 private:
  void* handle_ = nullptr;
  bool tried_ = false;
  std::string library_ = kVulkanLibrary;
  std::string error_;
};

// For sweeps (lib/fault/sweep-worker.ts, AllocatorBridge's faults): once the loader has
// loaded a driver library, one more reference keeps it loaded, so that the loader's
// dlclose after each failed vkCreateInstance does not unload it for the next point to
// load again. RTLD_NOLOAD: a library not loaded yet is left alone (false). Never
// closed, by design.
bool HoldLoadedLibrary(const std::string& path);

}  // namespace vkalloc
