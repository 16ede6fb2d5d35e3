/*
 * Independent oracle for test/oracle.test.ts.
 *
 * Installs plain malloc-based VkAllocationCallbacks that only count their calls,
 * then makes exactly the Vulkan calls (same order, same arguments, same loader
 * path: dlopen("libvulkan.so.1") + vkGetInstanceProcAddr / vkGetDeviceProcAddr)
 * that vkalloc's native binding makes for the scripted sequence in
 * test/oracle/sequence.js. Prints the counts as one line of JSON on stdout:
 * totals, the part made off the main thread, and a per-command breakdown.
 *
 * Usage: oracle <path of lavapipe's ICD manifest>
 *
 * The manifest is put into VK_DRIVER_FILES and VK_ICD_FILENAMES only around
 * vkCreateInstance, then the previous values are restored, as
 * native/instance.cc's DriverSelection does.
 *
 * lavapipe frees some blocks from its queue thread, so the counters are atomic.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vulkan.h>

enum { K_ALLOCATE, K_REALLOCATE, K_FREE, K_INTERNAL_ALLOCATE, K_INTERNAL_FREE, K_COUNT };
static const char *const kNames[K_COUNT] = {"allocate", "reallocate", "free", "internalAllocate", "internalFree"};

static atomic_ullong calls[K_COUNT];
static atomic_ullong offThreadCalls[K_COUNT];
static atomic_llong live;  /* blocks handed out and not yet freed */
static atomic_ullong failures;
static pthread_t mainThread;

/*
 * Attribution to the Vulkan command running on the main thread ("none" between
 * commands and on other threads). Per command: the raw callback calls, and block
 * events counted the way vkalloc's registry counts them (native/block_registry.cc):
 * an allocation is a new block (pfnAllocation, or pfnReallocation of NULL), a
 * reallocation moves a live block, a free ends one (pfnFree of a non-NULL block,
 * or pfnReallocation to size 0).
 */
#define MAX_PHASES 64
struct Phase {
  const char *name;
  atomic_ullong calls[K_COUNT];
  atomic_ullong allocations, reallocations, frees;
};
static struct Phase phases[MAX_PHASES] = {{"none"}};
static int phaseCount = 1;
static int currentPhase = 0; /* written and read on the main thread only */

static void enter(const char *name) {
  for (int i = 0; i < phaseCount; i++) {
    if (strcmp(phases[i].name, name) == 0) {
      currentPhase = i;
      return;
    }
  }
  if (phaseCount == MAX_PHASES) abort();
  phases[phaseCount].name = name;
  currentPhase = phaseCount++;
}

static void leave(void) { currentPhase = 0; }

/* Runs one Vulkan command with callbacks attributed to it. */
#define VK(name, ...) (enter(#name), name##_(__VA_ARGS__))
#define VKV(name, ...) do { enter(#name); name##_(__VA_ARGS__); leave(); } while (0)

static struct Phase *phase(void) {
  return pthread_equal(pthread_self(), mainThread) ? &phases[currentPhase] : &phases[0];
}

static void count(int kind) {
  atomic_fetch_add(&calls[kind], 1);
  atomic_fetch_add(&phase()->calls[kind], 1);
  if (!pthread_equal(pthread_self(), mainThread)) atomic_fetch_add(&offThreadCalls[kind], 1);
}

static void *alignedAlloc(size_t size, size_t alignment) {
  void *p = NULL;
  if (alignment < sizeof(void *)) alignment = sizeof(void *);
  if (posix_memalign(&p, alignment, size ? size : 1) != 0) return NULL;
  return p;
}

static void *VKAPI_PTR onAllocation(void *user, size_t size, size_t alignment, VkSystemAllocationScope scope) {
  (void)user; (void)scope;
  count(K_ALLOCATE);
  void *p = alignedAlloc(size, alignment);
  if (p) {
    atomic_fetch_add(&live, 1);
    atomic_fetch_add(&phase()->allocations, 1);
  } else {
    atomic_fetch_add(&failures, 1);
  }
  return p;
}

static void *VKAPI_PTR onReallocation(void *user, void *original, size_t size, size_t alignment,
                                      VkSystemAllocationScope scope) {
  (void)user; (void)scope;
  count(K_REALLOCATE);
  if (!original) {
    void *p = alignedAlloc(size, alignment);
    if (p) {
      atomic_fetch_add(&live, 1);
      atomic_fetch_add(&phase()->allocations, 1);
    } else {
      atomic_fetch_add(&failures, 1);
    }
    return p;
  }
  if (size == 0) {
    free(original);
    atomic_fetch_sub(&live, 1);
    atomic_fetch_add(&phase()->frees, 1);
    return NULL;
  }
  void *p = alignedAlloc(size, alignment);
  if (!p) {
    atomic_fetch_add(&failures, 1);
    return NULL;
  }
  size_t old = malloc_usable_size(original);
  memcpy(p, original, old < size ? old : size);
  free(original);
  atomic_fetch_add(&phase()->reallocations, 1);
  return p;
}

