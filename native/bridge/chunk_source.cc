#include "bridge/chunk_source.h"
#include <sys/mman.h>
#include <unistd.h>
#include <cstdint>
#include <cstdlib>
#include <unordered_map>
#include <vector>
#include "bridge/addon_data.h"

namespace vkalloc {

namespace {

#if defined(__SANITIZE_ADDRESS__)
#define VKALLOC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VKALLOC_ASAN 1
#endif
#endif

#ifdef VKALLOC_ASAN
constexpr size_t kMapThreshold = SIZE_MAX;  // under ASan every chunk is malloc'd, so overruns are caught
#else
constexpr size_t kMapThreshold = 64 * 1024;
#endif
// Released mappings kept for the next chunk of the same page count, oldest unmapped
// first beyond this. A driver asks for the same large blocks at every create, and a
// fresh mapping costs a page fault per 4 KiB it touches (vkCreateDevice on lavapipe:
// 500 faults, 27 ms a cycle against 4 ms with reuse). Bounded, so RSS stays flat.
constexpr size_t kSpareBudget = 4u << 20;

}  // namespace

// One chunk. The environment's table owns the memory. A chunk JS dropped without
// releasing it (a policy dropped with its chunks) is freed once the GC has taken its
// buffer: nothing can use it then, as every live object keeps its allocator and
// policy reachable. A weak reference to the buffer tells: the GC empties it at once,
// so the next obtain or release after a collection frees those chunks (Sweep), even
// in a loop that never yields; the buffer's finalizer, which Node runs only on a
// later turn of the event loop, frees any left. Node also calls that finalizer at
// teardown for buffers still alive, before this addon's cleanup hook has destroyed
// the Vulkan objects using them: the weak reference is not empty then, and the
// memory is left to FreeAllChunks.
struct ChunkRecord {
  void* memory;
  size_t size;
  size_t mapping;           // bytes mapped for it (page multiple), or 0 if malloc'd
  ChunkTablePtr table;      // outlives the environment's data if the finalizer comes late
  napi_ref weak = nullptr;  // to the buffer, while neither released nor finalized
  bool released = false;    // memory freed; the record waits for its finalizer
  bool collected = false;   // finalized while still reachable (teardown): FreeAllChunks frees it
};

struct Mapping {
  void* memory;
  size_t bytes;
};

struct ChunkTable {
  std::unordered_map<void*, ChunkRecord*> live;
  size_t bytes = 0, mappedChunks = 0, mappedBytes = 0;
  std::vector<Mapping> spare;  // oldest first
  size_t spareBytes = 0;
  napi_ref gcProbe = nullptr;  // weak, to an object only the GC can empty: a collection happened

