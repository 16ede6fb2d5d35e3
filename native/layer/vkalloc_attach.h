// The in-process attach interface of libVkLayer_vkalloc.so: C functions a program that
// dlopens the layer (the vkalloc addon, native/bridge/attach.cc) calls to put its own
// allocation callbacks under every Vulkan object created through the layer with a NULL
// pAllocator, and to hear which command runs on each thread. The Vulkan loader's later
// dlopen of the same file returns the same copy, so both share this state.
//
// Contract:
//   - vkalloc_layer_attach: from now on, creates through the layer whose pAllocator is NULL
//     get `callbacks` (wrapped: the layer still records them when it traces). Objects keep
//     the callbacks their create got until they are destroyed, across detach and re-attach.
//     `hooks->begin/end` are called around every outermost Vulkan command on any thread
//     (the command's name, a string that lives as long as the process) from now on, after a
//     detach too (the objects made while attached still call the attacher's callbacks),
//     until the next attach replaces them. Returns 0, or
//     VKALLOC_ATTACH_BUSY when another attachment is active (one per process),
//     VKALLOC_ATTACH_VERSION_MISMATCH for a hooks version the layer does not know.
//     `callbacks`, `hooks` and what they point to must stay valid for the process's life.
//   - vkalloc_layer_detach: creates with NULL pAllocator get the layer's own allocator again
//     (the hooks stay).
//   - vkalloc_layer_live_objects: how many objects made with `callbacks` are not destroyed
//     yet (instances, devices and every object whose create takes pAllocator; children
//     left alive by a destroyed parent count as gone).
#pragma once
#include <stdint.h>
#include <vulkan/vulkan.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VKALLOC_ATTACH_HOOKS_VERSION 1
#define VKALLOC_ATTACH_BUSY (-1)
#define VKALLOC_ATTACH_VERSION_MISMATCH (-2)

typedef struct VkallocAttachHooks {
  uint32_t version;  // VKALLOC_ATTACH_HOOKS_VERSION
  void* user;
  void (*begin)(void* user, const char* command);
  void (*end)(void* user, const char* command, int32_t result);
} VkallocAttachHooks;

typedef int (*PFN_vkallocLayerAttach)(const VkAllocationCallbacks* callbacks, const VkallocAttachHooks* hooks);
typedef void (*PFN_vkallocLayerDetach)(void);
typedef uint64_t (*PFN_vkallocLayerLiveObjects)(const VkAllocationCallbacks* callbacks);

#ifdef __cplusplus
}
#endif
