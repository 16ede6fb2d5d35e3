#include "chunk_source.h"
#include <cstdlib>
#include <unordered_map>
#include "addon_data.h"

namespace vkalloc {

// Outlives the ArrayBuffer's finalizer whatever the order of teardown: it touches
// nothing but itself.
struct ChunkRecord {
  void* memory;
  bool released;
};

namespace {

constexpr size_t kChunkAlignment = 64;  // cache line; policies rely on at least 16

void FinalizeChunk(napi_env, void*, void* hint) {
  auto* record = static_cast<ChunkRecord*>(hint);
  if (!record->released) std::free(record->memory);  // dropped without release: reclaim
  delete record;
}

// This environment's live chunks by address, to find the record on release. An
// entry left by a chunk the GC reclaimed is overwritten when malloc reuses the address.
std::unordered_map<void*, ChunkRecord*>& Records(Napi::Env env) { return AddonData::Get(env)->chunks; }

}  // namespace

Napi::Value ChunkObtain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double requested = info[0].As<Napi::Number>().DoubleValue();
  if (!(requested > 0 && requested <= 1099511627776.0)) throw Napi::RangeError::New(env, "chunk size out of range");
  size_t size = static_cast<size_t>(requested);
  void* memory = nullptr;
  if (posix_memalign(&memory, kChunkAlignment, size) != 0) return env.Null();
  auto* record = new ChunkRecord{memory, false};
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, memory, size, FinalizeChunk, record, &buffer) != napi_ok) {
    delete record;
    std::free(memory);
    return env.Null();
  }
  Records(env)[memory] = record;
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
  auto& records = Records(env);
  auto it = records.find(buffer.Data());
  if (it == records.end()) throw Napi::Error::New(env, "Not a chunk obtained from chunkObtain()");
  ChunkRecord* record = it->second;
  records.erase(it);
  buffer.Detach();  // JS can no longer reach the memory
  record->released = true;
  std::free(record->memory);
  return env.Undefined();
}

}  // namespace vkalloc
