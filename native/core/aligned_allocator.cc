#include "core/aligned_allocator.h"
#include <algorithm>
#include <cstdint>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace vkalloc {

namespace {

// malloc returns 16-aligned memory on 64-bit glibc; asking for max(16, alignment)
// extra bytes and placing the block at raw + 16 rounded up leaves 16 to
// max(16, alignment) bytes of slack: the header always fits.
constexpr size_t kHeader = 16;
constexpr uint32_t kLiveTag = 0x5a17c0deu;
constexpr uint32_t kFreedTag = ~kLiveTag;

struct Header {
  uint32_t tag;
  uint32_t adjustment;
  uint64_t size;
};
static_assert(sizeof(Header) == kHeader, "header is 16 bytes");
static_assert(alignof(std::max_align_t) >= 16, "the slack arithmetic relies on 16-aligned malloc");

Header* HeaderOf(void* p) {
  return reinterpret_cast<Header*>(static_cast<char*>(p) - kHeader);
}

}  // namespace

void* AlignedAllocate(size_t size, size_t alignment) {
  const size_t extra = std::max(kHeader, alignment);
  if (size > SIZE_MAX - extra) return nullptr;
  char* raw = static_cast<char*>(std::malloc(size + extra));
  if (!raw) return nullptr;
  uintptr_t aligned = (reinterpret_cast<uintptr_t>(raw) + kHeader + alignment - 1) & ~(uintptr_t(alignment) - 1);
  void* p = reinterpret_cast<void*>(aligned);
  *HeaderOf(p) = Header{kLiveTag, static_cast<uint32_t>(aligned - reinterpret_cast<uintptr_t>(raw)), size};
  return p;
}

bool AlignedFree(void* p) {
  if (!p) return true;
  Header* h = HeaderOf(p);
  if (h->tag != kLiveTag) return false;
  h->tag = kFreedTag;
  std::free(static_cast<char*>(p) - h->adjustment);
  return true;
}

void* AlignedReallocate(void* p, size_t size, size_t alignment) {
  void* q = AlignedAllocate(size, alignment);
  if (!q) return nullptr;
  std::memcpy(q, p, std::min<size_t>(HeaderOf(p)->size, size));
  AlignedFree(p);
  return q;
}

}  // namespace vkalloc