  ~ChunkTable() {
    for (const Mapping& m : spare) munmap(m.memory, m.bytes);
  }
};

namespace {

size_t PageSize() {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

void* Map(ChunkTable& table, size_t bytes) {
  for (size_t i = table.spare.size(); i-- > 0;) {  // newest first: likeliest still in cache
    if (table.spare[i].bytes != bytes) continue;
    void* memory = table.spare[i].memory;
    table.spare.erase(table.spare.begin() + static_cast<std::ptrdiff_t>(i));
    table.spareBytes -= bytes;
    return memory;
  }
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

void Unmap(ChunkTable& table, void* memory, size_t bytes) {
  if (bytes > kSpareBudget) {
    munmap(memory, bytes);
    return;
  }
  table.spare.push_back({memory, bytes});
  table.spareBytes += bytes;
  while (table.spareBytes > kSpareBudget) {
    munmap(table.spare.front().memory, table.spare.front().bytes);
    table.spareBytes -= table.spare.front().bytes;
    table.spare.erase(table.spare.begin());
  }
}

// Frees the memory and forgets it (the record itself stays: its finalizer owns it).
// With an env, V8 hears of it (ChunkObtain told it of the chunk: memory its
// collections should weigh, as dropped buffers keep it alive until then).
void FreeChunk(ChunkTable& table, ChunkRecord* record, napi_env env) {
  int64_t ignored;
  if (env) napi_adjust_external_memory(env, -static_cast<int64_t>(record->size), &ignored);
  if (record->mapping) {
    Unmap(table, record->memory, record->mapping);
    table.mappedChunks--;
    table.mappedBytes -= record->size;
  } else {
    std::free(record->memory);
  }
  table.bytes -= record->size;
}

void DropWeak(napi_env env, ChunkRecord* record) {
  if (record->weak) napi_delete_reference(env, record->weak);
  record->weak = nullptr;
}

void FinalizeChunk(napi_env env, void*, void* hint) {
  auto* record = static_cast<ChunkRecord*>(hint);
  if (!record->released) {
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    napi_value buffer = nullptr;
    const bool weak = record->weak != nullptr;
    if (weak) napi_get_reference_value(env, record->weak, &buffer);
    napi_close_handle_scope(env, scope);
    DropWeak(env, record);
    if (buffer || !weak) {  // still reachable (or can't tell): the environment is going away
      record->collected = true;
      return;
    }
    ChunkTable& table = *record->table;
    table.live.erase(record->memory);
    FreeChunk(table, record, env);
  }
  delete record;
}

// After a garbage collection: frees the chunks whose buffers it took.
void Sweep(napi_env env, ChunkTable& table) {
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value probe = nullptr;
  if (table.gcProbe) napi_get_reference_value(env, table.gcProbe, &probe);
  if (!probe) {
    for (auto it = table.live.begin(); it != table.live.end();) {
      ChunkRecord* record = it->second;
      napi_value buffer = nullptr;
      if (record->weak) napi_get_reference_value(env, record->weak, &buffer);
      if (buffer || !record->weak) {
        ++it;
        continue;
      }
      DropWeak(env, record);
      FreeChunk(table, record, env);
      record->released = true;  // deleted by its finalizer
      it = table.live.erase(it);
    }
    if (table.gcProbe) napi_delete_reference(env, table.gcProbe);
    table.gcProbe = nullptr;
    napi_value fresh;
    if (napi_create_object(env, &fresh) == napi_ok) napi_create_reference(env, fresh, 0, &table.gcProbe);
  }
  napi_close_handle_scope(env, scope);
}

}  // namespace

// Forgets every live chunk without freeing its memory: objects of another addon made
// under attach() (bridge/attach.cc) still use it while the environment goes away.
void AbandonAllChunks(AddonData* data) {
  if (!data->chunks) return;
  for (auto& [memory, record] : data->chunks->live) {
    DropWeak(data->env, record);
    if (record->collected)
      delete record;
    else
      record->released = true;  // its finalizer deletes it, if it ever runs
  }
  data->chunks->live.clear();
}

void FreeAllChunks(AddonData* data) {
  if (!data->chunks) return;
  ChunkTable& table = *data->chunks;
  if (table.gcProbe) napi_delete_reference(data->env, table.gcProbe);
  table.gcProbe = nullptr;
  for (auto& [memory, record] : table.live) {
    DropWeak(data->env, record);
    FreeChunk(table, record, nullptr);
    if (record->collected)
      delete record;
    else
      record->released = true;  // its finalizer deletes it, if it ever runs
  }
  table.live.clear();
  for (const Mapping& m : table.spare) munmap(m.memory, m.bytes);
  table.spare.clear();
  table.spareBytes = 0;
}

Napi::Value ChunkObtain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData* data = AddonData::Get(env);
  double requested = info[0].As<Napi::Number>().DoubleValue();
  if (!(requested > 0 && requested <= 1099511627776.0)) throw Napi::RangeError::New(env, "chunk size out of range");
  if (!data->chunks) data->chunks = std::make_shared<ChunkTable>();
  ChunkTable& table = *data->chunks;
  Sweep(env, table);
  size_t size = static_cast<size_t>(requested);
  size_t mapping = size >= kMapThreshold ? (size + PageSize() - 1) / PageSize() * PageSize() : 0;
  // malloc'd chunks are 16-aligned (glibc, 64-bit), which is what policies need.
  void* memory = mapping ? Map(table, mapping) : std::malloc(size);
  if (!memory) return env.Null();
  auto* record = new ChunkRecord{memory, size, mapping, data->chunks};
  table.live[memory] = record;
  table.bytes += size;
  if (mapping) {
    table.mappedChunks++;
    table.mappedBytes += size;
  }
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, memory, size, FinalizeChunk, record, &buffer) != napi_ok) {
    table.live.erase(memory);
    FreeChunk(table, record, nullptr);
    delete record;
    return env.Null();
  }
  napi_create_reference(env, buffer, 0, &record->weak);
  int64_t ignored;
  napi_adjust_external_memory(env, static_cast<int64_t>(size), &ignored);
  Napi::Object out = Napi::Object::New(env);
  out.Set("address", static_cast<double>(reinterpret_cast<uintptr_t>(memory)));
  out.Set("buffer", Napi::Value(env, buffer));
  return out;
}

Napi::Value ChunkRelease(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArrayBuffer()) throw Napi::TypeError::New(env, "Expected a chunk ArrayBuffer for buffer");
  Napi::ArrayBuffer buffer = info[0].As<Napi::ArrayBuffer>();
  if (buffer.IsDetached()) throw Napi::Error::New(env, "Chunk already released");
  AddonData* data = AddonData::Get(env);
  ChunkTable* table = data->chunks.get();
  auto it = table ? table->live.find(buffer.Data()) : std::unordered_map<void*, ChunkRecord*>::iterator();
  if (!table || it == table->live.end()) throw Napi::Error::New(env, "Not a chunk obtained from chunkObtain()");
  ChunkRecord* record = it->second;
  table->live.erase(it);
  buffer.Detach();  // JS can no longer reach the memory
  DropWeak(env, record);
  FreeChunk(*table, record, env);
  record->released = true;  // deleted by its finalizer
  Sweep(env, *table);
  return env.Undefined();
}

Napi::Value ChunkStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData* data = AddonData::Get(env);
  Napi::Object out = Napi::Object::New(env);
  const ChunkTable* table = data->chunks.get();
  out.Set("chunks", static_cast<double>(table ? table->live.size() : 0));
  out.Set("bytes", static_cast<double>(table ? table->bytes : 0));
  out.Set("mappedChunks", static_cast<double>(table ? table->mappedChunks : 0));
  out.Set("mappedBytes", static_cast<double>(table ? table->mappedBytes : 0));
  out.Set("spareMappedBytes", static_cast<double>(table ? table->spareBytes : 0));
  return out;
}

}  // namespace vkalloc
