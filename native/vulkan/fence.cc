#include "vulkan/fence.h"
#include "bridge/command_scope.h"
#include "vulkan/device.h"

namespace vkalloc {

Napi::Function Fence::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> props = {
      InstanceMethod<&Fence::Wait>("wait", napi_default_method),
      InstanceMethod<&Fence::WaitAsync>("waitAsync", napi_default_method),
      InstanceMethod<&Fence::Signaled>("signaled", napi_default_method),
      InstanceMethod<&Fence::Reset>("reset", napi_default_method),
  };
  AddCommonMembers(props);
  return DefineClass(env, "Fence", props);
}

void Fence::Adopt(Device* device, VkFence handle) {
  device_ = device;
  handle_ = handle;
  Attach(device);
}

namespace {
// A timeout in nanoseconds (lib/ checked it is a number >= 0); Infinity and beyond: UINT64_MAX.
uint64_t TimeoutNs(Napi::Value value) {
  double timeout = value.As<Napi::Number>().DoubleValue();
  return timeout >= 18446744073709551615.0 ? UINT64_MAX : static_cast<uint64_t>(timeout);
}
}  // namespace

Napi::Value Fence::Wait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  uint64_t ns = TimeoutNs(info[0]);
  CommandScope scope(env, "vkWaitForFences");
  VkResult result = scope.Check(device_->Dispatch().vkWaitForFences(device_->Handle(), 1, &handle_, VK_TRUE, ns));
  return Napi::Boolean::New(env, result == VK_SUCCESS);
}

// waitAsync(timeoutNs) -> Promise<boolean>: vkWaitForFences on a thread of its own, in
// slices (Device::StartWait); true when signaled, false on timeout.
Napi::Value Fence::WaitAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  uint64_t ns = TimeoutNs(info[0]);
  PFN_vkWaitForFences waitForFences = device_->Dispatch().vkWaitForFences;
  VkDevice device = device_->Handle();
  VkFence fence = handle_;
  return device_->StartWait(
      env, "vkWaitForFences", this, ns, Device::WaitKind::Fence,
      [waitForFences, device, fence](uint64_t sliceNs) { return waitForFences(device, 1, &fence, VK_TRUE, sliceNs); });
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
  device_->StopWaits(this);  // vkDestroyFence must not run under a wait on it
  CommandScope scope(data_, "vkDestroyFence");
  device_->Dispatch().vkDestroyFence(device_->Handle(), handle_, Callbacks());
  handle_ = VK_NULL_HANDLE;
}

}  // namespace vkalloc
