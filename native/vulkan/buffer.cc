#include "vulkan/buffer.h"
#include "bridge/command_scope.h"
#include "vulkan/device.h"
#include "vulkan/memory.h"

namespace vkalloc {

Napi::Function Buffer::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> props = {
      InstanceMethod<&Buffer::MemoryRequirements>("memoryRequirements", napi_default_method),
      InstanceMethod<&Buffer::BindMemory>("bindMemory", napi_default_method),
  };
  AddCommonMembers(props);
  return DefineClass(env, "Buffer", props);
}

void Buffer::Adopt(Device* device, VkBuffer handle) {
  device_ = device;
  handle_ = handle;
  Attach(device);
}

Napi::Value Buffer::MemoryRequirements(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  VkMemoryRequirements req{};
  device_->Dispatch().vkGetBufferMemoryRequirements(device_->Handle(), handle_, &req);
  Napi::Object o = Napi::Object::New(env);
  o.Set("size", static_cast<double>(req.size));
  o.Set("alignment", static_cast<double>(req.alignment));
  o.Set("memoryTypeBits", req.memoryTypeBits);
  return o;
}

Napi::Value Buffer::BindMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  DeviceMemory* memory = UnwrapAs<DeviceMemory>(info[0]);
  memory->CheckAlive(env);
  VkDeviceSize offset = static_cast<VkDeviceSize>(info[1].As<Napi::Number>().DoubleValue());
  CommandScope scope(env, "vkBindBufferMemory");
  scope.Check(device_->Dispatch().vkBindBufferMemory(device_->Handle(), handle_, memory->Handle(), offset));
  return env.Undefined();
}

void Buffer::DestroyHandle() {
  CommandScope scope(data_, "vkDestroyBuffer");
  device_->Dispatch().vkDestroyBuffer(device_->Handle(), handle_, Callbacks());
  handle_ = VK_NULL_HANDLE;
}

}  // namespace vkalloc
