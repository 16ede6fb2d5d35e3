#include "layer/stream_writer.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstring>

namespace vkalloc_layer {

namespace {
constexpr uint64_t kWindow = 1 << 20;  // a multiple of the page size
}

bool StreamWriter::Open(const char* path, bool exclusive) {
  int fd = ::open(path, O_RDWR | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC), 0644);
  if (fd < 0) return false;
  fd_ = fd;
  pos_ = 0;
  if (!Map(0)) {
    int e = errno;
    Close();
    errno = e;
    return false;
  }
  return true;
}

bool StreamWriter::Map(uint64_t offset) {
  if (window_) ::munmap(window_, kWindow);
  window_ = nullptr;
  // Reserve the blocks first: writing to a mapping past a full disk is SIGBUS, not an error.
  if (::posix_fallocate(fd_, static_cast<off_t>(offset), static_cast<off_t>(kWindow)) != 0) return false;
  void* p = ::mmap(nullptr, kWindow, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, static_cast<off_t>(offset));
  if (p == MAP_FAILED) return false;
  window_ = static_cast<char*>(p);
  windowOffset_ = offset;
  return true;
}

void StreamWriter::Write(const char* data, size_t n) {
  while (n > 0 && fd_ >= 0) {
    if (pos_ >= windowOffset_ + kWindow && !Map(pos_ - pos_ % kWindow)) {
      Close();
      return;
    }
    size_t room = static_cast<size_t>(windowOffset_ + kWindow - pos_);
    size_t k = std::min(room, n);
    std::memcpy(window_ + (pos_ - windowOffset_), data, k);
    pos_ += k;
    data += k;
    n -= k;
  }
}

void StreamWriter::Close() {
  if (fd_ < 0) return;
  if (window_) ::munmap(window_, kWindow);
  window_ = nullptr;
  if (::ftruncate(fd_, static_cast<off_t>(pos_)) != 0) {
    // The NUL tail stays; readers stop at it.
  }
  ::close(fd_);
  fd_ = -1;
}

void StreamWriter::Abandon() {
  if (fd_ < 0) return;
  if (window_) ::munmap(window_, kWindow);
  window_ = nullptr;
  ::close(fd_);
  fd_ = -1;
}

Line& Line::Digits(uint64_t v) {
  char tmp[24];
  size_t k = 0;
  do {
    tmp[k++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  while (k && n_ < kMax + 20) buf_[n_++] = tmp[--k];
  return *this;
}

Line& Line::U(uint64_t v) {
  Tab();
  return Digits(v);
}

Line& Line::X(uint64_t v) {
  Tab();
  static const char kHex[] = "0123456789abcdef";
  char tmp[20];
  size_t k = 0;
  do {
    tmp[k++] = kHex[v & 15];
    v >>= 4;
  } while (v);
  while (k && n_ < kMax + 20) buf_[n_++] = tmp[--k];
  return *this;
}

Line& Line::S(const char* s) {
  Tab();
  for (; s && *s && n_ < kMax; s++) buf_[n_++] = (*s == '\t' || *s == '\n' || *s == '\r') ? ' ' : *s;
  return *this;
}

}  // namespace vkalloc_layer
