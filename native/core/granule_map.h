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
#include <vector>
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
    ForRegions(start, end, false, [&](Region* r, uintptr_t from, uintptr_t to) {
      any = r && AnyIn(r, from, to);
      return !any;
    });
    return any;
  }

  // Marks the granules of [start, end) when none is marked; false (nothing marked) else.
  // One region lookup for a range inside one region (nearly every block).
  bool MarkIfClear(uintptr_t start, uintptr_t end) {
    if (KeyOf(start) != KeyOf(end - 1)) {
      if (Any(start, end)) return false;
      Mark(start, end);
      return true;
    }
    Region* r = Find(KeyOf(start));
    if (!r)
      r = Create(KeyOf(start));
    else if (AnyIn(r, start, end))
      return false;
    MarkIn(r, start, end);
    return true;
  }

  void Mark(uintptr_t start, uintptr_t end) {
    ForRegions(start, end, true, [&](Region* r, uintptr_t from, uintptr_t to) {
      MarkIn(r, from, to);
      return true;
    });
  }

  void Unmark(uintptr_t start, uintptr_t end) {
    ForRegions(start, end, false, [&](Region* r, uintptr_t from, uintptr_t to) {
      if (!r) return true;
      ForWordsIn(from, to, [&](size_t word, uint64_t mask) { r->bits[word] &= ~mask; });
      if (r->blocks > 0 && --r->blocks == 0) empty_++;
      return true;
    });
    if (empty_ > kEmptyKept && 2 * empty_ > regions_.size()) DropEmpty();
  }

  void Clear() {
    regions_.ForEach([](uintptr_t, Region* r) { delete r; });
    regions_ = BlockTable<Region*>();
    empty_ = 0;
  }

 private:
  static constexpr int kGranuleBits = 4;
  static constexpr int kRegionBits = 16;
  static constexpr uintptr_t kRegionBytes = uintptr_t(1) << kRegionBits;
  static constexpr size_t kGranulesPerRegion = size_t(1) << (kRegionBits - kGranuleBits);
  // Emptied regions stay (a block freed and the next allocated in its place is the
  // common case), until more than this many and half of all are empty.
  static constexpr size_t kEmptyKept = 64;
  struct Region {
    uint64_t bits[kGranulesPerRegion / 64] = {};
    uint32_t blocks = 0;  // marked blocks with a granule here (no two share one)
  };

  // The key of the region holding `address`: its base, + 1 region so that the first's
  // is not 0 (an empty slot of the table).
  static uintptr_t KeyOf(uintptr_t address) { return ((address >> kRegionBits) + 1) << kRegionBits; }
  Region* Find(uintptr_t key) {
    Region** r = regions_.Find(key);
    return r ? *r : nullptr;
  }
  Region* Create(uintptr_t key) {
    Region* r = new Region();
    regions_.Insert(key, r);
    empty_++;  // (MarkIn makes it non-empty at once)
    return r;
  }
  // [from, to) lies in r's region.
  static bool AnyIn(const Region* r, uintptr_t from, uintptr_t to) {
    bool any = false;
    ForWordsIn(from, to, [&](size_t word, uint64_t mask) { any = any || (r->bits[word] & mask); });
    return any;
  }
  void MarkIn(Region* r, uintptr_t from, uintptr_t to) {
    ForWordsIn(from, to, [&](size_t word, uint64_t mask) { r->bits[word] |= mask; });
    if (r->blocks++ == 0) empty_--;
  }
  void DropEmpty() {
    std::vector<uintptr_t> keys;
    regions_.ForEach([&](uintptr_t key, Region* r) {
      if (r->blocks == 0) keys.push_back(key);
    });
    for (uintptr_t key : keys) {
      Region* removed = nullptr;
      regions_.Erase(key, &removed);
      delete removed;
    }
    empty_ = 0;
  }

  // Calls f(word, mask) for the words of one region's bitmap that [start, end) touches.
  template <typename F>
  static void ForWordsIn(uintptr_t start, uintptr_t end, F&& f) {
    uintptr_t g = start >> kGranuleBits;
    const uintptr_t last = (end - 1) >> kGranuleBits;
    while (g <= last) {
      const uintptr_t in = g & (kGranulesPerRegion - 1);
      const size_t bit = in & 63;
      const uintptr_t n = std::min<uintptr_t>(64 - bit, last - g + 1);
      f(static_cast<size_t>(in >> 6), (n == 64 ? ~uint64_t(0) : ((uint64_t(1) << n) - 1)) << bit);
      g += n;
    }
  }

  // Calls f(region or nullptr, from, to) for each region's part of [start, end), in
  // order, while f returns true; `create`: missing regions are made first.
  template <typename F>
  void ForRegions(uintptr_t start, uintptr_t end, bool create, F&& f) {
    for (uintptr_t from = start; from < end;) {
      const uintptr_t to = std::min(end, (from & ~(kRegionBytes - 1)) + kRegionBytes);
      Region* r = Find(KeyOf(from));
      if (!r && create) r = Create(KeyOf(from));
      if (!f(r, from, to)) return;
      from = to;
    }
  }

  BlockTable<Region*> regions_;
  size_t empty_ = 0;  // regions with no bit set
};

}  // namespace vkalloc
