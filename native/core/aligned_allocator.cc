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

// The adjustment is at most 16 + 65535 (17 bits); the bits above hold the size class
// + 1 of a block whose raw size was rounded up to its class (0: not rounded).
constexpr uint32_t kAdjustmentMask = 0xFFFFFF;
constexpr int kClassShift = 24;

// Places the aligned block with its header in `raw`; `cls` is its class + 1, or 0.
void* Place(char* raw, size_t size, size_t alignment, uint32_t cls) {
  uintptr_t aligned = (reinterpret_cast<uintptr_t>(raw) + kHeader + alignment - 1) & ~(uintptr_t(alignment) - 1);
  void* p = reinterpret_cast<void*>(aligned);
  const uint32_t adjustment = static_cast<uint32_t>(aligned - reinterpret_cast<uintptr_t>(raw));
  *HeaderOf(p) = Header{kLiveTag, adjustment | (cls << kClassShift), size};
  return p;
}

char* RawOf(void* p) {
  return static_cast<char*>(p) - (HeaderOf(p)->adjustment & kAdjustmentMask);
}

}  // namespace

void* AlignedAllocate(size_t size, size_t alignment) {
  const size_t extra = std::max(kHeader, alignment);
  if (size > SIZE_MAX - extra) return nullptr;
  char* raw = static_cast<char*>(std::malloc(size + extra));
  if (!raw) return nullptr;
  return Place(raw, size, alignment, 0);
}

bool AlignedFree(void* p) {
  if (!p) return true;
  Header* h = HeaderOf(p);
  if (h->tag != kLiveTag) return false;
  h->tag = kFreedTag;
  std::free(RawOf(p));
  return true;
}

void* AlignedReallocate(void* p, size_t size, size_t alignment) {
  void* q = AlignedAllocate(size, alignment);
  if (!q) return nullptr;
  std::memcpy(q, p, std::min<size_t>(HeaderOf(p)->size, size));
  AlignedFree(p);
  return q;
}

AlignedBlockCache::~AlignedBlockCache() {
  Release();
}

size_t AlignedBlockCache::Release() {
  size_t released = 0;
  for (size_t c = 0; c < kClasses; c++) {
    for (uint32_t i = 0; i < count_[c]; i++) std::free(raw_[c][i]);
    released += count_[c];
    count_[c] = 0;
  }
  return released;
}

size_t AlignedBlockCache::Kept() const {
  size_t kept = 0;
  for (size_t c = 0; c < kClasses; c++) kept += count_[c];
  return kept;
}

void* AlignedBlockCache::Allocate(size_t size, size_t alignment) {
  const size_t extra = std::max(kHeader, alignment);
  if (extra >= kClasses * 16 || size > kClasses * 16 - extra) return AlignedAllocate(size, alignment);
  const size_t c = (size + extra + 15) / 16 - 1;  // raw bytes: (c + 1) * 16 >= size + extra
  char* raw = count_[c] > 0 ? static_cast<char*>(raw_[c][--count_[c]]) : static_cast<char*>(std::malloc((c + 1) * 16));
  if (!raw) return nullptr;
  return Place(raw, size, alignment, static_cast<uint32_t>(c + 1));
}

bool AlignedBlockCache::Free(void* p) {
  if (!p) return true;
  Header* h = HeaderOf(p);
  if (h->tag != kLiveTag) return false;
  const uint32_t cls = h->adjustment >> kClassShift;
  if (cls == 0 || count_[cls - 1] == kPerClass) return AlignedFree(p);
  h->tag = kFreedTag;
  raw_[cls - 1][count_[cls - 1]++] = RawOf(p);
  return true;
}

}  // namespace vkalloc
