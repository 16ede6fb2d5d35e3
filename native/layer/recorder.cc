// Recording, fault injection and contract checks for every host-allocation callback the
// layer hands down, and the per-thread command stack that attributes them (layer.h,
// recorder.h). One lock (Global::mu) orders the block registry and the trace stream, so
// the stream shows a block's free before the same address is handed out again: a free is
// recorded before the memory is released, an allocation after it is obtained.
#include "layer/recorder.h"
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>
#include "core/aligned_allocator.h"
#include "core/block_registry.h"
#include "layer/layer.h"
#include "layer/stream_writer.h"
#include "core/validator.h"
#include "layer/vkalloc_attach.h"

namespace vkalloc_layer {

using vkalloc::Block;
using vkalloc::Violation;

namespace {

constexpr int kMaxDepth = 8;
// Event flags: 1 returned NULL / freed an unknown pointer, 8 refused by fault injection,
// 16 served by the app's own allocator (wrapped), not the layer's.
constexpr uint8_t kFlagFailed = 1, kFlagInjected = 8, kFlagApp = 16;

struct Frame {
  uint32_t id;
  bool announced;
  uint64_t object;
  uint64_t beginSeq;
};

// Plain data, so thread_local needs no constructor guard on the hot path.
struct ThreadState {
  Frame frames[kMaxDepth];
  int depth;
  uint32_t index;                    // trace thread index, 0 = not yet announced
  uint32_t generation;               // the stream generation `index` was announced in
  const VkallocAttachHooks* hooked;  // whose begin ran for the outermost command (attach)
};
thread_local ThreadState tls;

struct Source {
  VkAllocationCallbacks down;  // what drivers get; pUserData = this
  VkAllocationCallbacks app;   // the app's own (unused for the layer's)
  bool own;
  std::atomic<int64_t> objects{0};  // live objects created with `down` (ObjectMap)
};

struct Global {
  std::mutex mu;                                                          // registry + stream order, tables below
  vkalloc::BlockRegistry registry{vkalloc::BlockRegistry::Kind::Malloc};  // not policing: exact lookups only
  vkalloc::Validator validator;
  StreamWriter stream;
  std::string pattern;  // VKALLOC_TRACE_FILE
  bool wantTrace = false;
  bool tracing = false;  // stream open (read without the lock: a stale read only skips work)
  bool checking = false;
  bool full = false;            // the file reached `limit`: records are dropped from here on
  uint64_t limit = 1ull << 30;  // VKALLOC_TRACE_LIMIT
  int64_t failFrom = -1;
  std::vector<bool> failOnly;  // by command id; empty: every command
  std::atomic<uint64_t> counted{0}, refused{0};
  std::atomic<int> running{0};  // threads inside a command (checks only)
  uint64_t seq = 1;
  uint32_t generation = 1;  // bumped per stream (fork)
  uint32_t nextThread = 1;
  std::vector<uint32_t> commandGen;  // by id: generation its C line was written in
  uint64_t violations = 0;
  timespec start{};
  Source own{};
  std::mutex sourcesMu;
  std::vector<std::unique_ptr<Source>> sources;
  // In-process attach (vkalloc_attach.h): what NULL-pAllocator creates get instead of `own`,
  // and who hears the commands. Both outlive every use (the attacher keeps them for good).
  std::atomic<Source*> attached{nullptr};
  std::atomic<const VkallocAttachHooks*> hooks{nullptr};
};
Global* g = nullptr;

uint64_t NowNs() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<uint64_t>(t.tv_sec - g->start.tv_sec) * 1000000000ull + static_cast<uint64_t>(t.tv_nsec) -
         static_cast<uint64_t>(g->start.tv_nsec);
}

void Put(Line& l) {
  if (g->full) return;
  if (g->stream.Written() + l.Size() > g->limit) {
    // A program that retries a refused allocation forever must not fill the disk.
    g->full = true;
    Line z('Z');
    z.U(g->seq);
    g->stream.Write(z.Data(), z.Size());
    return;
  }
  g->stream.Write(l.Data(), l.Size());
}

// ---- stream helpers (all with g->mu held) -----------------------------------------

uint32_t ThreadLocked(ThreadState& t) {
  if (t.index == 0 || t.generation != g->generation) {
    if (t.index == 0) t.index = g->nextThread++;
    t.generation = g->generation;
    Line l('T');
    l.U(t.index).U(static_cast<uint64_t>(syscall(SYS_gettid)));
    Put(l);
  }
  return t.index;
}

uint32_t CommandLocked(uint32_t id) {
  if (id >= g->commandGen.size()) return 0;
  if (g->commandGen[id] != g->generation) {
    g->commandGen[id] = g->generation;
    Line l('C');
    l.U(id).S(kCommandNames[id]);
    Put(l);
  }
  return id;
}

// Writes the B lines of the commands on this thread not announced yet, outermost first.
void AnnounceLocked(ThreadState& t) {
  uint32_t thread = ThreadLocked(t);
  int n = t.depth < kMaxDepth ? t.depth : kMaxDepth;
  for (int i = 0; i < n; i++) {
    Frame& f = t.frames[i];
    if (f.announced) continue;
    f.announced = true;
    f.beginSeq = g->seq++;
    Line l('B');
    l.U(f.beginSeq).U(NowNs()).U(thread).U(CommandLocked(f.id)).X(f.object);
    Put(l);
  }
}

Frame* Top(ThreadState& t) {
  return t.depth > 0 && t.depth <= kMaxDepth ? &t.frames[t.depth - 1] : nullptr;
}

const char* NameOf(Frame* f) {
  return f ? kCommandNames[f->id] : vkalloc::kNoCommand;
}

// Opens the stream for this process; with g->mu held.
void OpenLocked() {
  if (!g->wantTrace || g->stream.IsOpen()) return;
  std::string path;
  bool perPid = false;
  for (size_t i = 0; i < g->pattern.size(); i++) {
    if (g->pattern[i] == '%' && i + 1 < g->pattern.size() && g->pattern[i + 1] == 'p') {
      path += std::to_string(getpid());
      perPid = true;
      i++;
    } else {
      path += g->pattern[i];
    }
  }
  // A per-pid name that exists already belongs to this pid before an exec: keep it.
  bool ok = g->stream.Open(path.c_str(), perPid);
  for (int k = 1; !ok && perPid && errno == EEXIST && k < 100; k++)
    ok = g->stream.Open((path + "." + std::to_string(k)).c_str(), true);
  if (!ok) {
    std::fprintf(stderr, "vkalloc layer: cannot write the trace file %s: %s\n", path.c_str(), std::strerror(errno));
    g->wantTrace = false;
    return;
  }
  g->tracing = true;
  const char header[] = "vkalloc-stream\t1\n";
  g->stream.Write(header, sizeof(header) - 1);
  auto meta = [](const char* k, const std::string& v) {
    Line l('M');
    l.S(k).S(v.c_str());
    Put(l);
  };
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  std::string program = n > 0 ? std::string(exe, static_cast<size_t>(n)) : "?";
  meta("program", program.substr(program.rfind('/') + 1));
  meta("executable", program);
  if (FILE* f = std::fopen("/proc/self/cmdline", "rb")) {
    std::string cmd;
    int c;
    while ((c = std::fgetc(f)) != EOF && cmd.size() < 900) cmd += c ? static_cast<char>(c) : ' ';
    std::fclose(f);
    meta("command line", cmd.substr(0, cmd.find_last_not_of(' ') + 1));
  }
  meta("pid", std::to_string(getpid()));
  meta("ppid", std::to_string(getppid()));
  meta("started", std::to_string(static_cast<long long>(std::time(nullptr))));
  if (g->failFrom >= 0) meta("fail from", std::to_string(g->failFrom));
  if (g->checking) meta("checks", "on");
  for (const char* v : {"VK_DRIVER_FILES", "VK_ICD_FILENAMES", "VK_INSTANCE_LAYERS", "VK_LOADER_LAYERS_ENABLE"}) {
    if (const char* e = std::getenv(v)) meta(v, e);
  }
}

// ---- contract checks ----------------------------------------------------------------

void Violate(Violation kind, Frame* f, uintptr_t address, uint64_t size, const std::string& detail) {
  g->validator.Report(kind, NameOf(f), false, address, size, detail);
  std::lock_guard<std::mutex> lock(g->mu);
  g->violations++;
  if (!g->tracing) return;
  ThreadState& t = tls;
  AnnounceLocked(t);
  Line l('V');
  l.U(g->seq++)
      .U(NowNs())
      .U(ThreadLocked(t))
      .U(CommandLocked(f ? f->id : 0))
      .S(vkalloc::kViolationNames[static_cast<int>(kind)])
      .X(address)
      .U(size)
      .S(detail.c_str());
  Put(l);
}

void CheckContext(Frame* f, uintptr_t address, uint64_t size) {
  if (f) return;
  if (g->running.load(std::memory_order_relaxed) > 0) {
    Violate(Violation::WrongThread, f, address, size,
            "callback on a thread with no command while another thread runs one");
  } else {
    Violate(Violation::OutsideCommand, f, address, size, "callback while no Vulkan command runs");
  }
}

void CheckRequest(Frame* f, size_t size, size_t alignment, int scope) {
  CheckContext(f, 0, size);
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    Violate(Violation::BadAlignment, f, 0, size, "alignment " + std::to_string(alignment));
  if (scope < 0 || scope >= vkalloc::kScopeCount)
    Violate(Violation::InvalidScope, f, 0, size, "allocation scope " + std::to_string(scope));
}

size_t UsableAlignment(size_t a) {
  if (a == 0) return 1;
  size_t p = 1;
  while (p < a) p <<= 1;
  return p;
}

// ---- fault injection --------------------------------------------------------------------

bool Counts(Frame* f) {
  return g->failOnly.empty() || (f && f->id < g->failOnly.size() && g->failOnly[f->id]);
}

bool Refuse(Frame* f) {
  if (!Counts(f)) return false;
  uint64_t n = g->counted.fetch_add(1, std::memory_order_relaxed);
  if (g->failFrom < 0 || n < static_cast<uint64_t>(g->failFrom)) return false;
  g->refused.fetch_add(1, std::memory_order_relaxed);
  return true;
}

// ---- recording -------------------------------------------------------------------------

// kind: a allocate, r reallocate, f free, i/j internal allocate/free.
void EventLocked(ThreadState& t, char kind, int scope, uint64_t size, uint64_t alignment, uintptr_t address,
                 uintptr_t old, uint8_t flags) {
  Frame* f = Top(t);
  AnnounceLocked(t);
  Line l(kind);
  l.U(g->seq++)
      .U(NowNs())
      .U(ThreadLocked(t))
      .U(CommandLocked(f ? f->id : 0))
      .U(static_cast<uint64_t>(scope))
      .U(size)
      .U(alignment)
      .X(address)
      .X(old)
      .U(flags)
      .X(f ? f->object : 0);
  Put(l);
}

void Failed(ThreadState& t, const Source* s, char kind, int scope, size_t size, size_t alignment, uintptr_t old,
            bool injected) {
  Frame* f = Top(t);
  std::lock_guard<std::mutex> lock(g->mu);
  g->registry.CountFailure(
      kind == 'r' ? vkalloc::CallKind::Reallocate : vkalloc::CallKind::Allocate,
      Block{size, static_cast<uint32_t>(alignment), static_cast<uint8_t>(scope), vkalloc::Owner::Native, NameOf(f), 0});
  if (g->tracing)
    EventLocked(t, kind, scope, size, alignment, 0, old,
                kFlagFailed | (injected ? kFlagInjected : 0) | (s->own ? 0 : kFlagApp));
}

void* VKAPI_CALL Allocate(void* user, size_t size, size_t alignment, VkSystemAllocationScope scope) {
  Source* s = static_cast<Source*>(user);
  ThreadState& t = tls;
  Frame* f = Top(t);
  if (g->checking) CheckRequest(f, size, alignment, scope);
  if (Refuse(f)) {
    Failed(t, s, 'a', scope, size, alignment, 0, true);
    return nullptr;
  }
  void* p = s->own ? vkalloc::AlignedAllocate(size, UsableAlignment(alignment))
                   : s->app.pfnAllocation(s->app.pUserData, size, alignment, scope);
  if (!p) {
    Failed(t, s, 'a', scope, size, alignment, 0, false);
    return nullptr;
  }
  if (g->checking) g->validator.Allocated(reinterpret_cast<uintptr_t>(p));
  std::lock_guard<std::mutex> lock(g->mu);
  g->registry.CountCall(vkalloc::CallKind::Allocate, f == nullptr);
  // The layer records; it does not police the allocator it passes through (an app's
  // allocator that hands out overlapping memory is left to `vkalloc check`'s kinds).
  g->registry.Insert(
      p,
      Block{size, static_cast<uint32_t>(alignment), static_cast<uint8_t>(scope), vkalloc::Owner::Native, NameOf(f), 0},
      nullptr);
  if (g->tracing) EventLocked(t, 'a', scope, size, alignment, reinterpret_cast<uintptr_t>(p), 0, s->own ? 0 : kFlagApp);
  return p;
}

void VKAPI_CALL Free(void* user, void* p) {
  Source* s = static_cast<Source*>(user);
  ThreadState& t = tls;
  Frame* f = Top(t);
  if (!p) {
    if (!s->own) s->app.pfnFree(s->app.pUserData, p);  // the app sees every call it would see without the layer
    return;
  }
  if (g->checking) CheckContext(f, reinterpret_cast<uintptr_t>(p), 0);
  Block b{};
  bool known;
  {
    std::lock_guard<std::mutex> lock(g->mu);
    g->registry.CountCall(vkalloc::CallKind::Free, f == nullptr);
    known = g->registry.Remove(p, NameOf(f), &b);
    if (g->tracing)
      EventLocked(t, 'f', known ? b.scope : 0, known ? b.size : 0, known ? b.alignment : 0,
                  reinterpret_cast<uintptr_t>(p), 0, (known ? 0 : kFlagFailed) | (s->own ? 0 : kFlagApp));
  }
  if (!known) {
    if (g->checking) {
      bool freed = g->validator.WasFreed(reinterpret_cast<uintptr_t>(p));
      Violate(freed ? Violation::DoubleFree : Violation::FreeUnknown, f, reinterpret_cast<uintptr_t>(p), 0,
              freed ? "free of a block already freed" : "free of a pointer the allocator never returned");
    }
    // Never hand the aligned allocator a pointer it did not make: leak it instead of crashing.
    if (!s->own) s->app.pfnFree(s->app.pUserData, p);
    return;
  }
  if (g->checking) g->validator.Freed(reinterpret_cast<uintptr_t>(p));
  if (s->own)
    vkalloc::AlignedFree(p);
  else
    s->app.pfnFree(s->app.pUserData, p);
}

void* VKAPI_CALL Reallocate(void* user, void* original, size_t size, size_t alignment, VkSystemAllocationScope scope) {
  Source* s = static_cast<Source*>(user);
  ThreadState& t = tls;
  Frame* f = Top(t);
  if (!original && s->own) return Allocate(user, size, alignment, scope);
  if (size == 0 && s->own) {
    Free(user, original);
    return nullptr;
  }
  if (g->checking) CheckRequest(f, size, alignment, scope);
  Block old{};
  bool known = original && g->registry.Find(original, &old);
  if (original && !known) {
    if (g->checking) {
      bool freed = g->validator.WasFreed(reinterpret_cast<uintptr_t>(original));
      Violate(
          freed ? Violation::ReallocFreed : Violation::ReallocUnknown, f, reinterpret_cast<uintptr_t>(original), size,
          freed ? "reallocation of a block already freed" : "reallocation of a pointer the allocator never returned");
    }
    if (s->own) return nullptr;
  }
  if (known && g->checking && old.alignment != alignment)
    Violate(Violation::ReallocAlignmentChange, f, reinterpret_cast<uintptr_t>(original), size,
            "alignment " + std::to_string(old.alignment) + " -> " + std::to_string(alignment));
  if (size > 0 && Refuse(f)) {
    Failed(t, s, 'r', scope, size, alignment, reinterpret_cast<uintptr_t>(original), true);
    return nullptr;
  }
  void* p;
  if (s->own) {
    // AlignedReallocate keeps the original's alignment: a changed one (a driver bug) is served
    // by allocate-copy-free, as the addon's bridge does.
    if (old.alignment == alignment) {
      p = vkalloc::AlignedReallocate(original, size, UsableAlignment(alignment));
    } else {
      p = vkalloc::AlignedAllocate(size, UsableAlignment(alignment));
      if (p) {
        std::memcpy(p, original, old.size < size ? old.size : size);
        vkalloc::AlignedFree(original);
      }
    }
  } else {
    p = s->app.pfnReallocation(s->app.pUserData, original, size, alignment, scope);
  }
  if (size == 0) {  // the app's reallocation to size 0 freed the original
    std::lock_guard<std::mutex> lock(g->mu);
    Block b{};
    bool removed = original && g->registry.Remove(original, NameOf(f), &b);
    if (g->tracing && original)
      EventLocked(t, 'f', b.scope, removed ? b.size : 0, b.alignment, reinterpret_cast<uintptr_t>(original), 0,
                  kFlagApp);
    return p;
  }
  if (!p) {
    Failed(t, s, 'r', scope, size, alignment, reinterpret_cast<uintptr_t>(original), false);
    return nullptr;
  }
  if (g->checking) g->validator.Allocated(reinterpret_cast<uintptr_t>(p));
  std::lock_guard<std::mutex> lock(g->mu);
  Block b{size, static_cast<uint32_t>(alignment), static_cast<uint8_t>(scope), vkalloc::Owner::Native, NameOf(f), 0};
  if (original) {
    g->registry.CountCall(vkalloc::CallKind::Reallocate, f == nullptr);
    g->registry.Replace(original, p, b, vkalloc::BlockRegistry::Check::None, nullptr);
  } else {
    g->registry.CountCall(vkalloc::CallKind::Allocate, f == nullptr);
    g->registry.Insert(p, b, nullptr);
  }
  if (g->tracing)
    EventLocked(t, original ? 'r' : 'a', scope, size, alignment, reinterpret_cast<uintptr_t>(p),
                reinterpret_cast<uintptr_t>(original), s->own ? 0 : kFlagApp);
  return p;
}

void Internal(Source* s, bool allocate, size_t size, VkInternalAllocationType type, VkSystemAllocationScope scope) {
  ThreadState& t = tls;
  Frame* f = Top(t);
  if (g->checking) {
    CheckContext(f, 0, size);
    if (type != VK_INTERNAL_ALLOCATION_TYPE_EXECUTABLE)
      Violate(Violation::InvalidInternalType, f, 0, size,
              "internal allocation type " + std::to_string(static_cast<int>(type)));
    if (scope < 0 || scope >= vkalloc::kScopeCount)
      Violate(Violation::InvalidScope, f, 0, size, "allocation scope " + std::to_string(scope));
    if (!g->validator.Internal(allocate, size, scope))
      Violate(Violation::NegativeInternalTotal, f, 0, size, "internal frees exceed internal allocations in a scope");
  }
  if (!s->own) {
    auto fn = allocate ? s->app.pfnInternalAllocation : s->app.pfnInternalFree;
    if (fn) fn(s->app.pUserData, size, type, scope);
  }
  std::lock_guard<std::mutex> lock(g->mu);
  g->registry.Internal(allocate, size, scope, NameOf(f));
  if (g->tracing) EventLocked(t, allocate ? 'i' : 'j', scope, size, 0, 0, 0, s->own ? 0 : kFlagApp);
}

void VKAPI_CALL InternalAllocate(void* user, size_t size, VkInternalAllocationType type,
                                 VkSystemAllocationScope scope) {
  Internal(static_cast<Source*>(user), true, size, type, scope);
}
void VKAPI_CALL InternalFree(void* user, size_t size, VkInternalAllocationType type, VkSystemAllocationScope scope) {
  Internal(static_cast<Source*>(user), false, size, type, scope);
}

void FillDown(Source* s) {
  s->down = VkAllocationCallbacks{s, &Allocate, &Reallocate, &Free, &InternalAllocate, &InternalFree};
}

// ---- process life ----------------------------------------------------------------------

void ForkPrepare() {
  g->mu.lock();
}
void ForkParent() {
  g->mu.unlock();
}
void ForkChild() {
  // The mapping is shared with the parent's file: the child writes its own (with %p) or none.
  g->stream.Abandon();
  g->tracing = false;
  g->generation++;
  g->seq = 1;
  g->full = false;
  g->mu.unlock();
  if (g->pattern.find("%p") == std::string::npos) g->wantTrace = false;
}

__attribute__((constructor)) void Init() {
  g = new Global();  // never deleted: driver threads may call back during exit
  clock_gettime(CLOCK_MONOTONIC, &g->start);
  g->commandGen.assign(kCommandCount, 0);
  g->own.own = true;
  FillDown(&g->own);
  if (const char* p = std::getenv("VKALLOC_TRACE_FILE"); p && *p) {
    g->pattern = p;
    g->wantTrace = true;
  }
  if (const char* n = std::getenv("VKALLOC_TRACE_LIMIT"); n && *n) {
    char* end = nullptr;
    unsigned long long v = std::strtoull(n, &end, 10);
    if (*end == '\0' && v >= 4096)
      g->limit = v;
    else
      std::fprintf(stderr, "vkalloc layer: ignoring VKALLOC_TRACE_LIMIT=%s: expected a number of bytes >= 4096\n", n);
  }
  if (const char* c = std::getenv("VKALLOC_CHECK"); c && *c && std::strcmp(c, "0") != 0) g->checking = true;
  if (const char* n = std::getenv("VKALLOC_FAIL_FROM"); n && *n) {
    char* end = nullptr;
    long long v = std::strtoll(n, &end, 10);
    if (*end == '\0' && v >= 0)
      g->failFrom = v;
    else
      std::fprintf(stderr, "vkalloc layer: ignoring VKALLOC_FAIL_FROM=%s: expected a non-negative integer\n", n);
  }
  if (const char* only = std::getenv("VKALLOC_FAIL_ONLY"); only && *only) {
    g->failOnly.assign(kCommandCount, false);
    std::string list = only;
    size_t at = 0;
    while (at <= list.size()) {
      size_t comma = list.find(',', at);
      std::string name = list.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
      if (!name.empty()) {
        unsigned id = CommandId(name.c_str());
        if (id)
          g->failOnly[id] = true;
        else
          std::fprintf(stderr, "vkalloc layer: VKALLOC_FAIL_ONLY: unknown command %s\n", name.c_str());
      }
      if (comma == std::string::npos) break;
      at = comma + 1;
    }
  }
  pthread_atfork(ForkPrepare, ForkParent, ForkChild);
}

__attribute__((destructor)) void Fini() {
  std::lock_guard<std::mutex> lock(g->mu);
  if (!g->tracing) return;
  vkalloc::RegistrySnapshot snap = g->registry.Snapshot();
  Line l('X');
  l.U(g->seq++)
      .U(NowNs())
      .U(snap.liveCount)
      .U(snap.liveBytes)
      .U(g->counted.load())
      .U(g->refused.load())
      .U(g->violations);
  g->stream.Write(l.Data(), l.Size());  // past the limit too: it says how the program ended
  g->stream.Close();
  g->tracing = false;
}

}  // namespace

