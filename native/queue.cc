#include "queue.h"
#include "command_scope.h"
#include "device.h"
#include "fence.h"

namespace vkalloc {

Napi::Function Queue::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> props = {
      InstanceMethod<&Queue::Submit>("submit"),
      InstanceMethod<&Queue::WaitIdle>("waitIdle"),
  };
  AddCommonMembers(props);
  return DefineClass(env, "Queue", props);
}

Queue* Queue::Wrap(Napi::Env env, Device* device, VkQueue handle) {
  Queue* queue = NewWrapped<Queue>(env, AddonData::Get(env)->queueCtor);
  queue->device_ = device;
  queue->handle_ = handle;
  queue->Attach(device, env.Undefined());
  return queue;
}

Napi::Value Queue::Submit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  uint32_t count = info[0].As<Napi::Array>().Length();
  // Batches carry no command buffers yet: an empty batch still orders the fence.
  std::vector<VkSubmitInfo> batches(count, VkSubmitInfo{VK_STRUCTURE_TYPE_SUBMIT_INFO});
  VkFence fence = VK_NULL_HANDLE;
  if (info[1].IsObject()) {
    Fence* f = Fence::Unwrap(info[1].As<Napi::Object>());
    f->CheckAlive(env);
    fence = f->Handle();
  }
  CommandScope scope(env, "vkQueueSubmit");
  scope.Check(device_->Dispatch().vkQueueSubmit(handle_, count, batches.data(), fence));
  return env.Undefined();
}

Napi::Value Queue::WaitIdle(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  CommandScope scope(env, "vkQueueWaitIdle");
  scope.Check(device_->Dispatch().vkQueueWaitIdle(handle_));
  return env.Undefined();
}

}  // namespace vkalloc
