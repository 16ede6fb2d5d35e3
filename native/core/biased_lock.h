// A lock biased towards one thread. The bridge's registry is locked for nearly every
// callback by the JS thread and only now and then by a driver's own thread (lavapipe
// frees from its queue thread), yet an atomic exchange per lock cost ~6 ns on this
// kind of VM: a third of what the C++ policy adds to a malloc+free pair.
//
// Dekker's algorithm with the owner's fence moved to the rare side: the owner raises
// its flag and reads the other side's flag with plain stores and loads; another thread
// raises its flag and then runs a process-wide memory barrier (membarrier(2), private
// expedited), which orders the owner's accesses as a fence on its side would, before
// reading the owner's flag. Threads other than the owner queue on a spin lock among
// themselves. Where membarrier is not available (old kernels, seccomp) the owner uses a
// real fence. With no owner set (the layer: no thread is special), it is a spin lock.
// A driver that calls back from its own threads often (the spec says it should not)
// would pay a system call each time: after kRevokeAfter such locks the bias is
// dropped for good, and the owner queues on the spin lock like everyone else.
#pragma once
#include <atomic>
#include <thread>

namespace vkalloc {

// A spin on one atomic exchange, released by a plain store; a waiter that spins long
// yields, for the holder may have been preempted.
class SpinLock {
 public:
  void lock() {
    while (locked_.exchange(true, std::memory_order_acquire)) {
      for (int i = 0; locked_.load(std::memory_order_relaxed); i++) Wait(i);
    }
  }
  void unlock() { locked_.store(false, std::memory_order_release); }

  static void Wait(int spins) {
    if (spins < 100) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    } else {
      std::this_thread::yield();
    }
  }

 private:
  std::atomic<bool> locked_{false};
};

class BiasedLock {
 public:
  // Set once, before any other thread can use the lock.
  void SetOwner(std::thread::id owner);

  bool IsOwner() const { return hasOwner_ && std::this_thread::get_id() == owner_; }
  void lock() { Lock(IsOwner()); }
  void unlock() { Unlock(IsOwner()); }
  // For a caller that knows already whether it is the owner (it must be right).
  void Lock(bool owner) {
    if (owner)
      LockOwner();
    else
      LockOther();
  }
  void Unlock(bool owner) {
    if (!owner)
      UnlockOther();
    else if (ownerShared_)
      others_.unlock();
    else
      ownerIn_.store(false, std::memory_order_release);
  }
  // Whether the owner still skips atomics (for tests and the benchmark).
  bool Biased() const { return hasOwner_ && biased_.load(std::memory_order_relaxed); }
  static constexpr unsigned kRevokeAfter = 1024;
  // Locks as the owner when the caller says it is the owner thread (it must be right)
  // and the lock has one; unlocks the same way.
  class Guard {
   public:
    Guard(BiasedLock& lock, bool ownerThread) : lock_(lock), owner_(ownerThread && lock.hasOwner_) {
      lock_.Lock(owner_);
    }
    ~Guard() { lock_.Unlock(owner_); }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    BiasedLock& lock_;
    const bool owner_;
  };

 private:
  void LockOwner() {
    for (;;) {
      if (!biased_.load(std::memory_order_relaxed)) return LockOwnerShared();
      ownerIn_.store(true, std::memory_order_relaxed);
      LightBarrier();
      if (!otherIn_.load(std::memory_order_acquire)) return;
      ownerIn_.store(false, std::memory_order_release);  // back off while the other one goes
      for (int i = 0; otherIn_.load(std::memory_order_acquire); i++) SpinLock::Wait(i);
    }
  }
  void LockOwnerShared();
  void LockOther();
  void UnlockOther();
  void LightBarrier() const {
    if (heavyBarrier_)
      std::atomic_signal_fence(std::memory_order_seq_cst);  // the compiler's order is enough
    else
      std::atomic_thread_fence(std::memory_order_seq_cst);
  }

  bool hasOwner_ = false;
  bool heavyBarrier_ = false;  // membarrier works: the owner needs no fence of its own
  std::thread::id owner_;
  std::atomic<bool> ownerIn_{false};
  std::atomic<bool> otherIn_{false};
  SpinLock others_;
  std::atomic<bool> biased_{true};     // false once revoked (by a thread other than the owner)
  std::atomic<bool> ownerAck_{false};  // the owner has seen the revocation: others skip Dekker's part
  bool ownerShared_ = false;           // the owner holds others_ (owner thread only)
  bool otherFlagged_ = false;          // the other thread holding the lock raised otherIn_
  unsigned slowLocks_ = 0;             // locks by other threads while biased (under others_)
};

}  // namespace vkalloc
