#include "vulkan/fence.h"
#include "bridge/command_scope.h"
#include "vulkan/device.h"

namespace vkalloc {

Napi::Function Fence::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> props = {
      InstanceMethod<&Fence::Wait>("wait", napi_default_method),
      InstanceMethod<&Fence::Signaled>("signaled", napi_default_method),
      InstanceMethod<&Fence::Reset>("reset", napi_default_method),
  };
  AddCommonMembers(props);
  return DefineClass(env, "Fence", props);
}

Fence* Fence::Wrap(Napi::Env env, Device* device, VkFence handle, Napi::Value allocator) {
  Fence* fence = NewWrapped<Fence>(env, AddonData::Get(env)->fenceCtor);
  fence->device_ = device;
  fence->handle_ = handle;
  fence->Attach(device, allocator);
  return fence;
}

Napi::Value Fence::Wait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  double timeout = info[0].As<Napi::Number>().DoubleValue();
  uint64_t ns = timeout >= 18446744073709551615.0 ? UINT64_MAX : static_cast<uint64_t>(timeout);
  CommandScope scope(env, "vkWaitForFences");
  VkResult result = scope.Check(device_->Dispatch().vkWaitForFences(device_->Handle(), 1, &handle_, VK_TRUE, ns));
  return Napi::Boolean::New(env, result == VK_SUCCESS);
}

Napi::Value Fence::Signaled(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  CommandScope scope(env, "vkGetFenceStatus");
  VkResult result = scope.Check(device_->Dispatch().vkGetFenceStatus(device_->Handle(), handle_));
  return Napi::Boolean::New(env, result == VK_SUCCESS);
}

Napi::Value Fence::Reset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  CommandScope scope(env, "vkResetFences");
  scope.Check(device_->Dispatch().vkResetFences(device_->Handle(), 1, &handle_));
  return env.Undefined();
}

void Fence::DestroyHandle() {
  CommandScope scope(data_, "vkDestroyFence");
  device_->Dispatch().vkDestroyFence(device_->Handle(), handle_, Callbacks());
  handle_ = VK_NULL_HANDLE;
}

}  // namespace vkalloc
