// Disjoint extents [start, end) in address order: what a registry of a policy's blocks
// needs to tell that a new block overlaps a live one (the blocks themselves live in a
// BlockTable, by address). Leaves of up to 64 sorted extents, found through a sorted
// array of each leaf's first start: two binary searches in contiguous memory and a
// short shift per change, where a std::map chased ~11 nodes (measured in a lavapipe
// vkCreateInstance: the map's find, insert and erase were 7% of the time, 0.2 ms).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace vkalloc {

// The first of a[0..n) that is >= x (n when none), in sorted a. Without branches on
// the data: a std::lower_bound mispredicts about every other step on addresses, which
// made this index as slow as the map.
inline size_t LowerBound(const uintptr_t* a, size_t n, uintptr_t x) {
  if (n == 0) return 0;
  const uintptr_t* base = a;
  while (n > 1) {
    const size_t half = n / 2;
    base = base[half] < x ? base + half : base;
    n -= half;
  }
  return static_cast<size_t>(base - a) + (*base < x);
}

class ExtentIndex {
 public:
  size_t size() const { return size_; }

  // Whether [start, end) overlaps a live extent other than the one starting at
  // `ignore` (0: none ignored); that extent in *hitStart, *hitEnd. Extents are
  // disjoint, so their ends are in order too: among those starting before `end`,
  // only the last can reach past `start`.
  bool Overlapping(uintptr_t start, uintptr_t end, uintptr_t ignore, uintptr_t* hitStart, uintptr_t* hitEnd) const {
    size_t leaf = LowerBound(firsts_.data(), firsts_.size(), end);
    if (leaf == 0) return false;  // nothing starts before `end`
    leaf--;
    const Leaf* l = leaves_[leaf].get();
    size_t at = LowerBound(l->start, l->count, end);  // >= 1: firsts_[leaf] < end
    if (at-- == 0) return false;
    if (l->start[at] == ignore && !Back(&leaf, &at)) return false;
    l = leaves_[leaf].get();
    if (l->end[at] <= start) return false;
    *hitStart = l->start[at];
    *hitEnd = l->end[at];
    return true;
  }

  // Adds [start, end); false (nothing changed) when an extent already starts there.
  bool Insert(uintptr_t start, uintptr_t end) {
    if (leaves_.empty()) {
      leaves_.push_back(NewLeaf());
      firsts_.push_back(start);
    }
    size_t leaf = LeafOf(start);
    Leaf* l = leaves_[leaf].get();
    size_t at = LowerBound(l->start, l->count, start);
    if (at < l->count && l->start[at] == start) return false;
    if (l->count == kLeaf) {  // split in halves; the new extent goes to the half it sorts into
      Split(leaf);
      if (at > kLeaf / 2) {
        at -= kLeaf / 2;
        leaf++;
      }
      l = leaves_[leaf].get();
    }
    std::copy_backward(l->start + at, l->start + l->count, l->start + l->count + 1);
    std::copy_backward(l->end + at, l->end + l->count, l->end + l->count + 1);
    l->start[at] = start;
    l->end[at] = end;
    l->count++;
    if (at == 0) firsts_[leaf] = start;
    size_++;
    return true;
  }

  // Removes the extent starting at `start`; false when there is none.
  bool Erase(uintptr_t start) {
    if (leaves_.empty()) return false;
    const size_t leaf = LeafOf(start);
    Leaf* l = leaves_[leaf].get();
    const size_t at = LowerBound(l->start, l->count, start);
    if (at == l->count || l->start[at] != start) return false;
    std::copy(l->start + at + 1, l->start + l->count, l->start + at);
    std::copy(l->end + at + 1, l->end + l->count, l->end + at);
    l->count--;
    size_--;
    if (l->count == 0) {
      Drop(leaf);
      return true;
    }
    if (at == 0) firsts_[leaf] = l->start[0];
    // Sparse neighbours merge, so that erasures never leave many near-empty leaves.
    if (leaf + 1 < leaves_.size() && l->count + leaves_[leaf + 1]->count <= kLeaf / 2)
      Merge(leaf);
    else if (leaf > 0 && l->count + leaves_[leaf - 1]->count <= kLeaf / 2)
      Merge(leaf - 1);
    return true;
  }

  void Clear() {
    leaves_.clear();
    firsts_.clear();
    size_ = 0;
  }

 private:
  static constexpr size_t kLeaf = 64;
  struct Leaf {
    size_t count = 0;
    uintptr_t start[kLeaf];
    uintptr_t end[kLeaf];
  };

  // The last leaf whose first start is <= `start` (the first leaf when none is).
  size_t LeafOf(uintptr_t start) const {
    const size_t n = LowerBound(firsts_.data(), firsts_.size(), start + 1);  // (upper bound)
    return n == 0 ? 0 : n - 1;
  }

  // Steps (*leaf, *at) back one extent; false at the first.
  bool Back(size_t* leaf, size_t* at) const {
    if (*at > 0) {
      (*at)--;
      return true;
    }
    if (*leaf == 0) return false;
    (*leaf)--;
    *at = leaves_[*leaf]->count - 1;
    return true;
  }

  std::unique_ptr<Leaf> NewLeaf() {
    if (spare_) return std::move(spare_);
    return std::make_unique<Leaf>();
  }

  void Split(size_t leaf) {
    Leaf* l = leaves_[leaf].get();
    std::unique_ptr<Leaf> right = NewLeaf();
    right->count = l->count - kLeaf / 2;
    std::copy(l->start + kLeaf / 2, l->start + l->count, right->start);
    std::copy(l->end + kLeaf / 2, l->end + l->count, right->end);
    l->count = kLeaf / 2;
    firsts_.insert(firsts_.begin() + leaf + 1, right->start[0]);
    leaves_.insert(leaves_.begin() + leaf + 1, std::move(right));
  }

  // Moves leaf + 1's extents to the end of `leaf` (they fit) and drops it.
  void Merge(size_t leaf) {
    Leaf* l = leaves_[leaf].get();
    Leaf* r = leaves_[leaf + 1].get();
    std::copy(r->start, r->start + r->count, l->start + l->count);
    std::copy(r->end, r->end + r->count, l->end + l->count);
    l->count += r->count;
    r->count = 0;
    Drop(leaf + 1);
  }

  void Drop(size_t leaf) {
    leaves_[leaf]->count = 0;
    spare_ = std::move(leaves_[leaf]);  // one kept: a leaf emptied and refilled costs no malloc
    leaves_.erase(leaves_.begin() + leaf);
    firsts_.erase(firsts_.begin() + leaf);
  }

  std::vector<std::unique_ptr<Leaf>> leaves_;
  std::vector<uintptr_t> firsts_;  // firsts_[i] == leaves_[i]->start[0]
  std::unique_ptr<Leaf> spare_;
  size_t size_ = 0;
};

}  // namespace vkalloc
