/*
 * The C side of the sweep measure in bench/run.js: the procedure the Vulkan CTS
 * uses for allocation-failure tests (dEQP-VK.api.object_management.alloc_callback_fail),
 * on one driver, in one process: for N = 0, 1, 2, ... refuse every allocation from
 * the Nth on while vkCreateInstance runs, until creation succeeds; each failing point
 * must return VK_ERROR_OUT_OF_HOST_MEMORY and leave no block live.
 *
 * Usage: sweep-cts <ICD manifest> <max points>
 * Prints one line of JSON: {"points", "ns", "clean"} (ns: the whole sweep's wall time).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <vulkan/vulkan.h>

static atomic_llong live;
static atomic_llong allocations;
static long long failFrom;

static int Refuse(void) { return atomic_fetch_add(&allocations, 1) >= failFrom; }

static void *VKAPI_PTR Allocate(void *user, size_t size, size_t alignment, VkSystemAllocationScope scope) {
  (void)user; (void)scope;
  if (Refuse()) return NULL;
  void *p = NULL;
  if (posix_memalign(&p, alignment < sizeof(void *) ? sizeof(void *) : alignment, size ? size : 1) != 0) return NULL;
  atomic_fetch_add(&live, 1);
  return p;
}

static void VKAPI_PTR Free(void *user, void *p) {
  (void)user;
  if (!p) return;
  atomic_fetch_sub(&live, 1);
  free(p);
}

static void *VKAPI_PTR Reallocate(void *user, void *p, size_t size, size_t alignment, VkSystemAllocationScope scope) {
  if (!p) return Allocate(user, size, alignment, scope);
  if (size == 0) {
    Free(user, p);
    return NULL;
  }
  if (Refuse()) return NULL;
  void *q = realloc(p, size); /* glibc keeps malloc's 16-byte alignment, all lavapipe asks */
  return q;
}

static void VKAPI_PTR Internal(void *u, size_t s, VkInternalAllocationType t, VkSystemAllocationScope c) {
  (void)u; (void)s; (void)t; (void)c;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: sweep-cts <ICD manifest> <max points>\n");
    return 2;
  }
  setenv("VK_DRIVER_FILES", argv[1], 1);
  setenv("VK_ICD_FILENAMES", argv[1], 1);
  const long long max = atoll(argv[2]);
  void *loader = dlopen("libvulkan.so.1", RTLD_NOW);
  if (!loader) {
    fprintf(stderr, "libvulkan.so.1: %s\n", dlerror());
    return 1;
  }
  PFN_vkGetInstanceProcAddr gipa = (PFN_vkGetInstanceProcAddr)dlsym(loader, "vkGetInstanceProcAddr");
  PFN_vkCreateInstance create = (PFN_vkCreateInstance)gipa(NULL, "vkCreateInstance");
  VkAllocationCallbacks cb = {NULL, Allocate, Reallocate, Free, Internal, Internal};
  VkApplicationInfo app = {VK_STRUCTURE_TYPE_APPLICATION_INFO, NULL, "sweep-cts", 1, "sweep-cts", 1, VK_API_VERSION_1_1};
  VkInstanceCreateInfo info = {VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, NULL, 0, &app, 0, NULL, 0, NULL};
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  long long points = 0;
  int clean = 1;
  for (failFrom = 0; failFrom < max; failFrom++) {
    atomic_store(&allocations, 0);
    VkInstance instance = VK_NULL_HANDLE;
    VkResult r = create(&info, &cb, &instance);
    points++;
    if (r == VK_SUCCESS) {
      PFN_vkDestroyInstance destroy = (PFN_vkDestroyInstance)gipa(instance, "vkDestroyInstance");
      destroy(instance, &cb);
      break;
    }
    if (r != VK_ERROR_OUT_OF_HOST_MEMORY || atomic_load(&live) != 0) clean = 0;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  long long ns = (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
  printf("{\"points\":%lld,\"ns\":%lld,\"clean\":%s}\n", points, ns, clean ? "true" : "false");
  return 0;
}
