// The aligned allocator of the default TypeScript policy, in C++: over-allocate
// from malloc, shift up to the alignment, keep a 16-byte header just before the
// address handed out. It serves callbacks that may not call JS (driver threads,
// teardown) and the native policy (NATIVE_POLICY in lib/), and is what the
// benchmark compares the TypeScript policy against.
#pragma once
#include <cstddef>
#include <cstdint>

namespace vkalloc {

// `alignment` must be a power of two. Returns nullptr on failure.
void* AlignedAllocate(size_t size, size_t alignment);
// Only pointers from AlignedAllocate/AlignedReallocate; returns false (and does
// nothing) when the header's tag says otherwise.
bool AlignedFree(void* p);
// Same alignment as the original; on failure returns nullptr and `p` stays valid.
void* AlignedReallocate(void* p, size_t size, size_t alignment);

// Small blocks one thread (the JS thread) freed, kept for its next requests of the same
// size: a driver frees and allocates the same sizes over and over, and a pop and a
// push cost a fraction of malloc+free (glibc's own per-thread cache is behind a
// function call, its checks and a larger set of sizes). Blocks it hands out are
// ordinary AlignedAllocate blocks: AlignedFree/AlignedReallocate take them on any
// thread. Not thread-safe: one owner thread calls Allocate and Free. At most
// kPerClass blocks of each of the kClasses sizes (16 to 1024 bytes of raw memory):
// 17 KiB per class, ~1 MiB in all at worst; given back when it goes.
class AlignedBlockCache {
 public:
  AlignedBlockCache() = default;
  AlignedBlockCache(const AlignedBlockCache&) = delete;
  AlignedBlockCache& operator=(const AlignedBlockCache&) = delete;
  ~AlignedBlockCache();
  void* Allocate(size_t size, size_t alignment);
  // Like AlignedFree (false, nothing done, for a pointer it did not hand out).
  bool Free(void* p);
  // Gives every kept block back to malloc; returns how many.
  size_t Release();
  size_t Kept() const;

  static constexpr size_t kClasses = 64;
  static constexpr uint32_t kPerClass = 16;

 private:
  void* raw_[kClasses][kPerClass];
  uint32_t count_[kClasses] = {};
};

}  // namespace vkalloc
