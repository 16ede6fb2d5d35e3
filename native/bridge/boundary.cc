// The layouts and names C++ and TypeScript share, exported once from here as
// `boundary`: lib/native/boundary.ts takes the numbers from it and checks its own
// name tables against it when the addon loads, so the two sides cannot drift apart
// silently.
#include <cstddef>
#include "bridge/allocator_bridge.h"
#include "core/block_registry.h"
#include "core/trace_recorder.h"
#include "core/validator.h"

namespace vkalloc {

namespace {

Napi::Array Names(Napi::Env env, const char* const* names, int count) {
  Napi::Array out = Napi::Array::New(env, count);
  for (int i = 0; i < count; i++) out.Set(i, names[i]);
  return out;
}

}  // namespace

Napi::Object Boundary(Napi::Env env) {
  Napi::Object ioLayout = Napi::Object::New(env);
  ioLayout.Set("op", io::kOp);
  ioLayout.Set("size", io::kSize);
  ioLayout.Set("alignment", io::kAlignment);
  ioLayout.Set("scope", io::kScope);
  ioLayout.Set("address", io::kAddress);
  ioLayout.Set("freeCount", io::kFreeCount);
  ioLayout.Set("errorCount", io::kErrorCount);
  ioLayout.Set("freesStart", io::kFreesStart);
  ioLayout.Set("freeCapacity", io::kFreeCapacity);
  ioLayout.Set("length", io::kLength);
  ioLayout.Set("takenCount", io::kTakenCount);
  ioLayout.Set("takenStart", io::kTakenStart);
  ioLayout.Set("takenFields", io::kTakenFields);
  ioLayout.Set("takenCapacity", io::kTakenCapacity);
  ioLayout.Set("readyClassLimit", io::kReadyClassLimit);
  ioLayout.Set("readyCapacity", io::kReadyCapacity);
  ioLayout.Set("readyStride", io::kReadyStride);

  Napi::Object ops = Napi::Object::New(env);
  ops.Set("allocate", static_cast<int>(io::kAllocate));
  ops.Set("reallocate", static_cast<int>(io::kReallocate));
  ops.Set("flush", static_cast<int>(io::kFlush));
  ops.Set("internalAllocate", static_cast<int>(io::kInternalAllocate));
  ops.Set("internalFree", static_cast<int>(io::kInternalFree));

  // Byte offsets of struct TraceEvent's fields.
  Napi::Object event = Napi::Object::New(env);
  event.Set("bytes", sizeof(TraceEvent));
  event.Set("time", offsetof(TraceEvent, time));
  event.Set("size", offsetof(TraceEvent, size));
  event.Set("address", offsetof(TraceEvent, address));
  event.Set("oldAddress", offsetof(TraceEvent, oldAddress));
  event.Set("seq", offsetof(TraceEvent, seq));
  event.Set("alignment", offsetof(TraceEvent, alignment));
  event.Set("command", offsetof(TraceEvent, command));
  event.Set("kind", offsetof(TraceEvent, kind));
  event.Set("scope", offsetof(TraceEvent, scope));
  event.Set("flags", offsetof(TraceEvent, flags));
  event.Set("thread", offsetof(TraceEvent, thread));
  event.Set("object", offsetof(TraceEvent, object));

  Napi::Object flags = Napi::Object::New(env);
  flags.Set("failed", static_cast<int>(kFailed));
  flags.Set("offThread", static_cast<int>(kOffThread));
  flags.Set("outsideCommand", static_cast<int>(kOutsideCommand));

  Napi::Object out = Napi::Object::New(env);
  out.Set("io", ioLayout);
  out.Set("ops", ops);
  out.Set("traceEvent", event);
  out.Set("eventFlags", flags);
  out.Set("eventKindCount", static_cast<int>(TraceKind::CommandEnd) + 1);
  out.Set("scopeNames", Names(env, kScopeNames, kScopeCount));
  out.Set("violationNames", Names(env, kViolationNames, static_cast<int>(Violation::Count)));
  return out;
}

}  // namespace vkalloc
