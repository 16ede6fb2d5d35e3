#include "vulkan/device.h"
#include <algorithm>
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
  for (Device* device : devices) {
    if (!device->submitted_ || device->handle_ == VK_NULL_HANDLE) continue;
    CommandScope scope(data, "vkDeviceWaitIdle");
    device->dispatch_.vkDeviceWaitIdle(device->handle_);
    device->submitted_ = false;
  }
}

Napi::Function Device::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> props = {
      InstanceMethod<&Device::GetQueue>("queue", napi_default_method),
      InstanceMethod<&Device::CreateBuffer>("createBuffer", napi_default_method),
      InstanceMethod<&Device::AllocateMemory>("allocateMemory", napi_default_method),
      InstanceMethod<&Device::CreateFence>("createFence", napi_default_method),
      InstanceMethod<&Device::WaitIdle>("waitIdle", napi_default_method),
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

Device* Device::Wrap(Napi::Env env, PhysicalDevice* physical, VkDevice handle, Napi::Value allocator) {
  Device* device = NewWrapped<Device>(env, AddonData::Get(env)->deviceCtor);
  device->physical_ = physical;
  device->handle_ = handle;
  Loader::LoadDevice(physical->Owner()->Dispatch(), handle, &device->dispatch_);
  device->Attach(physical, allocator);
  AddonData::Get(env)->liveDevices.push_back(device);
  return device;
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
  VkBuffer buffer = VK_NULL_HANDLE;
  {
    CommandScope scope(env, "vkCreateBuffer");
    scope.Check(dispatch_.vkCreateBuffer(handle_, &ci, CallbacksOf(info[1]), &buffer));
  }
  return Buffer::Wrap(env, this, buffer, info[1])->Value();
}

Napi::Value Device::AllocateMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  Napi::Object opts = info[0].As<Napi::Object>();
  VkMemoryAllocateInfo ai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  ai.allocationSize = static_cast<VkDeviceSize>(opts.Get("size").As<Napi::Number>().DoubleValue());
  ai.memoryTypeIndex = opts.Get("memoryTypeIndex").As<Napi::Number>().Uint32Value();
  VkDeviceMemory memory = VK_NULL_HANDLE;
  {
    CommandScope scope(env, "vkAllocateMemory");
    scope.Check(dispatch_.vkAllocateMemory(handle_, &ai, CallbacksOf(info[1]), &memory));
  }
  return DeviceMemory::Wrap(env, this, memory, ai.allocationSize, info[1])->Value();
}

Napi::Value Device::CreateFence(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  Napi::Object opts = info[0].As<Napi::Object>();
  VkFenceCreateInfo ci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  if (opts.Get("signaled").ToBoolean().Value()) ci.flags = VK_FENCE_CREATE_SIGNALED_BIT;
  VkFence fence = VK_NULL_HANDLE;
  {
    CommandScope scope(env, "vkCreateFence");
    scope.Check(dispatch_.vkCreateFence(handle_, &ci, CallbacksOf(info[1]), &fence));
  }
  return Fence::Wrap(env, this, fence, info[1])->Value();
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
#define VKALLOC_DEVICE_FACTORY(method, call)                    \
  Napi::Value Device::method(const Napi::CallbackInfo& info) { \
    CheckAlive(info.Env());                                     \
    return call(info, this);                                    \
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
  std::vector<Device*>& live = data_->liveDevices;
  live.erase(std::remove(live.begin(), live.end(), this), live.end());
  CommandScope scope(data_, "vkDestroyDevice");
  dispatch_.vkDestroyDevice(handle_, Callbacks());
  handle_ = VK_NULL_HANDLE;
  queues_.clear();
}

}  // namespace vkalloc
