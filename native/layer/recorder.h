// The layer's process-wide recorder: configuration from the environment, the block
// registry and contract checks of the napi-free core (native/core/block_registry.h,
// native/core/validator.h), the trace stream, fault injection, and the allocation callbacks
// the layer hands to drivers (recorder.cc).
//
// Environment (read when the library loads):
//   VKALLOC_TRACE_FILE   the trace file; %p becomes the process id (forked or exec'd
//                        children write their own). Unset: no trace.
//   VKALLOC_FAIL_FROM    N: refuse every host allocation from the Nth on (0 = all), the
//                        CTS alloc_callback_fail procedure. Unset: refuse none.
//   VKALLOC_FAIL_ONLY    comma-separated command names: only allocations made during these
//                        commands count toward N and can be refused.
//   VKALLOC_TRACE_LIMIT  bytes the trace file may take (default 1 GiB); past it records are
//                        dropped (a Z record marks where) but the exit record is written.
//   VKALLOC_CHECK        1: contract checks (the CTS's kinds + wrong-thread + outside-command),
//                        written to the trace as V lines.
#pragma once
#include <cstdint>
#include "layer/vkalloc_attach.h"

namespace vkalloc_layer {

// Opens the trace if VKALLOC_TRACE_FILE asks for one and it is not open yet (first instance).
void StartTrace();
// A key/value line in the trace's header (program, driver, device, ...).
void Meta(const char* key, const char* value);
// After vkDestroyInstance / vkDestroyDevice returned: how much is still live, and (with
// VKALLOC_CHECK, when no instance is left) a leak violation per live block.
void AfterDestroy(const char* what, uint64_t handle, bool lastInstance);
// The layer's own callbacks (the native aligned allocator, recorded).
const void* OwnCallbacks();
// In-process attach (vkalloc_attach.h; exported by attach.cc).
int Attach(const VkAllocationCallbacks* callbacks, const VkallocAttachHooks* hooks);
void Detach();
uint64_t LiveObjects(const VkAllocationCallbacks* callbacks);

}  // namespace vkalloc_layer
