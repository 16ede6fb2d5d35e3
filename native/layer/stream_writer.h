// The layer's trace file, written as the program runs (format: lib/trace/stream-format.ts).
//
// The file is written through a shared memory mapping, grown 1 MiB at a time: a line is
// in the kernel's page cache the moment it is copied, so a program that crashes, aborts or
// is killed (SIGKILL included) leaves every line up to its last callback. The unused tail
// of the last window reads as NUL bytes until Close() trims it; readers stop at the first
// NUL. Not thread-safe: the caller holds the layer's lock.
#pragma once
#include <cstddef>
#include <cstdint>

namespace vkalloc_layer {

class StreamWriter {
 public:
  // Creates or truncates `path` (exclusive: fails when it exists). False on failure, errno set.
  bool Open(const char* path, bool exclusive);
  bool IsOpen() const { return fd_ >= 0; }
  // Appends; on a full disk the writer closes itself and the rest of the trace is lost.
  void Write(const char* data, size_t n);
  // Trims the file to what was written and closes it.
  void Close();
  // In a forked child: forgets the parent's file without touching it.
  void Abandon();
  uint64_t Written() const { return pos_; }

 private:
  bool Map(uint64_t offset);
  int fd_ = -1;
  char* window_ = nullptr;
  uint64_t windowOffset_ = 0;
  uint64_t pos_ = 0;
};

// Formats one line into a fixed buffer (no allocation, no locale).
class Line {
 public:
  explicit Line(char kind) {
    buf_[0] = kind;
    n_ = 1;
  }
  Line& U(uint64_t v);
  Line& I(int64_t v) {
    if (v < 0) {
      Tab();
      buf_[n_++] = '-';
      return Digits(static_cast<uint64_t>(-v));
    }
    return U(static_cast<uint64_t>(v));
  }
  Line& X(uint64_t v);     // hex, no prefix
  Line& S(const char* s);  // tabs and newlines become spaces
  const char* Data() {
    buf_[n_] = '\n';
    return buf_;
  }
  size_t Size() const { return n_ + 1; }

 private:
  void Tab() {
    if (n_ < kMax) buf_[n_++] = '\t';
  }
  Line& Digits(uint64_t v);
  static constexpr size_t kMax = 1000;
  char buf_[kMax + 24];
  size_t n_;
};

}  // namespace vkalloc_layer
