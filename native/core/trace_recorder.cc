#include "core/trace_recorder.h"
#include "core/block_registry.h"
#if defined(__x86_64__)
#include <x86intrin.h>
#endif
#include <cmath>
#include <cstdint>
#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace vkalloc {

namespace {

// Maps in the pages of [from, to) ahead of use. A fresh buffer otherwise takes a page
// fault per 4 KiB (73 events) inside the callbacks being traced: on this VM ~25 ns
// per event, as much as the rest of recording it. MADV_POPULATE_WRITE (Linux 5.14)
// maps them in one call; a VM that shadows the guest's page tables still traps at the
// first write to each page, so each page is written too (at trace start or growth,
// not in the middle of a command's callbacks).
void Prefault(void* from, void* to) {
#if defined(__linux__)
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(from) + page - 1) & ~(page - 1);
  const uintptr_t end = reinterpret_cast<uintptr_t>(to) & ~(page - 1);
  if (end <= begin) return;
#if defined(MADV_POPULATE_WRITE)
  madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
#endif
  // Spare capacity of a vector of trivial events: bytes no event owns yet.
  for (uintptr_t p = begin; p < end; p += page) *reinterpret_cast<volatile char*>(p) = 0;
#else
  (void)from;
  (void)to;
#endif
}

void PrefaultSpare(std::vector<TraceEvent>& events) {
  Prefault(events.data() + events.size(), events.data() + events.capacity());
}

}  // namespace

const char* const kBeforeTrace = "(before the trace)";

uint64_t TraceRecorder::Ticks() {
#if defined(__x86_64__)
  return __rdtsc();
#else
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

TraceRecorder::TraceRecorder(const TraceOptions& options, std::thread::id jsThread)
    : options_(options), start_(std::chrono::steady_clock::now()), startTicks_(Ticks()) {
  events_.reserve(options_.capacity);
  PrefaultSpare(events_);
  commands_.push_back(kNoCommand);
  threads_.push_back(jsThread);
  objects_.push_back(TraceObjectRecord{"", kNoCommand, 0, -1, 0});
}

TraceEvent* TraceRecorder::Next() {
  if (events_.size() == events_.capacity()) {
    if (!options_.grow || events_.size() >= options_.maxEvents) {
      dropped_++;
      seq_++;  // the gap in seq shows where events are missing
      return nullptr;
    }
    events_.reserve(std::min(options_.maxEvents, events_.capacity() * 2));
    PrefaultSpare(events_);
  }
  events_.emplace_back();  // (zeroed)
  TraceEvent* e = &events_.back();
  e->seq = seq_++;
  e->time = static_cast<double>(Ticks() - startTicks_);
  return e;
}

void TraceRecorder::Finish() {
  const double ns = static_cast<double>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_).count());
  const double ticks = static_cast<double>(Ticks() - startTicks_);
  const double scale = ticks > 0 ? ns / ticks : 1.0;
  for (TraceEvent& e : events_) e.time = std::floor(e.time * scale);
}

uint16_t TraceRecorder::CommandIndex(const char* command) {
  if (commands_[lastCommand_] == command) return lastCommand_;  // most events repeat the last one
  for (size_t i = 0; i < commands_.size(); i++) {
    if (commands_[i] == command) return lastCommand_ = static_cast<uint16_t>(i);
  }
  commands_.push_back(command);
  return lastCommand_ = static_cast<uint16_t>(commands_.size() - 1);
}

uint8_t TraceRecorder::ThreadIndex(std::thread::id thread) {
  for (size_t i = 0; i < threads_.size(); i++)
    if (threads_[i] == thread) return static_cast<uint8_t>(i);
  if (threads_.size() < 255) threads_.push_back(thread);
  return static_cast<uint8_t>(threads_.size() - 1);
}