// ---- recorder.h --------------------------------------------------------------------------

void StartTrace() {
  std::lock_guard<std::mutex> lock(g->mu);
  OpenLocked();
}

void Meta(const char* key, const char* value) {
  std::lock_guard<std::mutex> lock(g->mu);
  if (!g->tracing) return;
  Line l('M');
  l.S(key).S(value);
  Put(l);
}

void AfterDestroy(const char* what, uint64_t handle, bool lastInstance) {
  vkalloc::RegistrySnapshot snap = g->registry.Snapshot();
  {
    std::lock_guard<std::mutex> lock(g->mu);
    if (g->tracing) {
      ThreadState& t = tls;
      Line l('D');
      l.U(g->seq++).U(NowNs()).U(ThreadLocked(t)).S(what).X(handle).U(snap.liveCount).U(snap.liveBytes);
      Put(l);
    }
  }
  if (g->checking && lastInstance && snap.liveCount > 0) {
    size_t shown = 0;
    for (const auto& entry : g->registry.LiveBlocks()) {
      if (shown++ >= 100) break;
      Violate(
          Violation::Leak, Top(tls), entry.first, entry.second.size,
          std::string("block allocated in ") + entry.second.command + " still live after the last vkDestroyInstance");
    }
  }
}

const void* OwnCallbacks() {
  return &g->own.down;
}

