// Conversions of arguments that lib/ has already validated (numbers in range,
// typed arrays of the right kind): native code only converts, it does not re-check.
#pragma once
#include <napi.h>
#include <vulkan/vulkan.h>
#include <cstdint>
#include <vector>

namespace vkalloc {

inline uint32_t U32(Napi::Value v) {
  return v.As<Napi::Number>().Uint32Value();
}
inline int32_t I32(Napi::Value v) {
  return v.As<Napi::Number>().Int32Value();
}
inline uint64_t U64(Napi::Value v) {
  return static_cast<uint64_t>(v.As<Napi::Number>().DoubleValue());
}
// A byte size where -1 (or undefined) means VK_WHOLE_SIZE.
inline VkDeviceSize SizeOrWhole(Napi::Value v) {
  if (!v.IsNumber()) return VK_WHOLE_SIZE;
  double d = v.As<Napi::Number>().DoubleValue();
  return d < 0 ? VK_WHOLE_SIZE : static_cast<VkDeviceSize>(d);
}
// A timeout in nanoseconds; Infinity (or anything past 2^64) waits forever.
inline uint64_t TimeoutNs(Napi::Value v) {
  double d = v.As<Napi::Number>().DoubleValue();
  return d >= 18446744073709551615.0 ? UINT64_MAX : static_cast<uint64_t>(d);
}

// The bytes of a TypedArray / Buffer / DataView argument (the view, not its whole ArrayBuffer).
struct Bytes {
  const uint8_t* data = nullptr;
  size_t size = 0;
};
inline Bytes BytesOf(Napi::Value v) {
  Bytes b;
  if (v.IsTypedArray()) {
    Napi::TypedArray t = v.As<Napi::TypedArray>();
    b.data = static_cast<const uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset();
    b.size = t.ByteLength();
  } else if (v.IsDataView()) {
    Napi::DataView d = v.As<Napi::DataView>();
    b.data = static_cast<const uint8_t*>(d.ArrayBuffer().Data()) + d.ByteOffset();
    b.size = d.ByteLength();
  } else if (v.IsArrayBuffer()) {
    Napi::ArrayBuffer a = v.As<Napi::ArrayBuffer>();
    b.data = static_cast<const uint8_t*>(a.Data());
    b.size = a.ByteLength();
  }
  return b;
}

// Each element of a JS array, unwrapped as T (a wrapped resource class).
template <typename T>
std::vector<T*> UnwrapAll(Napi::Value v) {
  std::vector<T*> out;
  if (!v.IsArray()) return out;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(UnwrapAs<T>(a.Get(i)));
  return out;
}

}  // namespace vkalloc
