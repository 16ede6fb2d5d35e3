// The bridge's own record of live blocks (address -> size, alignment, scope, owner),
// independent of the policy: exact live/peak statistics, the old size for
// reallocation, detection of pointers the allocator never handed out, and, where the
// memory comes from a policy, of a new block overlapping a live one (Kind::Policy:
// a GranuleMap of the bytes live blocks hold, a walk over the blocks where it says
// maybe; from the first block off a 16-byte boundary, where it would say maybe
// often, an ExtentIndex). Where every block comes from malloc (Kind::Malloc: the C++
// allocator, the layer) no block can overlap another, and the table alone serves.
// Thread-safe: driver threads call back outside any command.
#pragma once
#include <algorithm>
#include <cstddef>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <new>
#include <vector>
#include "core/biased_lock.h"
#include "core/block_table.h"
#include "core/extent_index.h"
#include "core/granule_map.h"
#include "core/trace_recorder.h"

namespace vkalloc {

constexpr int kScopeCount = 5;  // VkSystemAllocationScope COMMAND..INSTANCE
extern const char* const kScopeNames[kScopeCount];
extern const char* const kNoCommand;  // attribution of off-thread calls

// vkCreate* / vkAllocate*: commands whose allocations belong to the object they make.
bool IsCreateCommand(const char* command);

enum class Owner : uint8_t { Policy, Native };
enum class CallKind : uint8_t { Allocate, Reallocate, Free, InternalAllocate, InternalFree, Count };

struct Block {
  size_t size;
  uint32_t alignment;
  uint8_t scope;
  Owner owner;
  const char* command;
  uint32_t commandSeq;  // which run of the command (AddonData::commandSeq), 0 = none
};

// A live block by address, as reported when a new one would overlap it.
struct Extent {
  uintptr_t address = 0;
  size_t size = 0;
};

struct ScopeCounters {
  uint64_t allocations = 0, reallocations = 0, frees = 0, bytesAllocated = 0, bytesFreed = 0;
  uint64_t liveCount = 0, liveBytes = 0, peakBytes = 0, internalBytes = 0;
};

struct CommandCounters {
  const char* command;
  uint64_t allocations = 0, reallocations = 0, frees = 0, bytesAllocated = 0, bytesFreed = 0, peakLiveBytes = 0;
};

struct RegistrySnapshot {
  uint64_t liveCount, liveBytes, peakCount, peakBytes, nativeLiveCount;
  uint64_t calls[static_cast<int>(CallKind::Count)];
  uint64_t offThreadCalls[static_cast<int>(CallKind::Count)];
  uint64_t failures, unknownPointers, badAlignments;
  ScopeCounters scopes[kScopeCount];
  std::vector<CommandCounters> commands;
};

// Every method is safe from any thread. When a trace is running, each change is
// also recorded there, under the same lock.
class BlockRegistry {
 public:
  enum class Kind { Policy, Malloc };
  explicit BlockRegistry(Kind kind = Kind::Policy) : checksOverlaps_(kind == Kind::Policy) {}
  // The thread that makes most calls (the JS thread) locks without atomics; once,
  // before any other thread calls (biased_lock.h).
  void SetOwnerThread(std::thread::id thread) { mu_.SetOwner(thread); }
  // Whether the owner thread still locks without atomics (a test's question).
  bool LockBiased() const { return mu_.Biased(); }

  void CountCall(CallKind kind, bool offThread);
  // A callback that returned NULL; `request` says what was asked.
  void CountFailure(CallKind kind, const Block& request);
  void CountUnknownPointer(CallKind kind, void* address, const char* command);
  void CountBadAlignment();
  // A new block (from pfnAllocation, or pfnReallocation with a NULL original).
  // False (and nothing recorded) when [address, address + size) overlaps a live
  // block (Malloc: when `address` is live); `*conflict` is then that block (a size-0
  // block still owns one byte).
  bool Insert(void* address, const Block& block, Extent* conflict) {
    return Insert(address, block, conflict, mu_.IsOwner());
  }
  // Removes a block; false when the address is not live (never handed out, or freed).
  bool Remove(void* address, const char* command, Block* removed) {
    return Remove(address, command, removed, mu_.IsOwner());
  }
  // The same, for a caller that knows whether it is the owner thread (true only when
  // it is: one thread check per callback rather than two per lock).
  bool Insert(void* address, const Block& block, Extent* conflict, bool ownerThread);
  bool Remove(void* address, const char* command, Block* removed, bool ownerThread);
  bool Find(void* address, Block* out);
  // A reallocation that moved or resized `from` into `to` (which may equal `from`).
  // False (and nothing changed) when the new block overlaps a live block `check` covers:
  // every other one for a policy's reallocate (it moved the bytes itself), `from` too
  // for allocate-copy-free (the copy needs both apart), none for the C++ allocator's
  // realloc (trusted; `from` is gone already, so there would be no undoing it).
  enum class Check { AllButFrom, All, None };
  bool Replace(void* from, void* to, const Block& block, Check check, Extent* conflict);
  void Internal(bool allocate, size_t size, int scope, const char* command);

