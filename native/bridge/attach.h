// In-process attach: a HostAllocator put under the Vulkan objects another native addon
// (or any code in this process) creates with a NULL pAllocator, through the vkalloc layer
// loaded into this process (native/layer/vkalloc_attach.h, lib/layer/attach.ts,
// docs/tracing-any-program.md "In-process").
#pragma once
#include <napi.h>

namespace vkalloc {

// The Vulkan command the layer runs on this thread (its name), or kNoCommand: how the
// bridge names callbacks that come outside any vkalloc command.
const char* LayerCommand();

// attachLayer(libraryPath, bridge, holder, env: [name, value][]), detachLayer() -> number,
// layerAttachments() -> [{ holder, attached, liveObjects }] (lib/native/contract.ts).
Napi::Value AttachLayer(const Napi::CallbackInfo& info);
Napi::Value DetachLayer(const Napi::CallbackInfo& info);
Napi::Value LayerAttachments(const Napi::CallbackInfo& info);

}  // namespace vkalloc
