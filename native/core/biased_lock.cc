#include "core/biased_lock.h"
#if defined(__linux__)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace vkalloc {

namespace {

#if defined(__linux__)
long Membarrier(int command) {
  return syscall(__NR_membarrier, command, 0, 0);
}

// Registers the process for private expedited barriers once; false where the kernel
// (or a seccomp filter) refuses them.
bool MembarrierWorks() {
  static const bool works = [] {
    const long supported = Membarrier(MEMBARRIER_CMD_QUERY);
    if (supported < 0 || !(supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) return false;
    return Membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
  }();
  return works;
}

bool HeavyBarrier() {
  return Membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0;
}
#else
bool MembarrierWorks() {
  return false;
}
bool HeavyBarrier() {
  return false;
}
#endif

}  // namespace

void BiasedLock::SetOwner(std::thread::id owner) {
  heavyBarrier_ = MembarrierWorks();
  owner_ = owner;
  hasOwner_ = true;
}

// The bias is gone: the owner acknowledges it (from then on it never takes the
// plain path again, so others need not watch its flag) and queues with the others.
void BiasedLock::LockOwnerShared() {
  ownerAck_.store(true, std::memory_order_release);
  others_.lock();
  ownerShared_ = true;
}

void BiasedLock::LockOther() {
  others_.lock();
  otherFlagged_ = false;
  // No owner, or one that queues on others_ now: holding others_ is enough.
  if (!hasOwner_ || ownerAck_.load(std::memory_order_acquire)) return;
  otherFlagged_ = true;
  otherIn_.store(true, std::memory_order_relaxed);
  // Either barrier orders our flag before our read of the owner's: membarrier also
  // stands in for the fence the owner skips.
  if (!heavyBarrier_ || !HeavyBarrier()) std::atomic_thread_fence(std::memory_order_seq_cst);
  for (int i = 0; ownerIn_.load(std::memory_order_acquire); i++) SpinLock::Wait(i);
  // Holding the lock with our flag up: the owner is out, and will read this before
  // it tries the plain path again.
  if (++slowLocks_ == kRevokeAfter) biased_.store(false, std::memory_order_relaxed);
}

void BiasedLock::UnlockOther() {
  if (otherFlagged_) otherIn_.store(false, std::memory_order_release);
  others_.unlock();
}

}  // namespace vkalloc
