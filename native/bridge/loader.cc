#include "bridge/loader.h"
#include <dlfcn.h>
#include <cstdlib>

namespace vkalloc {

Loader::~Loader() {
  // The handle is deliberately kept: drivers may own threads that outlive us.
}

bool Loader::Open() {
  if (handle_ || tried_) return handle_ != nullptr;
  tried_ = true;
  if (const char* override = getenv("VKALLOC_VULKAN_LIBRARY"); override && *override) library_ = override;
  handle_ = dlopen(library_.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle_) {
    const char* why = dlerror();
    error_ = why ? why : "dlopen failed";
    return false;
  }
  vkGetInstanceProcAddr = reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(handle_, "vkGetInstanceProcAddr"));
  if (!vkGetInstanceProcAddr) {
    error_ = library_ + " has no vkGetInstanceProcAddr";
    dlclose(handle_);
    handle_ = nullptr;
    return false;
  }
#define VKALLOC_LOAD_GLOBAL(name) name = reinterpret_cast<PFN_##name>(vkGetInstanceProcAddr(nullptr, #name));
  VKALLOC_GLOBAL_FUNCS(VKALLOC_LOAD_GLOBAL)
#undef VKALLOC_LOAD_GLOBAL
  return true;
}

void Loader::LoadInstance(VkInstance instance, InstanceDispatch* out) const {
#define VKALLOC_LOAD_INSTANCE(name) out->name = reinterpret_cast<PFN_##name>(vkGetInstanceProcAddr(instance, #name));
  VKALLOC_INSTANCE_FUNCS(VKALLOC_LOAD_INSTANCE)
#undef VKALLOC_LOAD_INSTANCE
}

void Loader::LoadDevice(const InstanceDispatch& instance, VkDevice device, DeviceDispatch* out) {
#define VKALLOC_LOAD_DEVICE(name) out->name = reinterpret_cast<PFN_##name>(instance.vkGetDeviceProcAddr(device, #name));
  VKALLOC_DEVICE_FUNCS(VKALLOC_LOAD_DEVICE)
#undef VKALLOC_LOAD_DEVICE
}

}  // namespace vkalloc