namespace {

bool SameCallbacks(const VkAllocationCallbacks& a, const VkAllocationCallbacks& b) {
  return a.pUserData == b.pUserData && a.pfnAllocation == b.pfnAllocation && a.pfnReallocation == b.pfnReallocation &&
         a.pfnFree == b.pfnFree && a.pfnInternalAllocation == b.pfnInternalAllocation &&
         a.pfnInternalFree == b.pfnInternalFree;
}

// The wrapper of `app`, made on first use; with g->sourcesMu held.
Source* WrapLocked(const VkAllocationCallbacks* app) {
  for (const auto& s : g->sources)
    if (SameCallbacks(s->app, *app)) return s.get();
  auto s = std::make_unique<Source>();
  s->app = *app;
  s->own = false;
  FillDown(s.get());
  g->sources.push_back(std::move(s));
  return g->sources.back().get();
}

// The layer's Source behind callbacks it handed down, or null.
Source* SourceOf(const VkAllocationCallbacks* c) {
  return c && c->pfnAllocation == &Allocate ? static_cast<Source*>(c->pUserData) : nullptr;
}

}  // namespace

const VkAllocationCallbacks* CallbacksFor(const VkAllocationCallbacks* app) {
  if (!app) {
    Source* attached = g->attached.load(std::memory_order_acquire);
    return attached ? &attached->down : &g->own.down;
  }
  std::lock_guard<std::mutex> lock(g->sourcesMu);
  return &WrapLocked(app)->down;
}

