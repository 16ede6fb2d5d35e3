#include "core/block_registry.h"
#include <algorithm>
#include <cstring>

namespace vkalloc {

const char* const kScopeNames[kScopeCount] = {"command", "object", "cache", "device", "instance"};
const char* const kNoCommand = "none";

bool IsCreateCommand(const char* command) {
  return std::strncmp(command, "vkCreate", 8) == 0 || std::strncmp(command, "vkAllocate", 10) == 0;
}

static inline int ScopeIndex(uint8_t scope) {
  return scope < kScopeCount ? scope : 0;
}

void BlockRegistry::CountCall(CallKind kind, bool offThread) {
  calls_[static_cast<int>(kind)].fetch_add(1, std::memory_order_relaxed);
  if (offThread) offThread_[static_cast<int>(kind)].fetch_add(1, std::memory_order_relaxed);
}

static inline std::thread::id Me() {
  return std::this_thread::get_id();
}

void BlockRegistry::CountFailure(CallKind kind, const Block& request) {
  std::lock_guard<BiasedLock> lock(mu_);
  failures_++;
  if (trace_) {
    trace_->Record(kind == CallKind::Reallocate ? TraceKind::Reallocate : TraceKind::Allocate, request.scope, kFailed,
                   static_cast<double>(request.size), request.alignment, 0, 0, request.command, Me());
  }
}

void BlockRegistry::CountUnknownPointer(CallKind kind, void* address, const char* command) {
  std::lock_guard<BiasedLock> lock(mu_);
  unknown_++;
  if (trace_) {
    trace_->Record(kind == CallKind::Reallocate ? TraceKind::Reallocate : TraceKind::Free, 0, kFailed, 0, 0,
                   reinterpret_cast<uintptr_t>(address), 0, command, Me());
  }
}
void BlockRegistry::CountBadAlignment() {
  std::lock_guard<BiasedLock> lock(mu_);
  badAlignments_++;
}

CommandCounters& BlockRegistry::FindCommandLocked(const char* command) {
  for (CommandCounters& c : commands_) {
    if (c.command == command) return *(last_ = &c);
  }
  commands_.push_back(CommandCounters{command});  // (may move them all: last_ is set after)
  return *(last_ = &commands_.back());
}

// (a size-0 block owns one byte)
static inline uintptr_t EndOf(uintptr_t address, size_t size) {
  return address + std::max<size_t>(size, 1);
}

bool BlockRegistry::OverlapLocked(uintptr_t address, size_t size, uintptr_t ignore, Extent* conflict) {
  if (!checksOverlaps_) {  // malloc's blocks never overlap: only an address already live can be wrong
    const Block* live = address != ignore ? table_.Find(address) : nullptr;
    if (live && conflict) *conflict = Extent{address, live->size};
    return live != nullptr;
  }
  const uintptr_t end = EndOf(address, size);
  if (exact_) {
    uintptr_t start, stop;
    if (!extents_.Overlapping(address, end, ignore, &start, &stop)) return false;
    if (conflict) *conflict = Extent{start, table_.Find(start)->size};
    return true;
  }
  const Block* skipped = ignore ? table_.Find(ignore) : nullptr;
  if (skipped) granules_.Unmark(ignore, EndOf(ignore, skipped->size));
  const bool maybe = granules_.Any(address, end);
  if (skipped) granules_.Mark(ignore, EndOf(ignore, skipped->size));
  if (!maybe) return false;
  if (ConflictLocked(address, end, ignore, conflict)) return true;
  ToExtentsLocked();  // (unreachable: AdmitLocked's note)
  return false;
}

// Rare while blocks start on 16-byte boundaries (then only a policy handing out memory
// the driver holds gets here): a walk over every live block.
bool BlockRegistry::ConflictLocked(uintptr_t start, uintptr_t end, uintptr_t ignore, Extent* conflict) {
  bool found = false;
  Extent last;
  table_.ForEach([&](uintptr_t address, const Block& b) {
    if (address != ignore && address < end && EndOf(address, b.size) > start && (!found || address > last.address)) {
      last = Extent{address, b.size};
      found = true;
    }
  });
  if (found && conflict) *conflict = last;
  return found;
}

// On 16-byte boundaries two blocks share a granule only when they share a byte: a
// marked granule is always an overlap, and no granule is ever two blocks'. A block off
// them could share one with a neighbour (whose free would unmark it): extents from then.
void BlockRegistry::AdmitLocked(uintptr_t address) {
  if (checksOverlaps_ && !exact_ && (address & 15) != 0) ToExtentsLocked();
}

void BlockRegistry::ToExtentsLocked() {
  exact_ = true;
  granules_.Clear();
  table_.ForEach([&](uintptr_t start, const Block& b) { extents_.Insert(start, EndOf(start, b.size)); });
}

void BlockRegistry::AddLocked(uintptr_t address, const Block& block) {
  // (Only an unchecked Replace can bring an address already live: the first stays.)
  if (table_.Insert(address, block)) return;
  if (checksOverlaps_) {
    if (exact_)
      extents_.Insert(address, EndOf(address, block.size));
    else
      granules_.Mark(address, EndOf(address, block.size));
  }
  CountAddedLocked(block);
}

void BlockRegistry::CountAddedLocked(const Block& block) {
  liveBytes_ += block.size;
  if (block.owner == Owner::Native) nativeLive_++;
  peakBytes_ = std::max(peakBytes_, liveBytes_);
  peakCount_ = std::max<uint64_t>(peakCount_, LiveCountLocked());
  ScopeCounters& s = scopes_[ScopeIndex(block.scope)];
  s.allocations++;
  s.bytesAllocated += block.size;
  s.liveCount++;
  s.liveBytes += block.size;
  s.peakBytes = std::max(s.peakBytes, s.liveBytes);
  CommandCounters& c = CommandLocked(block.command);
  c.allocations++;
  c.bytesAllocated += block.size;
  c.peakLiveBytes = std::max(c.peakLiveBytes, liveBytes_);
}

void BlockRegistry::SubLocked(const Block& block, const char* command) {
  liveBytes_ -= block.size;
  if (block.owner == Owner::Native) nativeLive_--;
  ScopeCounters& s = scopes_[ScopeIndex(block.scope)];
  s.frees++;
  s.bytesFreed += block.size;
  s.liveCount--;
  s.liveBytes -= block.size;
  CommandCounters& c = CommandLocked(command);
  c.frees++;
  c.bytesFreed += block.size;
  c.peakLiveBytes = std::max(c.peakLiveBytes, liveBytes_);
}

bool BlockRegistry::Insert(void* address, const Block& block, Extent* conflict, bool ownerThread) {
  BiasedLock::Guard lock(mu_, ownerThread);
  const uintptr_t at = reinterpret_cast<uintptr_t>(address);
  if (checksOverlaps_) {
    AdmitLocked(at);
    if (!exact_ && granules_.MarkIfClear(at, EndOf(at, block.size))) {  // nearly every block: one lookup
      table_.Insert(at, block);  // (a live block at `at` would have marked a granule)
      CountAddedLocked(block);
    } else {
      if (OverlapLocked(at, block.size, 0, conflict)) return false;
      AddLocked(at, block);
    }
  } else if (const Block* live = table_.Insert(at, block)) {
    if (conflict) *conflict = Extent{at, live->size};  // one probe, not two
    return false;
  } else {
    CountAddedLocked(block);
  }
  if (trace_) {
    trace_->Record(TraceKind::Allocate, block.scope, 0, static_cast<double>(block.size), block.alignment, at, 0,
                   block.command, Me());
  }
  return true;
}

bool BlockRegistry::FindLocked(uintptr_t address, Block* out) {
  const Block* b = table_.Find(address);
  if (b) *out = *b;
  return b != nullptr;
}

bool BlockRegistry::EraseLocked(uintptr_t address, Block* removed) {
  if (!table_.Erase(address, removed)) return false;
  if (checksOverlaps_) {
    if (exact_)
      extents_.Erase(address);
    else
      granules_.Unmark(address, EndOf(address, removed->size));
  }
  return true;
}

template <typename Keep>
std::vector<std::pair<uintptr_t, Block>> BlockRegistry::CollectLocked(Keep keep) const {
  std::vector<std::pair<uintptr_t, Block>> out;
  auto visit = [&](uintptr_t address, const Block& b) {
    if (keep(b)) out.emplace_back(address, b);
  };
  table_.ForEach(visit);  // (in no order)
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

bool BlockRegistry::Remove(void* address, const char* command, Block* removed, bool ownerThread) {
  BiasedLock::Guard lock(mu_, ownerThread);
  if (!EraseLocked(reinterpret_cast<uintptr_t>(address), removed)) return false;
  SubLocked(*removed, command);
  if (trace_) {
    trace_->Record(TraceKind::Free, removed->scope, 0, static_cast<double>(removed->size), removed->alignment,
                   reinterpret_cast<uintptr_t>(address), 0, command, Me());
  }
  return true;
}

bool BlockRegistry::Find(void* address, Block* out) {
  std::lock_guard<BiasedLock> lock(mu_);
  return FindLocked(reinterpret_cast<uintptr_t>(address), out);
}

bool BlockRegistry::Replace(void* from, void* to, const Block& block, Check check, Extent* conflict) {
  std::lock_guard<BiasedLock> lock(mu_);
  const uintptr_t ignore = check == Check::AllButFrom ? reinterpret_cast<uintptr_t>(from) : 0;
  AdmitLocked(reinterpret_cast<uintptr_t>(to));
  if (check != Check::None && OverlapLocked(reinterpret_cast<uintptr_t>(to), block.size, ignore, conflict)) {
    return false;
  }
  // A reallocation is one call, not an allocation plus a free: bytes move, counts don't.
  Block old;
  if (EraseLocked(reinterpret_cast<uintptr_t>(from), &old)) {
    SubLocked(old, block.command);
    scopes_[ScopeIndex(old.scope)].frees--;
    CommandLocked(block.command).frees--;
  }
  AddLocked(reinterpret_cast<uintptr_t>(to), block);
  ScopeCounters& s = scopes_[ScopeIndex(block.scope)];
  s.allocations--;
  s.reallocations++;
  CommandCounters& c = CommandLocked(block.command);
  c.allocations--;
  c.reallocations++;
  if (trace_) {
    trace_->Record(TraceKind::Reallocate, block.scope, 0, static_cast<double>(block.size), block.alignment,
                   reinterpret_cast<uintptr_t>(to), reinterpret_cast<uintptr_t>(from), block.command, Me());
  }
  return true;
}

void BlockRegistry::Internal(bool allocate, size_t size, int scope, const char* command) {
  std::lock_guard<BiasedLock> lock(mu_);
  ScopeCounters& s = scopes_[ScopeIndex(static_cast<uint8_t>(scope))];
  if (allocate)
    s.internalBytes += size;
  else
    s.internalBytes -= std::min<uint64_t>(s.internalBytes, size);
  if (trace_) {
    trace_->Record(allocate ? TraceKind::InternalAllocate : TraceKind::InternalFree, static_cast<uint8_t>(scope), 0,
                   static_cast<double>(size), 0, 0, 0, command, Me());
  }
}

void BlockRegistry::StartTrace(const TraceOptions& options, std::thread::id jsThread) {
  std::lock_guard<BiasedLock> lock(mu_);
  trace_ = std::make_unique<TraceRecorder>(options, jsThread);
  tracing_.store(true, std::memory_order_relaxed);
}

std::unique_ptr<TraceRecorder> BlockRegistry::StopTrace() {
  std::lock_guard<BiasedLock> lock(mu_);
  tracing_.store(false, std::memory_order_relaxed);
  return std::move(trace_);
}

void BlockRegistry::TraceCommandBegin(const char* command, uint64_t object, const std::string* callSite) {
  std::lock_guard<BiasedLock> lock(mu_);
  if (trace_) trace_->BeginCommand(command, object, callSite);
}

void BlockRegistry::TraceCommandEnd(const char* command, int32_t result, uint64_t object, const char* type,
                                    uint64_t parent) {
  std::lock_guard<BiasedLock> lock(mu_);
  if (trace_) trace_->EndCommand(command, result, object, type, parent);
}

void BlockRegistry::TraceNullFree(const char* command) {
  std::lock_guard<BiasedLock> lock(mu_);
  if (trace_) trace_->Record(TraceKind::Free, 0, 0, 0, 0, 0, 0, command, Me());
}

void BlockRegistry::TraceObjectCreated(uint64_t object, const char* type, uint64_t parent) {
  std::lock_guard<BiasedLock> lock(mu_);
  if (trace_) trace_->ObjectCreated(object, type, parent);
}

RegistrySnapshot BlockRegistry::Snapshot() {
  std::lock_guard<BiasedLock> lock(mu_);
  RegistrySnapshot snap{};
  snap.liveCount = LiveCountLocked();
  snap.liveBytes = liveBytes_;
  snap.peakCount = peakCount_;
  snap.peakBytes = peakBytes_;
  snap.nativeLiveCount = nativeLive_;
  for (int i = 0; i < static_cast<int>(CallKind::Count); i++) {
    snap.calls[i] = calls_[i].load(std::memory_order_relaxed);
    snap.offThreadCalls[i] = offThread_[i].load(std::memory_order_relaxed);
  }
  snap.failures = failures_;
  snap.unknownPointers = unknown_;
  snap.badAlignments = badAlignments_;
  std::copy(std::begin(scopes_), std::end(scopes_), snap.scopes);
  snap.commands = commands_;
  return snap;
}

std::vector<std::pair<uintptr_t, Block>> BlockRegistry::LiveBlocks() {
  std::lock_guard<BiasedLock> lock(mu_);
  return CollectLocked([](const Block&) { return true; });
}

std::vector<std::pair<uintptr_t, Block>> BlockRegistry::LiveBlocksOf(uint32_t commandSeq, int scope) {
  std::lock_guard<BiasedLock> lock(mu_);
  if (commandSeq == 0) return {};
  return CollectLocked([&](const Block& b) { return b.commandSeq == commandSeq && (scope < 0 || b.scope == scope); });
}

void BlockRegistry::ResetCounters() {
  std::lock_guard<BiasedLock> lock(mu_);
  peakBytes_ = liveBytes_;
  peakCount_ = LiveCountLocked();
  for (ScopeCounters& s : scopes_) s.peakBytes = s.liveBytes;
  commands_.clear();
  last_ = nullptr;
}

}  // namespace vkalloc
