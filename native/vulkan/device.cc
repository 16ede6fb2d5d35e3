#include "vulkan/device.h"
#include <algorithm>
#include <atomic>
#include <chrono>
#include <system_error>
#include <thread>
#include "bridge/vk_result.h"
#include "vulkan/buffer.h"
#include "vulkan/command_pool.h"
#include "bridge/command_scope.h"
#include "vulkan/descriptor.h"
#include "vulkan/fence.h"
#include "vulkan/image.h"
#include "vulkan/instance.h"
#include "vulkan/memory.h"
#include "vulkan/physical_device.h"
#include "vulkan/pipeline.h"
#include "vulkan/queue.h"
#include "vulkan/semaphore.h"
#include "vulkan/shader_module.h"

namespace vkalloc {

// Live devices are per environment (AddonData::liveDevices) and touched on its JS
// thread only. A copy is walked: waiting idle can run callbacks.
void Device::IdleForTeardown(AddonData* data) {
  std::vector<Device*> devices = data->liveDevices;
  for (Device* device : devices) device->StopWaits(nullptr);  // no thread may be in Vulkan from here on
  for (Device* device : devices) {
    if (!device->submitted_ || device->handle_ == VK_NULL_HANDLE) continue;
    CommandScope scope(data, "vkDeviceWaitIdle");
    device->dispatch_.vkDeviceWaitIdle(device->handle_);
    device->submitted_ = false;
  }
}

// ---- asynchronous waits --------------------------------------------------------------

namespace {
// One slice of a wait that can be stopped: the longest a destroy, a worker.terminate()
// or the end of the environment waits for the wait's thread to leave the driver.
constexpr uint64_t kWaitSliceNs = 10'000'000;
}  // namespace

// Created on the JS thread; from then on the wait's thread reads the constant fields and
// writes `result` and `stopped` before it calls the threadsafe function (whose lock,
// or the join, orders them before the JS thread reads them). Deleted by FinalizeWait.
struct AsyncWait {
  Device* device = nullptr;  // null once the device let go of it (settled, or stopped)
  const Resource* target = nullptr;
  const char* targetType = "";
  const char* command = "";
  uint64_t timeoutNs = UINT64_MAX;
  Device::WaitKind kind = Device::WaitKind::Fence;
  Device::WaitStep step;
  uint64_t submitsAtStart = 0;
  napi_threadsafe_function tsfn = nullptr;
  napi_deferred deferred = nullptr;
  std::thread thread;
  std::atomic<bool> stop{false};
  VkResult result = VK_SUCCESS;
  bool stopped = false;  // ended by StopWaits, not by the driver
};

Napi::Value Device::StartWait(Napi::Env env, const char* command, const Resource* target, uint64_t timeoutNs,
                              WaitKind kind, WaitStep step) {
  if (data_->policyDepth > 0) {
    throw Napi::Error::New(env, std::string("Cannot call ") + command +
                                    " from inside an allocator policy callback: Vulkan forbids allocation "
                                    "callbacks to call Vulkan");
  }
  auto owned = std::make_unique<AsyncWait>();
  AsyncWait* wait = owned.get();
  wait->device = this;
  wait->target = target;
  wait->targetType = target->TypeName();
  wait->command = command;
  wait->timeoutNs = timeoutNs;
  wait->kind = kind;
  wait->step = std::move(step);
  wait->submitsAtStart = submits_;
  napi_value name;
  NAPI_THROW_IF_FAILED(env, napi_create_string_utf8(env, command, NAPI_AUTO_LENGTH, &name), Napi::Value());
  // Referenced (the default): a pending wait keeps the event loop alive, as pending I/O does.
  NAPI_THROW_IF_FAILED(env,
                       napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, wait, &Device::FinalizeWait,
                                                       wait, &Device::SettleWait, &wait->tsfn),
                       Napi::Value());
  owned.release();  // the function's finalizer deletes it from now on
  try {
    wait->thread = std::thread(&Device::RunWait, wait);
  } catch (const std::system_error& e) {
    napi_release_threadsafe_function(wait->tsfn, napi_tsfn_abort);
    throw Napi::Error::New(env, std::string("Could not start a thread for ") + command + ": " + e.what());
  }
  waits_.push_back(wait);
  // Made after the thread started: nothing can settle it before this call returns.
  napi_value promise;
  NAPI_THROW_IF_FAILED(env, napi_create_promise(env, &wait->deferred, &promise), Napi::Value());
  return Napi::Value(env, promise);
}

