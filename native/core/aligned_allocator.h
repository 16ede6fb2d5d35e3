// The aligned allocator of the default TypeScript policy, in C++: over-allocate
// from malloc, shift up to the alignment, keep a 16-byte header just before the
// address handed out. It serves callbacks that may not call JS (driver threads,
// teardown) and the native policy (NATIVE_POLICY in lib/), and is what the
// benchmark compares the TypeScript policy against.
#pragma once
#include <cstddef>

namespace vkalloc {

// `alignment` must be a power of two. Returns nullptr on failure.
void* AlignedAllocate(size_t size, size_t alignment);
// Only pointers from AlignedAllocate/AlignedReallocate; returns false (and does
// nothing) when the header's tag says otherwise.
bool AlignedFree(void* p);
// Same alignment as the original; on failure returns nullptr and `p` stays valid.
void* AlignedReallocate(void* p, size_t size, size_t alignment);

}  // namespace vkalloc