  // Tracing (JS thread for start/stop and commands).
  void StartTrace(const TraceOptions& options, std::thread::id jsThread);
  std::unique_ptr<TraceRecorder> StopTrace();
  bool Tracing() const { return tracing_.load(std::memory_order_relaxed); }
  void TraceCommandBegin(const char* command, uint64_t object, const std::string* callSite);
  void TraceCommandEnd(const char* command, int32_t result, uint64_t object, const char* type, uint64_t parent);
  void TraceObjectCreated(uint64_t object, const char* type, uint64_t parent);
  void TraceNullFree(const char* command);

  RegistrySnapshot Snapshot();
  std::vector<std::pair<uintptr_t, Block>> LiveBlocks();
  // Live blocks allocated in run `commandSeq` of a command, with scope `scope` (-1: any).
  std::vector<std::pair<uintptr_t, Block>> LiveBlocksOf(uint32_t commandSeq, int scope);
  void ResetCounters();

 private:
  // True when [address, address + size) overlaps a live block other than `ignore`.
  bool OverlapLocked(uintptr_t address, size_t size, uintptr_t ignore, Extent* conflict);
  // Policy: a block about to be checked or added; one not on a 16-byte boundary
  // moves the registry from granules to extents, for good (granules would send many
  // checks to the walk).
  void AdmitLocked(uintptr_t address);
  void ToExtentsLocked();
  // The live block other than `ignore` that overlaps [start, end) and starts last
  // (a walk over every live block: for granules that say maybe).
  bool ConflictLocked(uintptr_t start, uintptr_t end, uintptr_t ignore, Extent* conflict);
  // Adds a block whose address no live block has.
  void AddLocked(uintptr_t address, const Block& block);
  void CountAddedLocked(const Block& block);
  bool FindLocked(uintptr_t address, Block* out);
  bool EraseLocked(uintptr_t address, Block* removed);
  size_t LiveCountLocked() const { return table_.size(); }
  // The live blocks `keep` accepts, in address order.
  template <typename Keep>
  std::vector<std::pair<uintptr_t, Block>> CollectLocked(Keep keep) const;
  void SubLocked(const Block& block, const char* command);
  // Most callbacks repeat the last command: that check is inline, the search is not.
  CommandCounters& CommandLocked(const char* command) {
    if (last_ && last_->command == command) return *last_;
    return FindCommandLocked(command);
  }
  CommandCounters& FindCommandLocked(const char* command);

  const bool checksOverlaps_;
  BiasedLock mu_;
  BlockTable<Block> table_;  // every live block
  // Policy: what the overlap check asks: granules_ until a block starts off a
  // 16-byte boundary (exact_ false), then extents_.
  GranuleMap granules_;
  ExtentIndex extents_;
  bool exact_ = false;
  uint64_t liveBytes_ = 0, peakBytes_ = 0, peakCount_ = 0, nativeLive_ = 0;
  // Counted without the lock (one atomic add, not a second lock per callback).
  std::atomic<uint64_t> calls_[static_cast<int>(CallKind::Count)] = {};
  std::atomic<uint64_t> offThread_[static_cast<int>(CallKind::Count)] = {};
  uint64_t failures_ = 0, unknown_ = 0, badAlignments_ = 0;
  ScopeCounters scopes_[kScopeCount];
  std::vector<CommandCounters> commands_;  // few distinct commands: a linear scan by pointer is fastest
  CommandCounters* last_ = nullptr;        // the last one found (in commands_): most callbacks repeat it
  std::unique_ptr<TraceRecorder> trace_;
  std::atomic<bool> tracing_{false};
};

}  // namespace vkalloc