int Attach(const VkAllocationCallbacks* callbacks, const VkallocAttachHooks* hooks) {
  if (!callbacks || !hooks || hooks->version != VKALLOC_ATTACH_HOOKS_VERSION || !hooks->begin || !hooks->end)
    return VKALLOC_ATTACH_VERSION_MISMATCH;
  std::lock_guard<std::mutex> lock(g->sourcesMu);
  if (g->attached.load(std::memory_order_relaxed)) return VKALLOC_ATTACH_BUSY;
  Source* s = WrapLocked(callbacks);
  g->hooks.store(hooks, std::memory_order_release);
  g->attached.store(s, std::memory_order_release);
  return 0;
}

void Detach() {
  std::lock_guard<std::mutex> lock(g->sourcesMu);
  // The hooks stay: objects made while attached are still served by the attacher's
  // callbacks, which want their commands named.
  g->attached.store(nullptr, std::memory_order_release);
}

uint64_t LiveObjects(const VkAllocationCallbacks* callbacks) {
  if (!callbacks) return 0;
  std::lock_guard<std::mutex> lock(g->sourcesMu);
  for (const auto& s : g->sources)
    if (SameCallbacks(s->app, *callbacks)) return static_cast<uint64_t>(s->objects.load());
  return 0;
}

// ---- Command --------------------------------------------------------------------------------

