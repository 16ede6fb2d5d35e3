// Raw memory for TypeScript policies: chunks that never move and are never freed
// by the GC while held, exposed to JS as external ArrayBuffers so a policy can
// read and write its headers through typed arrays.
#pragma once
#include <napi.h>

namespace vkalloc {

Napi::Value ChunkObtain(const Napi::CallbackInfo& info);
Napi::Value ChunkRelease(const Napi::CallbackInfo& info);

struct AddonData;
// At teardown, after every Vulkan object is destroyed: frees every chunk.
void FreeAllChunks(AddonData* data);

}  // namespace vkalloc
