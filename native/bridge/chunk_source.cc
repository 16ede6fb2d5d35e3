#include "bridge/chunk_source.h"
#include <cstdlib>
#include "bridge/addon_data.h"

namespace vkalloc {

// One chunk. The environment's map owns the memory; the ArrayBuffer's finalizer
// only reports that JS dropped it. Node may finalize external buffers at teardown
// before this addon's cleanup hook has destroyed the Vulkan objects still using
// them, so the finalizer must never free the memory itself.
struct ChunkRecord {
  void* memory;
  bool released = false;   // memory freed; the record waits for its finalizer
  bool collected = false;  // finalized without release: memory freed at the next sweep
};

namespace {

constexpr size_t kChunkAlignment = 64;  // cache line; policies rely on at least 16

void FinalizeChunk(napi_env, void*, void* hint) {
  auto* record = static_cast<ChunkRecord*>(hint);
  if (record->released) delete record;
  else record->collected = true;
}

// Frees chunks whose buffers the GC took without a release (a policy dropped
// with its chunks). Runs on the JS thread, at obtain/release time.
void Sweep(AddonData* data) {
  for (auto it = data->chunks.begin(); it != data->chunks.end();) {
    ChunkRecord* record = it->second;
    if (!record->collected) {
      ++it;
      continue;
    }
    std::free(record->memory);
    delete record;
    it = data->chunks.erase(it);
  }
}

}  // namespace

void FreeAllChunks(AddonData* data) {
  for (auto& [memory, record] : data->chunks) {
    std::free(memory);
    if (record->collected) delete record;
    else record->released = true;  // its finalizer deletes it, if it ever runs
  }
  data->chunks.clear();
}

Napi::Value ChunkObtain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData* data = AddonData::Get(env);
  Sweep(data);
  double requested = info[0].As<Napi::Number>().DoubleValue();
  if (!(requested > 0 && requested <= 1099511627776.0)) throw Napi::RangeError::New(env, "chunk size out of range");
  size_t size = static_cast<size_t>(requested);
  void* memory = nullptr;
  if (posix_memalign(&memory, kChunkAlignment, size) != 0) return env.Null();
  auto* record = new ChunkRecord{memory};
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, memory, size, FinalizeChunk, record, &buffer) != napi_ok) {
    delete record;
    std::free(memory);
    return env.Null();
  }
  data->chunks[memory] = record;
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
  auto it = data->chunks.find(buffer.Data());
  if (it == data->chunks.end()) throw Napi::Error::New(env, "Not a chunk obtained from chunkObtain()");
  ChunkRecord* record = it->second;
  data->chunks.erase(it);
  buffer.Detach();  // JS can no longer reach the memory
  std::free(record->memory);
  record->released = true;  // deleted by its finalizer
  Sweep(data);
  return env.Undefined();
}

}  // namespace vkalloc