Command::Command(unsigned id, uint64_t destroying, bool eager) {
  ThreadState& t = tls;
  pushed_ = t.depth < kMaxDepth;
  if (pushed_) t.frames[t.depth] = Frame{id, false, destroying, 0};
  if (t.depth == 0) {
    // An attacher hears the outermost command of each thread (its callbacks name it).
    const VkallocAttachHooks* h = g->hooks.load(std::memory_order_acquire);
    t.hooked = h;
    if (h) h->begin(h->user, kCommandNames[id]);
  }
  if (t.depth++ == 0 && g->checking) g->running.fetch_add(1, std::memory_order_relaxed);
  // After a refusal every command is announced, so a crash shows the command it died in.
  if ((eager || g->refused.load(std::memory_order_relaxed) > 0) && g->tracing) {
    std::lock_guard<std::mutex> lock(g->mu);
    if (g->tracing) AnnounceLocked(t);
  }
}

Command::~Command() {
  ThreadState& t = tls;
  if (pushed_ && t.frames[t.depth - 1].announced && g->tracing) {
    Frame& f = t.frames[t.depth - 1];
    std::lock_guard<std::mutex> lock(g->mu);
    if (g->tracing) {
      Line l('E');
      l.U(g->seq++).U(NowNs()).U(ThreadLocked(t)).U(CommandLocked(f.id)).I(result_);
      Put(l);
    }
  }
  if (--t.depth == 0 && g->checking) g->running.fetch_sub(1, std::memory_order_relaxed);
  if (t.depth == 0 && t.hooked) {
    const VkallocAttachHooks* h = t.hooked;
    t.hooked = nullptr;
    h->end(h->user, kCommandNames[t.frames[0].id], result_);
  }
}

