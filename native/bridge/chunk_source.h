// Raw memory for TypeScript policies: chunks that never move and are never freed
// by the GC while held, exposed to JS as external ArrayBuffers so a policy can
// read and write its headers through typed arrays.
//
// Chunks of kMapThreshold bytes and more get mappings of their own (mmap/munmap),
// so giving one back returns its pages to the system at once; smaller ones come
// from malloc, at their exact size. (posix_memalign of large, odd-sized chunks left
// glibc heap holes just too small for the next request of the same size: RSS grew
// by the chunk size at every obtain/release.)
#pragma once
#include <napi.h>
#include <memory>

namespace vkalloc {

Napi::Value ChunkObtain(const Napi::CallbackInfo& info);
Napi::Value ChunkRelease(const Napi::CallbackInfo& info);
// { chunks, bytes, mappedChunks, mappedBytes, spareMappedBytes }: this environment's live chunks (tests, soak).
Napi::Value ChunkStats(const Napi::CallbackInfo& info);

struct AddonData;
// At teardown, after every Vulkan object is destroyed: frees every chunk.
// Forgets the live chunks without freeing them (memory still in use as the env goes).
void AbandonAllChunks(AddonData* data);
void FreeAllChunks(AddonData* data);

// This environment's live chunks, shared with their finalizers (chunk_source.cc).
struct ChunkTable;
using ChunkTablePtr = std::shared_ptr<ChunkTable>;

}  // namespace vkalloc
