// Allocation tracing: every callback an AllocatorBridge sees, and the commands and
// objects around them, recorded natively into a binary buffer that TypeScript
// decodes in bulk (lib/trace/recorder.ts; lib/trace/format.ts documents the fields).
// No JS runs and no JS value is made per event. The owning BlockRegistry calls it
// with its lock held, so driver threads recording at the same time are safe.
#pragma once
#include <cstdint>
#include <chrono>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace vkalloc {

// 56 bytes; boundary.cc exports the size and offsets that lib/trace/recorder.ts reads.
struct TraceEvent {
  double time;         // 0: ns since the trace started
  double size;         // 8
  double address;      // 16
  double oldAddress;   // 24
  uint32_t seq;        // 32
  uint32_t alignment;  // 36
  uint16_t command;    // 40: index into the command table
  uint8_t kind;        // 42: lib/trace/format.ts EVENT_KINDS
  uint8_t scope;       // 43
  uint8_t flags;       // 44: 1 failed, 2 off-thread, 4 outside any command
  uint8_t thread;      // 45: 0 = the JS thread
  uint16_t reserved;   // 46
  uint32_t object;     // 48: index into the object table
  uint32_t reserved2;  // 52
};
static_assert(sizeof(TraceEvent) == 56, "TraceEvent layout is read by TypeScript");

extern const char* const kBeforeTrace;  // createdBy of objects older than the trace

enum class TraceKind : uint8_t { Allocate, Reallocate, Free, InternalAllocate, InternalFree, CommandBegin, CommandEnd };
enum TraceFlag : uint8_t { kFailed = 1, kOffThread = 2, kOutsideCommand = 4 };

struct TraceOptions {
  size_t capacity = 65536;     // events preallocated
  size_t maxEvents = 4 << 20;  // growth stops here
  bool grow = true;            // false: drop (and count) once capacity is reached
  bool callSites = false;
};

struct TraceObjectRecord {
  const char* type;
  const char* createdBy;
  uint32_t createdAt;
  int64_t destroyedAt;  // -1 while alive
  uint32_t parent;
};

class TraceRecorder {
 public:
  TraceRecorder(const TraceOptions& options, std::thread::id jsThread);

  void Record(TraceKind kind, uint8_t scope, uint8_t flags, double size, uint32_t alignment, uintptr_t address,
              uintptr_t oldAddress, const char* command, std::thread::id thread);
  // A command issued from JS begins/ends. What it allocates or frees belongs to the
  // object it destroys (known at begin) or creates (known when its wrapper attaches).
  uint32_t BeginCommand(const char* command, uint64_t object, const std::string* callSite);
  // `object` (env-wide id, 0 = none) is the object being destroyed, if any.
  void EndCommand(const char* command, int32_t result, uint64_t object, const char* objectType, uint64_t parent);
  // A wrapper was attached: it claims what the create command that just ended
  // allocated (vkCreate*/vkAllocate* only, once), else it is recorded unattributed.
  void ObjectCreated(uint64_t object, const char* type, uint64_t parent);

  // Converts tick timestamps to ns since the start; call once, before reading Events().
  void Finish();
  const std::vector<TraceEvent>& Events() const { return events_; }
  uint64_t Dropped() const { return dropped_; }
  const std::vector<const char*>& Commands() const { return commands_; }
  const std::vector<TraceObjectRecord>& Objects() const { return objects_; }
  const std::unordered_map<uint32_t, std::string>& CallSites() const { return callSites_; }
  bool CallSitesEnabled() const { return options_.callSites; }

 private:
  TraceEvent* Next();
  uint16_t CommandIndex(const char* command);
  uint8_t ThreadIndex(std::thread::id thread);
  uint32_t ObjectIndex(uint64_t object, bool create);
  void Claim(size_t from, size_t to, uint32_t index);

  // Timestamps are taken as raw ticks (the TSC on x86-64: a few ns, where the
  // monotonic clock costs ~25 ns, the most of a traced event) and converted to ns
  // against the monotonic clock when the trace is read (Finish()).
  static uint64_t Ticks();
  TraceOptions options_;
  std::chrono::steady_clock::time_point start_;
  uint64_t startTicks_;
  std::vector<TraceEvent> events_;
  uint64_t dropped_ = 0;
  uint32_t seq_ = 0;
  std::vector<const char*> commands_;       // [0] = "none"; few: a linear scan by pointer
  uint16_t lastCommand_ = 0;                // where the last one was found
  std::vector<std::thread::id> threads_;    // [0] = the JS thread
  std::vector<TraceObjectRecord> objects_;  // [0] = placeholder
  std::unordered_map<uint64_t, uint32_t> objectIndex_;
  std::unordered_map<uint32_t, std::string> callSites_;  // by command-begin seq
  // Each open command, and the index of its begin event (SIZE_MAX: dropped, the buffer was full).
  struct OpenCommand {
    size_t begin;
    const char* command;
  };
  std::vector<OpenCommand> openCommands_;
  // The last command that ended and may still be claimed by the object it created.
  size_t claimBegin_ = SIZE_MAX, claimEnd_ = SIZE_MAX;
};

}  // namespace vkalloc