// The only Vulkan calls here are the wait's own; callbacks the driver makes meanwhile
// see offThreadCommand and take the bridge's native path (never JS, never waiting for it).
void Device::RunWait(AsyncWait* wait) {
  offThreadCommand = wait->command;
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    uint64_t slice = kWaitSliceNs;
    bool last = false;
    if (wait->timeoutNs != UINT64_MAX) {
      const auto elapsed =
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start);
      const uint64_t spent = static_cast<uint64_t>(elapsed.count());
      const uint64_t left = spent < wait->timeoutNs ? wait->timeoutNs - spent : 0;
      if (left <= slice) {
        slice = left;
        last = true;
      }
    }
    VkResult result = wait->step(slice);
    if (result != VK_TIMEOUT || last) {
      wait->result = result;
      break;
    }
    if (wait->stop.load(std::memory_order_acquire)) {
      wait->stopped = true;
      break;
    }
  }
  offThreadCommand = nullptr;
  // napi_closing once the environment is going: then nothing settles, as no JS runs.
  napi_call_threadsafe_function(wait->tsfn, nullptr, napi_tsfn_nonblocking);
  napi_release_threadsafe_function(wait->tsfn, napi_tsfn_release);
}

void Device::SettleWait(napi_env env, napi_value, void* context, void*) {
  if (env == nullptr) return;  // the function is being torn down; FinalizeWait has the wait
  auto* wait = static_cast<AsyncWait*>(context);
  if (Device* device = wait->device) {
    if (wait->kind == WaitKind::Idle && wait->result == VK_SUCCESS && device->submits_ == wait->submitsAtStart) {
      device->submitted_ = false;
    }
    device->Forget(wait);
  }
  napi_deferred deferred = wait->deferred;
  wait->deferred = nullptr;
  if (!deferred || !JsRunnable(env)) return;  // a stopping worker: nobody is left to tell
  // Nothing may throw out of here into Node: whatever fails rejects the promise instead.
  try {
    Napi::Env e(env);
    if (wait->stopped) {
      Napi::Error error = Napi::Error::New(
          e, std::string(wait->targetType) + " was destroyed while " + wait->command + " waited on it");
      napi_reject_deferred(env, deferred, error.Value());
    } else if (wait->result < 0) {
      napi_reject_deferred(env, deferred, MakeVulkanError(e, wait->result, wait->command, Napi::Value()));
    } else if (wait->kind == WaitKind::Fence) {
      napi_resolve_deferred(env, deferred, Napi::Boolean::New(e, wait->result == VK_SUCCESS));
    } else {
      napi_resolve_deferred(env, deferred, e.Undefined());
    }
  } catch (const Napi::Error& error) {
    napi_reject_deferred(env, deferred, error.Value());
  } catch (...) {
    napi_reject_deferred(env, deferred, Napi::Error::New(env, "Settling a wait failed").Value());
  }
}

void Device::FinalizeWait(napi_env, void* data, void*) {
  auto* wait = static_cast<AsyncWait*>(data);
  wait->stop.store(true, std::memory_order_release);
  if (wait->thread.joinable()) wait->thread.join();
  if (wait->device) wait->device->Forget(wait);
  delete wait;
}

void Device::Forget(AsyncWait* wait) {
  waits_.erase(std::remove(waits_.begin(), waits_.end(), wait), waits_.end());
  wait->device = nullptr;
}

void Device::StopWaits(const Resource* target) {
  std::vector<AsyncWait*> stopping;
  for (AsyncWait* wait : waits_) {
    if (target && wait->target != target) continue;
    wait->stop.store(true, std::memory_order_release);  // all first: they stop side by side
    stopping.push_back(wait);
  }
  for (AsyncWait* wait : stopping) {
    if (wait->thread.joinable()) wait->thread.join();
    Forget(wait);
  }
}

