#include "vulkan/memory.h"
#include "bridge/command_scope.h"
#include "vulkan/device.h"

namespace vkalloc {

Napi::Function DeviceMemory::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> props = {
      InstanceMethod<&DeviceMemory::Map>("map", napi_default_method),
      InstanceMethod<&DeviceMemory::Unmap>("unmap", napi_default_method),
      InstanceMethod<&DeviceMemory::Flush>("flush", napi_default_method),
      InstanceMethod<&DeviceMemory::Invalidate>("invalidate", napi_default_method),
  };
  AddCommonMembers(props);
  return DefineClass(env, "DeviceMemory", props);
}

void DeviceMemory::Adopt(Device* device, VkDeviceMemory handle, VkDeviceSize size) {
  device_ = device;
  handle_ = handle;
  size_ = size;
  Attach(device);
}

Napi::Value DeviceMemory::Map(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  if (!mapping_.IsEmpty()) throw Napi::Error::New(env, "DeviceMemory is already mapped: unmap() it first");
  VkDeviceSize offset = static_cast<VkDeviceSize>(info[0].As<Napi::Number>().DoubleValue());
  VkDeviceSize size = static_cast<VkDeviceSize>(info[1].As<Napi::Number>().DoubleValue());
  void* data = nullptr;
  {
    CommandScope scope(env, "vkMapMemory");
    scope.Check(device_->Dispatch().vkMapMemory(device_->Handle(), handle_, offset, size, 0, &data));
  }
  // External: the bytes belong to the driver; no finalizer frees them.
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, data, static_cast<size_t>(size));
  mapping_ = Napi::Persistent(buffer);
  return buffer;
}

void DeviceMemory::DetachMapping() {
  if (mapping_.IsEmpty()) return;
  Napi::ArrayBuffer buffer = mapping_.Value();
  if (!buffer.IsDetached()) buffer.Detach();
  mapping_.Reset();
  CommandScope scope(data_, "vkUnmapMemory");
  device_->Dispatch().vkUnmapMemory(device_->Handle(), handle_);
}

Napi::Value DeviceMemory::Unmap(const Napi::CallbackInfo& info) {
  CheckAlive(info.Env());
  if (mapping_.IsEmpty()) throw Napi::Error::New(info.Env(), "DeviceMemory is not mapped");
  DetachMapping();
  return info.Env().Undefined();
}

Napi::Value DeviceMemory::SyncRange(const Napi::CallbackInfo& info, bool flush) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  if (mapping_.IsEmpty()) throw Napi::Error::New(env, "DeviceMemory is not mapped");
  VkMappedMemoryRange range{VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE};
  range.memory = handle_;
  range.offset = static_cast<VkDeviceSize>(info[0].As<Napi::Number>().DoubleValue());
  range.size =
      info[1].IsUndefined() ? VK_WHOLE_SIZE : static_cast<VkDeviceSize>(info[1].As<Napi::Number>().DoubleValue());
  const DeviceDispatch& vk = device_->Dispatch();
  CommandScope scope(env, flush ? "vkFlushMappedMemoryRanges" : "vkInvalidateMappedMemoryRanges");
  scope.Check(flush ? vk.vkFlushMappedMemoryRanges(device_->Handle(), 1, &range)
                    : vk.vkInvalidateMappedMemoryRanges(device_->Handle(), 1, &range));
  return env.Undefined();
}

Napi::Value DeviceMemory::Flush(const Napi::CallbackInfo& info) {
  return SyncRange(info, true);
}
Napi::Value DeviceMemory::Invalidate(const Napi::CallbackInfo& info) {
  return SyncRange(info, false);
}

void DeviceMemory::DestroyHandle() {
  DetachMapping();
  CommandScope scope(data_, "vkFreeMemory");
  device_->Dispatch().vkFreeMemory(device_->Handle(), handle_, Callbacks());
  handle_ = VK_NULL_HANDLE;
}

}  // namespace vkalloc
