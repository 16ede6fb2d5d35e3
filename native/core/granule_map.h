// Which 16-byte granules of the address space hold a byte of a live block: one bit
// each, in bitmaps of 64 KiB regions found by hash. Blocks that share a byte share a
// granule, so no marked granule means no overlap: one region lookup and a word or
// two of bits, where the ExtentIndex behind it (block_registry.h) took 0.18 ms of a
// 2.3 ms lavapipe vkCreateInstance with a JS policy (two binary searches and a shift
// per change, in memory the driver's work had evicted). A marked granule may be a
// neighbour's and not an overlap; when every block starts on a 16-byte boundary it
// never is (the later block starts on the boundary the earlier one's bytes reach past).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include "core/block_table.h"

namespace vkalloc {

class GranuleMap {
 public:
  GranuleMap() = default;
  GranuleMap(const GranuleMap&) = delete;
  GranuleMap& operator=(const GranuleMap&) = delete;
  ~GranuleMap() { Clear(); }

  // Whether a granule of [start, end) (end > start) is marked.
  bool Any(uintptr_t start, uintptr_t end) {
    bool any = false;
    ForWords(start, end, [&](uintptr_t region, size_t word, uint64_t mask) {
      Region** r = regions_.Find(region);
      if (r && ((*r)->bits[word] & mask)) any = true;
      return !any;
    });
    return any;
  }

  void Mark(uintptr_t start, uintptr_t end) {
    ForWords(start, end, [&](uintptr_t region, size_t word, uint64_t mask) {
      Region** r = regions_.Find(region);
      Region* g = r ? *r : nullptr;
      if (!g) {
        g = new Region();
        regions_.Insert(region, g);
      }
      g->marked += static_cast<uint32_t>(__builtin_popcountll(mask & ~g->bits[word]));
      g->bits[word] |= mask;
      return true;
    });
  }

  void Unmark(uintptr_t start, uintptr_t end) {
    ForWords(start, end, [&](uintptr_t region, size_t word, uint64_t mask) {
      Region** r = regions_.Find(region);
      if (!r) return true;
      Region* g = *r;
      g->marked -= static_cast<uint32_t>(__builtin_popcountll(mask & g->bits[word]));
      g->bits[word] &= ~mask;
      if (g->marked == 0) {  // (an emptied region goes: address space is not memory)
        Region* removed = nullptr;
        regions_.Erase(region, &removed);
        delete removed;
      }
      return true;
    });
  }

  void Clear() {
    regions_.ForEach([](uintptr_t, Region* g) { delete g; });
    regions_ = BlockTable<Region*>();
  }

 private:
  static constexpr int kGranuleBits = 4;
  static constexpr int kRegionBits = 16;
  static constexpr size_t kGranulesPerRegion = size_t(1) << (kRegionBits - kGranuleBits);
  struct Region {
    uint64_t bits[kGranulesPerRegion / 64] = {};
    uint32_t marked = 0;  // bits set
  };

  // Calls f(region key, word, mask) for the bits of granules [start, end) touch, in
  // order, while f returns true. Region keys are region base addresses (never 0 for
  // a live block's region but the first, hence the + 1 region).
  template <typename F>
  static void ForWords(uintptr_t start, uintptr_t end, F&& f) {
    uintptr_t g = start >> kGranuleBits;
    const uintptr_t last = (end - 1) >> kGranuleBits;
    while (g <= last) {
      const uintptr_t in = g & (kGranulesPerRegion - 1);
      const size_t bit = in & 63;
      const uintptr_t n = std::min<uintptr_t>(64 - bit, last - g + 1);
      const uint64_t mask = (n == 64 ? ~uint64_t(0) : ((uint64_t(1) << n) - 1)) << bit;
      const uintptr_t region = ((g >> (kRegionBits - kGranuleBits)) + 1) << kRegionBits;
      if (!f(region, static_cast<size_t>(in >> 6), mask)) return;
      g += n;
    }
  }

  BlockTable<Region*> regions_;
};

}  // namespace vkalloc
