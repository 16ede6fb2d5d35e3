// Live blocks by address in an open-addressing hash table (linear probing, deletion
// by shifting back, so no tombstones): for registries that need exact lookups only.
// Against the ordered map: no node per block, no rebalancing, one cache line per
// lookup in the common case. It cannot find a block's neighbours, so it cannot tell
// that a new block overlaps a live one: only an address already live.
#pragma once
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace vkalloc {

template <typename Value>
class BlockTable {
 public:
  struct Slot {
    uintptr_t key;  // 0 = empty (no block lives at address 0)
    Value value;
  };

  size_t size() const { return size_; }

  Value* Find(uintptr_t key) {
    if (size_ == 0) return nullptr;
    for (size_t i = Home(key);; i = (i + 1) & mask()) {
      Slot& s = slots_[i];
      if (s.key == key) return &s.value;
      if (s.key == 0) return nullptr;
    }
  }

  // Adds `key`; when it is already there, changes nothing and returns its value.
  Value* Insert(uintptr_t key, const Value& value) {
    if (2 * (size_ + 1) > mask_ + 1) Grow();
    for (size_t i = Home(key);; i = (i + 1) & mask()) {
      Slot& s = slots_[i];
      if (s.key == key) return &s.value;
      if (s.key == 0) {
        s.key = key;
        s.value = value;
        size_++;
        return nullptr;
      }
    }
  }

  // Removes `key` into *removed; false when it is not there.
  bool Erase(uintptr_t key, Value* removed) {
    if (size_ == 0) return false;
    size_t i = Home(key);
    for (;; i = (i + 1) & mask()) {
      if (slots_[i].key == key) break;
      if (slots_[i].key == 0) return false;
    }
    *removed = slots_[i].value;
    // Shift later entries of the run back into the hole while that keeps them at or
    // after their home slot, so that every lookup still finds them before an empty slot.
    for (size_t j = (i + 1) & mask(); slots_[j].key != 0; j = (j + 1) & mask()) {
      const size_t home = Home(slots_[j].key);
      const bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
      if (movable) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i].key = 0;
    size_--;
    return true;
  }

  template <typename F>
  void ForEach(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.key != 0) f(s.key, s.value);
    }
  }

 private:
  static constexpr int kInitialBits = 8;
  static constexpr size_t kInitial = size_t(1) << kInitialBits;

  size_t mask() const { return mask_; }  // (kept: slots_.size() would divide by sizeof(Slot))
  // Blocks are at least 8-aligned: drop the low bits, then spread with a multiply.
  size_t Home(uintptr_t key) const { return static_cast<size_t>(((key >> 3) * 0x9E3779B97F4A7C15ull) >> (64 - bits_)); }

  void Grow() {
    std::vector<Slot> old(slots_.empty() ? kInitial : slots_.size() * 2);
    old.swap(slots_);  // now slots_ is the bigger, empty table; old has the entries
    bits_ = bits_ == 0 ? kInitialBits : bits_ + 1;
    mask_ = (size_t(1) << bits_) - 1;
    size_ = 0;
    for (const Slot& s : old) {
      if (s.key != 0) Insert(s.key, s.value);
    }
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
  int bits_ = 0;     // log2 of the slot count; no slots until the first insert
  size_t mask_ = 0;  // slot count - 1 (Grow() runs first: 2 * 1 > 0 + 1)
};

}  // namespace vkalloc