static void VKAPI_PTR onFree(void *user, void *memory) {
  (void)user;
  count(K_FREE);
  if (!memory) return;
  free(memory);
  atomic_fetch_sub(&live, 1);
  atomic_fetch_add(&phase()->frees, 1);
}

static void VKAPI_PTR onInternalAllocation(void *user, size_t size, VkInternalAllocationType type,
                                           VkSystemAllocationScope scope) {
  (void)user; (void)size; (void)type; (void)scope;
  count(K_INTERNAL_ALLOCATE);
}

static void VKAPI_PTR onInternalFree(void *user, size_t size, VkInternalAllocationType type,
                                     VkSystemAllocationScope scope) {
  (void)user; (void)size; (void)type; (void)scope;
  count(K_INTERNAL_FREE);
}

static const VkAllocationCallbacks callbacks = {
    NULL, onAllocation, onReallocation, onFree, onInternalAllocation, onInternalFree,
};

static void die(const char *what, VkResult result) {
  fprintf(stderr, "oracle: %s failed: VkResult %d\n", what, (int)result);
  exit(2);
}

/* Runs a Vulkan command that returns VkResult; exits on an error. */
#define CHECK(name, ...)                     \
  do {                                       \
    VkResult r_ = VK(name, __VA_ARGS__);     \
    leave();                                 \
    if (r_ < 0) die(#name, r_);              \
  } while (0)

/* The same lists, in the same order, as native/loader.h. */
#define GLOBAL_FUNCS(X)                     \
  X(vkCreateInstance)                       \
  X(vkEnumerateInstanceLayerProperties)     \
  X(vkEnumerateInstanceExtensionProperties) \
  X(vkEnumerateInstanceVersion)

#define INSTANCE_FUNCS(X)                    \
  X(vkDestroyInstance)                       \
  X(vkEnumeratePhysicalDevices)              \
  X(vkGetPhysicalDeviceProperties)           \
  X(vkGetPhysicalDeviceProperties2)          \
  X(vkGetPhysicalDeviceMemoryProperties)     \
  X(vkGetPhysicalDeviceQueueFamilyProperties) \
  X(vkCreateDevice)                          \
  X(vkGetDeviceProcAddr)

#define DEVICE_FUNCS(X)            \
  X(vkDestroyDevice)               \
  X(vkDeviceWaitIdle)              \
  X(vkGetDeviceQueue)              \
  X(vkQueueSubmit)                 \
  X(vkQueueWaitIdle)               \
  X(vkCreateBuffer)                \
  X(vkDestroyBuffer)               \
  X(vkGetBufferMemoryRequirements) \
  X(vkBindBufferMemory)            \
  X(vkAllocateMemory)              \
  X(vkFreeMemory)                  \
  X(vkMapMemory)                   \
  X(vkUnmapMemory)                 \
  X(vkFlushMappedMemoryRanges)     \
  X(vkInvalidateMappedMemoryRanges) \
  X(vkCreateFence)                 \
  X(vkDestroyFence)                \
  X(vkWaitForFences)               \
  X(vkResetFences)                 \
  X(vkGetFenceStatus)

#define DECLARE(name) static PFN_##name name##_;
GLOBAL_FUNCS(DECLARE)
INSTANCE_FUNCS(DECLARE)
DEVICE_FUNCS(DECLARE)
#undef DECLARE

static const char *const kDriverVars[2] = {"VK_DRIVER_FILES", "VK_ICD_FILENAMES"};

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: oracle <lvp_icd.*.json>\n");
    return 2;
  }
  mainThread = pthread_self();

  /* Loader::Open: libvulkan.so.1, or the loader VKALLOC_VULKAN_LIBRARY names */
  const char *library = getenv("VKALLOC_VULKAN_LIBRARY");
  if (!library || !*library) library = "libvulkan.so.1";
  void *lib = dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fprintf(stderr, "oracle: dlopen(%s): %s\n", library, dlerror());
    return 2;
  }
  PFN_vkGetInstanceProcAddr gipa = (PFN_vkGetInstanceProcAddr)dlsym(lib, "vkGetInstanceProcAddr");
  if (!gipa) {
    fprintf(stderr, "oracle: %s has no vkGetInstanceProcAddr\n", library);
    return 2;
  }
  enter("vkGetInstanceProcAddr");