Napi::Value Device::WaitIdleAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  PFN_vkDeviceWaitIdle waitIdle = dispatch_.vkDeviceWaitIdle;
  VkDevice handle = handle_;
  // vkDeviceWaitIdle takes no timeout: it cannot be stopped, only waited for.
  return StartWait(env, "vkDeviceWaitIdle", this, UINT64_MAX, WaitKind::Idle,
                   [waitIdle, handle](uint64_t) { return waitIdle(handle); });
}

// quiesce(): for process exit (lib/vulkan/device.ts, on process 'exit'; Node runs no
// cleanup hook for process.exit() on the main thread): stops the waits and waits for
// submitted work, so that neither a wait's thread nor the driver's work is inside the
// driver while the process's static destructors run (SwiftShader crashed one exit in
// five without it). Never throws; from inside a policy callback it only stops the waits.
Napi::Value Device::Quiesce(const Napi::CallbackInfo& info) {
  if (Destroyed()) return info.Env().Undefined();
  try {
    StopWaits(nullptr);
    if (submitted_ && data_->policyDepth == 0) {
      CommandScope scope(data_, "vkDeviceWaitIdle");  // the teardown form: nothing thrown at JS
      dispatch_.vkDeviceWaitIdle(handle_);
      submitted_ = false;
    }
  } catch (...) {
  }
  return info.Env().Undefined();
}

// ---- the device ------------------------------------------------------------------------

Napi::Function Device::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> props = {
      InstanceMethod<&Device::GetQueue>("queue", napi_default_method),
      InstanceMethod<&Device::CreateBuffer>("createBuffer", napi_default_method),
      InstanceMethod<&Device::AllocateMemory>("allocateMemory", napi_default_method),
      InstanceMethod<&Device::CreateFence>("createFence", napi_default_method),
      InstanceMethod<&Device::WaitIdle>("waitIdle", napi_default_method),
      InstanceMethod<&Device::WaitIdleAsync>("waitIdleAsync", napi_default_method),
      InstanceMethod<&Device::Quiesce>("quiesce", napi_default_method),
      InstanceMethod<&Device::CreateSemaphore>("createSemaphore", napi_default_method),
      InstanceMethod<&Device::CreateCommandPool>("createCommandPool", napi_default_method),
      InstanceMethod<&Device::CreateShaderModule>("createShaderModule", napi_default_method),
      InstanceMethod<&Device::CreateDescriptorSetLayout>("createDescriptorSetLayout", napi_default_method),
      InstanceMethod<&Device::CreateDescriptorPool>("createDescriptorPool", napi_default_method),
      InstanceMethod<&Device::CreatePipelineLayout>("createPipelineLayout", napi_default_method),
      InstanceMethod<&Device::CreatePipelineCache>("createPipelineCache", napi_default_method),
      InstanceMethod<&Device::CreateComputePipeline>("createComputePipeline", napi_default_method),
      InstanceMethod<&Device::CreateImage>("createImage", napi_default_method),
  };
  AddCommonMembers(props);
  return DefineClass(env, "Device", props);
}

void Device::Adopt(PhysicalDevice* physical, VkDevice handle) {
  physical_ = physical;
  handle_ = handle;
  Loader::LoadDevice(physical->Owner()->Dispatch(), handle, &dispatch_);
  data_->liveDevices.push_back(this);  // before Attach, which may throw (after linking) a violation
  Attach(physical);
}

Napi::Value Device::GetQueue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  uint32_t family = info[0].As<Napi::Number>().Uint32Value();
  uint32_t index = info[1].As<Napi::Number>().Uint32Value();
  auto key = std::make_pair(family, index);
  auto it = queues_.find(key);
  if (it != queues_.end()) return it->second.Value();
  VkQueue queue = VK_NULL_HANDLE;
  dispatch_.vkGetDeviceQueue(handle_, family, index, &queue);
  Queue* q = Queue::Wrap(env, this, queue);
  queues_[key] = Napi::Persistent(q->Value());
  return q->Value();
}

