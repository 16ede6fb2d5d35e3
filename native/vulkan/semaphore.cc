#include "vulkan/semaphore.h"
#include "bridge/command_scope.h"
#include "vulkan/device.h"
#include "bridge/js_args.h"

namespace vkalloc {

Napi::Function Semaphore::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> props = {
      InstanceMethod<&Semaphore::CounterValue>("value", napi_default_method),
      InstanceMethod<&Semaphore::Wait>("wait", napi_default_method),
      InstanceMethod<&Semaphore::Signal>("signal", napi_default_method),
  };
  AddCommonMembers(props);
  return DefineClass(env, "Semaphore", props);
}

Napi::Value Semaphore::Create(const Napi::CallbackInfo& info, Device* device) {
  Napi::Env env = info.Env();
  Napi::Object opts = info[0].As<Napi::Object>();
  VkSemaphoreTypeCreateInfo type{VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO};
  type.semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE;
  type.initialValue = U64(opts.Get("initialValue"));
  VkSemaphoreCreateInfo ci{VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
  if (opts.Get("timeline").ToBoolean().Value()) ci.pNext = &type;
  Semaphore* semaphore = Prepare<Semaphore>(env, AddonData::Get(env)->semaphoreCtor, info[1]);
  VkSemaphore handle = VK_NULL_HANDLE;
  {
    CommandScope scope(env, "vkCreateSemaphore");
    scope.Check(device->Dispatch().vkCreateSemaphore(device->Handle(), &ci, semaphore->Callbacks(), &handle));
  }
  semaphore->device_ = device;
  semaphore->handle_ = handle;
  semaphore->Attach(device);
  return semaphore->Value();
}

static void RequireTimelineFunctions(Napi::Env env, const DeviceDispatch& vk) {
  if (!vk.vkGetSemaphoreCounterValue || !vk.vkWaitSemaphores || !vk.vkSignalSemaphore) {
    throw Napi::Error::New(env, "Timeline semaphores need a Vulkan 1.2 device and instance");
  }
}

Napi::Value Semaphore::CounterValue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  RequireTimelineFunctions(env, device_->Dispatch());
  uint64_t value = 0;
  CommandScope scope(env, "vkGetSemaphoreCounterValue");
  scope.Check(device_->Dispatch().vkGetSemaphoreCounterValue(device_->Handle(), handle_, &value));
  return Napi::Number::New(env, static_cast<double>(value));
}

Napi::Value Semaphore::Wait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  RequireTimelineFunctions(env, device_->Dispatch());
  uint64_t value = U64(info[0]);
  VkSemaphoreWaitInfo wi{VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO};
  wi.semaphoreCount = 1;
  wi.pSemaphores = &handle_;
  wi.pValues = &value;
  CommandScope scope(env, "vkWaitSemaphores");
  VkResult result = scope.Check(device_->Dispatch().vkWaitSemaphores(device_->Handle(), &wi, TimeoutNs(info[1])));
  return Napi::Boolean::New(env, result == VK_SUCCESS);
}

Napi::Value Semaphore::Signal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  RequireTimelineFunctions(env, device_->Dispatch());
  VkSemaphoreSignalInfo si{VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO};
  si.semaphore = handle_;
  si.value = U64(info[0]);
  CommandScope scope(env, "vkSignalSemaphore");
  scope.Check(device_->Dispatch().vkSignalSemaphore(device_->Handle(), &si));
  return env.Undefined();
}

void Semaphore::DestroyHandle() {
  CommandScope scope(data_, "vkDestroySemaphore");
  device_->Dispatch().vkDestroySemaphore(device_->Handle(), handle_, Callbacks());
  handle_ = VK_NULL_HANDLE;
}

}  // namespace vkalloc
