#include "vulkan/queue.h"
#include "vulkan/command_pool.h"
#include "bridge/command_scope.h"
#include "vulkan/device.h"
#include "vulkan/fence.h"
#include "bridge/js_args.h"
#include "vulkan/semaphore.h"

namespace vkalloc {

Napi::Function Queue::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> props = {
      InstanceMethod<&Queue::Submit>("submit", napi_default_method),
      InstanceMethod<&Queue::WaitIdle>("waitIdle", napi_default_method),
  };
  AddCommonMembers(props);
  return DefineClass(env, "Queue", props);
}

Queue* Queue::Wrap(Napi::Env env, Device* device, VkQueue handle) {
  Queue* queue = NewWrapped<Queue>(env, AddonData::Get(env)->queueCtor);
  queue->device_ = device;
  queue->handle_ = handle;
  queue->Attach(device);
  return queue;
}

// submit([{ commandBuffers, waits: [{ semaphore, value, stage }], signals: [{ semaphore, value }],
// timeline }], fence): `timeline` adds a VkTimelineSemaphoreSubmitInfo with the values
// (lib/vulkan/queue.ts sets it when a batch uses a timeline semaphore).
Napi::Value Queue::Submit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  Napi::Array list = info[0].As<Napi::Array>();
  uint32_t count = list.Length();
  struct Batch {
    std::vector<VkCommandBuffer> commandBuffers;
    std::vector<VkSemaphore> waits, signals;
    std::vector<VkPipelineStageFlags> waitStages;
    std::vector<uint64_t> waitValues, signalValues;
    VkTimelineSemaphoreSubmitInfo timeline{VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO};
  };
  std::vector<Batch> batches(count);
  std::vector<VkSubmitInfo> submits(count, VkSubmitInfo{VK_STRUCTURE_TYPE_SUBMIT_INFO});
  for (uint32_t i = 0; i < count; i++) {
    Napi::Object b = list.Get(i).As<Napi::Object>();
    Batch& batch = batches[i];
    for (CommandBuffer* cb : UnwrapAll<CommandBuffer>(b.Get("commandBuffers"))) {
      cb->CheckAlive(env);
      batch.commandBuffers.push_back(cb->Handle());
    }
    if (b.Get("waits").IsArray()) {
      Napi::Array waits = b.Get("waits").As<Napi::Array>();
      for (uint32_t j = 0; j < waits.Length(); j++) {
        Napi::Object w = waits.Get(j).As<Napi::Object>();
        Semaphore* s = UnwrapAs<Semaphore>(w.Get("semaphore"));
        s->CheckAlive(env);
        batch.waits.push_back(s->Handle());
        batch.waitValues.push_back(U64(w.Get("value")));
        batch.waitStages.push_back(U32(w.Get("stage")));
      }
    }
    if (b.Get("signals").IsArray()) {
      Napi::Array signals = b.Get("signals").As<Napi::Array>();
      for (uint32_t j = 0; j < signals.Length(); j++) {
        Napi::Object sg = signals.Get(j).As<Napi::Object>();
        Semaphore* s = UnwrapAs<Semaphore>(sg.Get("semaphore"));
        s->CheckAlive(env);
        batch.signals.push_back(s->Handle());
        batch.signalValues.push_back(U64(sg.Get("value")));
      }
    }
    VkSubmitInfo& submit = submits[i];
    submit.commandBufferCount = static_cast<uint32_t>(batch.commandBuffers.size());
    submit.pCommandBuffers = batch.commandBuffers.data();
    submit.waitSemaphoreCount = static_cast<uint32_t>(batch.waits.size());
    submit.pWaitSemaphores = batch.waits.data();
    submit.pWaitDstStageMask = batch.waitStages.data();
    submit.signalSemaphoreCount = static_cast<uint32_t>(batch.signals.size());
    submit.pSignalSemaphores = batch.signals.data();
    if (b.Get("timeline").ToBoolean().Value()) {
      batch.timeline.waitSemaphoreValueCount = static_cast<uint32_t>(batch.waitValues.size());
      batch.timeline.pWaitSemaphoreValues = batch.waitValues.data();
      batch.timeline.signalSemaphoreValueCount = static_cast<uint32_t>(batch.signalValues.size());
      batch.timeline.pSignalSemaphoreValues = batch.signalValues.data();
      submit.pNext = &batch.timeline;
    }
  }
  VkFence fence = VK_NULL_HANDLE;
  if (info[1].IsObject()) {
    Fence* f = UnwrapAs<Fence>(info[1]);
    f->CheckAlive(env);
    fence = f->Handle();
  }
  CommandScope scope(env, "vkQueueSubmit");
  scope.Check(device_->Dispatch().vkQueueSubmit(handle_, count, submits.data(), fence));
  device_->NoteSubmit();
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
