// The exported in-process attach functions (vkalloc_attach.h): the vkalloc addon dlopens
// this library and calls them (native/bridge/attach.cc); the state lives in recorder.cc.
#include "layer/recorder.h"
#include "layer/vkalloc_attach.h"

extern "C" {

__attribute__((visibility("default"))) int vkalloc_layer_attach(const VkAllocationCallbacks* callbacks,
                                                                const VkallocAttachHooks* hooks) {
  return vkalloc_layer::Attach(callbacks, hooks);
}

__attribute__((visibility("default"))) void vkalloc_layer_detach(void) {
  vkalloc_layer::Detach();
}

__attribute__((visibility("default"))) uint64_t vkalloc_layer_live_objects(const VkAllocationCallbacks* callbacks) {
  return vkalloc_layer::LiveObjects(callbacks);
}

}  // extern "C"