#define LOAD_GLOBAL(name) name##_ = (PFN_##name)gipa(NULL, #name);
  GLOBAL_FUNCS(LOAD_GLOBAL)
#undef LOAD_GLOBAL
  leave();

  /* createInstance({ applicationName: 'oracle', apiVersion: '1.3', driver: 'lavapipe' }) */
  VkApplicationInfo app = {VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "oracle";
  app.applicationVersion = 1;
  app.pEngineName = "vkalloc";
  app.engineVersion = 1;
  app.apiVersion = VK_MAKE_API_VERSION(0, 1, 3, 0);
  VkInstanceCreateInfo ici = {VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  ici.pApplicationInfo = &app;
  ici.enabledLayerCount = 0;
  ici.ppEnabledLayerNames = NULL;
  ici.enabledExtensionCount = 0;
  ici.ppEnabledExtensionNames = NULL;

  VkInstance instance = VK_NULL_HANDLE;
  {
    char *saved[2];
    for (int i = 0; i < 2; i++) {
      const char *old = getenv(kDriverVars[i]);
      saved[i] = old ? strdup(old) : NULL;
      setenv(kDriverVars[i], argv[1], 1);
    }
    VkResult r = VK(vkCreateInstance, &ici, &callbacks, &instance);
    leave();
    for (int i = 0; i < 2; i++) {
      if (saved[i]) setenv(kDriverVars[i], saved[i], 1);
      else unsetenv(kDriverVars[i]);
      free(saved[i]);
    }
    if (r < 0) die("vkCreateInstance", r);
  }
  enter("vkGetInstanceProcAddr");
#define LOAD_INSTANCE(name) name##_ = (PFN_##name)gipa(instance, #name);
  INSTANCE_FUNCS(LOAD_INSTANCE)
#undef LOAD_INSTANCE
  leave();

  /* instance.physicalDevices(): enumerate, then each PhysicalDevice's constructor */
  uint32_t pdCount = 0;
  CHECK(vkEnumeratePhysicalDevices, instance, &pdCount, NULL);
  VkPhysicalDevice *pds = calloc(pdCount ? pdCount : 1, sizeof *pds);
  CHECK(vkEnumeratePhysicalDevices, instance, &pdCount, pds);
  if (pdCount == 0) {
    fprintf(stderr, "oracle: no physical devices\n");
    return 2;
  }
  VkPhysicalDeviceMemoryProperties memProps0 = {0};
  for (uint32_t d = 0; d < pdCount; d++) {
    VkPhysicalDeviceProperties p = {0};
    VKV(vkGetPhysicalDeviceProperties, pds[d], &p);
    if (p.apiVersion >= VK_API_VERSION_1_2 && vkGetPhysicalDeviceProperties2_) {
      VkPhysicalDeviceDriverProperties driver = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
      VkPhysicalDeviceProperties2 p2 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
      p2.pNext = &driver;
      VKV(vkGetPhysicalDeviceProperties2, pds[d], &p2);
    }
    VkPhysicalDeviceMemoryProperties m = {0};
    VKV(vkGetPhysicalDeviceMemoryProperties, pds[d], &m);
    if (d == 0) memProps0 = m;
    uint32_t qfCount = 0;
    VKV(vkGetPhysicalDeviceQueueFamilyProperties, pds[d], &qfCount, NULL);
    VkQueueFamilyProperties *families = calloc(qfCount ? qfCount : 1, sizeof *families);
    VKV(vkGetPhysicalDeviceQueueFamilyProperties, pds[d], &qfCount, families);
    free(families);
  }
  VkPhysicalDevice pd = pds[0];

  /* pd.createDevice({ queues: [{ family: 0 }] }) */
  float priority = 1.0f;
  VkDeviceQueueCreateInfo qci = {VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  qci.queueFamilyIndex = 0;
  qci.queueCount = 1;
  qci.pQueuePriorities = &priority;
  VkDeviceCreateInfo dci = {VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  dci.queueCreateInfoCount = 1;
  dci.pQueueCreateInfos = &qci;
  dci.enabledExtensionCount = 0;
  dci.ppEnabledExtensionNames = NULL;
  VkDevice device = VK_NULL_HANDLE;
  CHECK(vkCreateDevice, pd, &dci, &callbacks, &device);
  enter("vkGetDeviceProcAddr");
#define LOAD_DEVICE(name) name##_ = (PFN_##name)vkGetDeviceProcAddr_(device, #name);
  DEVICE_FUNCS(LOAD_DEVICE)
#undef LOAD_DEVICE
  leave();

  /* device.createBuffer({ size: 65536, usage: ['storage', 'transfer-dst'] }) */
  VkBufferCreateInfo bci = {VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  bci.size = 65536;
  bci.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  bci.flags = 0;
  bci.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  VkBuffer buffer = VK_NULL_HANDLE;
  CHECK(vkCreateBuffer, device, &bci, &callbacks, &buffer);

  /* buffer.memoryRequirements (asked once; bindMemory reuses it) */
  VkMemoryRequirements req = {0};
  VKV(vkGetBufferMemoryRequirements, device, buffer, &req);

  /* pd.findMemoryType(bits, ['host-visible', 'host-coherent']): the first allowed type with both */
  const VkMemoryPropertyFlags need = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  int32_t type = -1;
  for (uint32_t i = 0; i < memProps0.memoryTypeCount; i++) {
    if ((req.memoryTypeBits & (1u << i)) && (memProps0.memoryTypes[i].propertyFlags & need) == need) {
      type = (int32_t)i;
      break;
    }
  }
  if (type < 0) {
    fprintf(stderr, "oracle: no host-visible, host-coherent memory type\n");
    return 2;
  }

  /* device.allocateMemory({ size: req.size, memoryType: type }) */
  VkMemoryAllocateInfo mai = {VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  mai.allocationSize = req.size;
  mai.memoryTypeIndex = (uint32_t)type;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  CHECK(vkAllocateMemory, device, &mai, &callbacks, &memory);

  /* buffer.bindMemory(memory, 0) */
  CHECK(vkBindBufferMemory, device, buffer, memory, 0);

  /* memory.map() (offset 0, the whole size); fill(1); memory.unmap() */
  void *data = NULL;
  CHECK(vkMapMemory, device, memory, 0, req.size, 0, &data);
  memset(data, 1, (size_t)req.size);
  VKV(vkUnmapMemory, device, memory);

  /* device.createFence({}) */
  VkFenceCreateInfo fci = {VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VkFence fence = VK_NULL_HANDLE;
  CHECK(vkCreateFence, device, &fci, &callbacks, &fence);

  /* device.queue(0, 0) */
  VkQueue queue = VK_NULL_HANDLE;
  VKV(vkGetDeviceQueue, device, 0, 0, &queue);

  /* queue.submit([{}], fence); fence.wait(5e9); queue.waitIdle() */
  VkSubmitInfo batch = {VK_STRUCTURE_TYPE_SUBMIT_INFO};
  CHECK(vkQueueSubmit, queue, 1, &batch, fence);
  VkResult waited = VK(vkWaitForFences, device, 1, &fence, VK_TRUE, 5000000000ull);
  leave();
  if (waited < 0) die("vkWaitForFences", waited);
  if (waited != VK_SUCCESS) {
    fprintf(stderr, "oracle: vkWaitForFences timed out\n");
    return 2;
  }
  CHECK(vkQueueWaitIdle, queue);

  /* fence.destroy(); memory.destroy(); buffer.destroy(); device.destroy(); instance.destroy() */
  VKV(vkDestroyFence, device, fence, &callbacks);
  VKV(vkFreeMemory, device, memory, &callbacks);
  VKV(vkDestroyBuffer, device, buffer, &callbacks);
  VKV(vkDestroyDevice, device, &callbacks);
  VKV(vkDestroyInstance, instance, &callbacks);
  free(pds);

  printf("{\"calls\":{");
  for (int k = 0; k < K_COUNT; k++) printf("%s\"%s\":%llu", k ? "," : "", kNames[k], (unsigned long long)calls[k]);
  printf("},\"offThreadCalls\":{");
  for (int k = 0; k < K_COUNT; k++) {
    printf("%s\"%s\":%llu", k ? "," : "", kNames[k], (unsigned long long)offThreadCalls[k]);
  }
  printf("},\"commands\":[");
  for (int i = 0; i < phaseCount; i++) {
    struct Phase *ph = &phases[i];
    printf("%s{\"command\":\"%s\",\"calls\":{", i ? "," : "", ph->name);
    for (int k = 0; k < K_COUNT; k++) {
      printf("%s\"%s\":%llu", k ? "," : "", kNames[k], (unsigned long long)ph->calls[k]);
    }
    printf("},\"allocations\":%llu,\"reallocations\":%llu,\"frees\":%llu}", (unsigned long long)ph->allocations,
           (unsigned long long)ph->reallocations, (unsigned long long)ph->frees);
  }
  printf("],\"liveCount\":%lld,\"failures\":%llu,\"memoryType\":%d,\"size\":%llu}\n", (long long)live,
         (unsigned long long)failures, type, (unsigned long long)req.size);
  return 0;
}