uint32_t TraceRecorder::ObjectIndex(uint64_t object, bool create) {
  if (object == 0) return 0;
  auto it = objectIndex_.find(object);
  if (it != objectIndex_.end()) return it->second;
  if (!create) return 0;
  objects_.push_back(TraceObjectRecord{"", kNoCommand, 0, -1, 0});
  uint32_t index = static_cast<uint32_t>(objects_.size() - 1);
  objectIndex_[object] = index;
  return index;
}

void TraceRecorder::Record(TraceKind kind, uint8_t scope, uint8_t flags, double size, uint32_t alignment,
                           uintptr_t address, uintptr_t oldAddress, const char* command, std::thread::id thread) {
  TraceEvent* e = Next();
  if (!e) return;
  e->kind = static_cast<uint8_t>(kind);
  e->scope = scope;
  e->size = size;
  e->alignment = alignment;
  e->address = static_cast<double>(address);
  e->oldAddress = static_cast<double>(oldAddress);
  e->command = CommandIndex(command);
  e->thread = ThreadIndex(thread);
  e->flags = flags | (e->thread != 0 ? kOffThread : 0) | (command == kNoCommand ? kOutsideCommand : 0);
}

uint32_t TraceRecorder::BeginCommand(const char* command, uint64_t object, const std::string* callSite) {
  TraceEvent* e = Next();
  if (!e) {
    openCommands_.push_back(OpenCommand{SIZE_MAX, command});
    return 0;
  }
  e->kind = static_cast<uint8_t>(TraceKind::CommandBegin);
  e->command = CommandIndex(command);
  e->object = ObjectIndex(object, false);
  if (callSite && options_.callSites) callSites_[e->seq] = *callSite;
  openCommands_.push_back(OpenCommand{events_.size() - 1, command});
  return e->seq;
}

void TraceRecorder::EndCommand(const char* command, int32_t result, uint64_t object, const char* objectType,
                               uint64_t parent) {
  size_t begin = openCommands_.empty() ? SIZE_MAX : openCommands_.back().begin;
  if (!openCommands_.empty()) openCommands_.pop_back();
  uint32_t index = 0;
  if (object != 0) {
    index = ObjectIndex(object, true);
    TraceObjectRecord& o = objects_[index];
    if (*o.type == '\0') {  // created before the trace started
      o.type = objectType;
      o.createdBy = kBeforeTrace;
      o.parent = ObjectIndex(parent, false);
    }
    Claim(begin, events_.size(), index);
  }
  TraceEvent* e = Next();
  if (index != 0) objects_[index].destroyedAt = e ? e->seq : seq_ - 1;
  claimBegin_ = claimEnd_ = SIZE_MAX;
  if (!e) return;
  e->kind = static_cast<uint8_t>(TraceKind::CommandEnd);
  e->command = CommandIndex(command);
  e->size = result;
  e->object = index;
  if (object == 0 && result >= 0 && IsCreateCommand(command)) {
    claimBegin_ = begin;
    claimEnd_ = events_.size();
  }
}

// What the JS thread allocated or freed in events [from, to) belongs to `index`.
void TraceRecorder::Claim(size_t from, size_t to, uint32_t index) {
  if (from == SIZE_MAX) return;
  for (size_t i = from; i < to && i < events_.size(); i++)
    if (events_[i].thread == 0 && events_[i].object == 0) events_[i].object = index;
}

void TraceRecorder::ObjectCreated(uint64_t object, const char* type, uint64_t parent) {
  uint32_t index = ObjectIndex(object, true);
  TraceObjectRecord& o = objects_[index];
  o.type = type;
  o.parent = ObjectIndex(parent, false);
  if (openCommands_.empty() && claimBegin_ != SIZE_MAX) {
    o.createdBy = commands_[events_[claimBegin_].command];
    o.createdAt = events_[claimBegin_].seq;
    Claim(claimBegin_, claimEnd_, index);
    claimBegin_ = claimEnd_ = SIZE_MAX;
  } else {
    // Made inside a command (physical devices) or by none (queues): not its allocations.
    o.createdBy = openCommands_.empty() ? kNoCommand : openCommands_.back().command;
    o.createdAt = seq_;
  }
}

}  // namespace vkalloc