Napi::Value Device::CreateBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  Napi::Object opts = info[0].As<Napi::Object>();
  VkBufferCreateInfo ci{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  ci.size = static_cast<VkDeviceSize>(opts.Get("size").As<Napi::Number>().DoubleValue());
  ci.usage = opts.Get("usage").As<Napi::Number>().Uint32Value();
  ci.flags = opts.Get("flags").As<Napi::Number>().Uint32Value();
  ci.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  Buffer* buffer = Prepare<Buffer>(env, data_->bufferCtor, info[1]);
  VkBuffer handle = VK_NULL_HANDLE;
  {
    CommandScope scope(env, "vkCreateBuffer");
    scope.Check(dispatch_.vkCreateBuffer(handle_, &ci, buffer->Callbacks(), &handle));
  }
  buffer->Adopt(this, handle);
  return buffer->Value();
}

Napi::Value Device::AllocateMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  Napi::Object opts = info[0].As<Napi::Object>();
  VkMemoryAllocateInfo ai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  ai.allocationSize = static_cast<VkDeviceSize>(opts.Get("size").As<Napi::Number>().DoubleValue());
  ai.memoryTypeIndex = opts.Get("memoryTypeIndex").As<Napi::Number>().Uint32Value();
  DeviceMemory* memory = Prepare<DeviceMemory>(env, data_->memoryCtor, info[1]);
  VkDeviceMemory handle = VK_NULL_HANDLE;
  {
    CommandScope scope(env, "vkAllocateMemory");
    scope.Check(dispatch_.vkAllocateMemory(handle_, &ai, memory->Callbacks(), &handle));
  }
  memory->Adopt(this, handle, ai.allocationSize);
  return memory->Value();
}

Napi::Value Device::CreateFence(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  Napi::Object opts = info[0].As<Napi::Object>();
  VkFenceCreateInfo ci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  if (opts.Get("signaled").ToBoolean().Value()) ci.flags = VK_FENCE_CREATE_SIGNALED_BIT;
  Fence* fence = Prepare<Fence>(env, data_->fenceCtor, info[1]);
  VkFence handle = VK_NULL_HANDLE;
  {
    CommandScope scope(env, "vkCreateFence");
    scope.Check(dispatch_.vkCreateFence(handle_, &ci, fence->Callbacks(), &handle));
  }
  fence->Adopt(this, handle);
  return fence->Value();
}

Napi::Value Device::WaitIdle(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  CommandScope scope(env, "vkDeviceWaitIdle");
  scope.Check(dispatch_.vkDeviceWaitIdle(handle_));
  submitted_ = false;
  return env.Undefined();
}

// (options, allocator) -> the new object, created and attached by its family's file.
#define VKALLOC_DEVICE_FACTORY(method, call)                   \
  Napi::Value Device::method(const Napi::CallbackInfo& info) { \
    CheckAlive(info.Env());                                    \
    return call(info, this);                                   \
  }
VKALLOC_DEVICE_FACTORY(CreateSemaphore, Semaphore::Create)
VKALLOC_DEVICE_FACTORY(CreateCommandPool, CommandPool::Create)
VKALLOC_DEVICE_FACTORY(CreateShaderModule, ShaderModule::Create)
VKALLOC_DEVICE_FACTORY(CreateDescriptorSetLayout, DescriptorSetLayout::Create)
VKALLOC_DEVICE_FACTORY(CreateDescriptorPool, DescriptorPool::Create)
VKALLOC_DEVICE_FACTORY(CreatePipelineLayout, PipelineLayout::Create)
VKALLOC_DEVICE_FACTORY(CreatePipelineCache, PipelineCache::Create)
VKALLOC_DEVICE_FACTORY(CreateComputePipeline, Pipeline::CreateCompute)
VKALLOC_DEVICE_FACTORY(CreateImage, Image::Create)
#undef VKALLOC_DEVICE_FACTORY

void Device::DestroyHandle() {
  StopWaits(nullptr);  // no thread may be in vkDeviceWaitIdle or vkWaitForFences on it any more
  std::vector<Device*>& live = data_->liveDevices;
  live.erase(std::remove(live.begin(), live.end(), this), live.end());
  CommandScope scope(data_, "vkDestroyDevice");
  dispatch_.vkDestroyDevice(handle_, Callbacks());
  handle_ = VK_NULL_HANDLE;
  queues_.clear();
}

}  // namespace vkalloc
