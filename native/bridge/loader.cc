#include "bridge/loader.h"
#include <dlfcn.h>
#include <link.h>
#include <cstdlib>
#include <cstring>

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

namespace {
// Whether a loaded object has this file name (the last part of its path): a walk of
// the link map, ~1 us, where dlopen(RTLD_NOLOAD) of a file not loaded opens and reads
// it first (~35 us): a sweep asks at every point until the driver is loaded.
bool FileNameLoaded(const std::string& path) {
  struct Search {
    std::string name;
    bool found;
  } search{path.substr(path.rfind('/') + 1), false};  // npos + 1 == 0: a bare name
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto* s = static_cast<Search*>(data);
        const char* name = info->dlpi_name ? info->dlpi_name : "";
        const char* slash = strrchr(name, '/');
        s->found = s->name == (slash ? slash + 1 : name);
        return s->found ? 1 : 0;
      },
      &search);
  return search.found;
}
}  // namespace

bool HoldLoadedLibrary(const std::string& path) {
  void* handle = FileNameLoaded(path) ? dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD) : nullptr;
  if (!handle) dlerror();  // clears the error state
  return handle != nullptr;
}

void Loader::LoadDevice(const InstanceDispatch& instance, VkDevice device, DeviceDispatch* out) {
#define VKALLOC_LOAD_DEVICE(name) out->name = reinterpret_cast<PFN_##name>(instance.vkGetDeviceProcAddr(device, #name));
  VKALLOC_DEVICE_FUNCS(VKALLOC_LOAD_DEVICE)
#undef VKALLOC_LOAD_DEVICE
}

}  // namespace vkalloc