void Command::Created(ObjectMap& objects, const char* type, uint64_t handle, uint64_t parent,
                      const VkAllocationCallbacks* callbacks) {
  objects.Add(handle, callbacks);
  if (!g->tracing) return;
  ThreadState& t = tls;
  std::lock_guard<std::mutex> lock(g->mu);
  if (!g->tracing) return;
  AnnounceLocked(t);
  Frame* f = Top(t);
  Line l('O');
  l.U(g->seq++).U(NowNs()).U(ThreadLocked(t)).U(CommandLocked(f ? f->id : 0)).X(handle).S(type).X(parent);
  Put(l);
}

const VkAllocationCallbacks* Command::Destroying(ObjectMap& objects, uint64_t handle,
                                                 const VkAllocationCallbacks* app) {
  if (handle == 0) return app;
  const VkAllocationCallbacks* c = objects.Take(handle);
  return c ? c : app;
}

// ---- ObjectMap ------------------------------------------------------------------------------

void ObjectMap::Add(uint64_t handle, const VkAllocationCallbacks* callbacks) {
  std::lock_guard<std::mutex> lock(mu_);
  ObjectRecord& r = objects_[handle];
  if (Source* old = SourceOf(r.callbacks)) old->objects--;  // a handle reused without a destroy the layer saw
  r.callbacks = callbacks;
  if (Source* s = SourceOf(callbacks)) s->objects++;
}

ObjectMap::~ObjectMap() {
  // A destroyed parent takes the children the app never destroyed with it.
  for (auto& [handle, r] : objects_)
    if (Source* s = SourceOf(r.callbacks)) s->objects--;
}

const VkAllocationCallbacks* ObjectMap::Take(uint64_t handle) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(handle);
  if (it == objects_.end()) return nullptr;
  const VkAllocationCallbacks* c = it->second.callbacks;
  if (Source* s = SourceOf(c)) s->objects--;
  objects_.erase(it);
  return c;
}

size_t ObjectMap::Size() {
  std::lock_guard<std::mutex> lock(mu_);
  return objects_.size();
}

}  // namespace vkalloc_layer
