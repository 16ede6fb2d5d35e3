// VkCommandPool and the VkCommandBuffers allocated from it. A command buffer is a
// child of its pool (vkAllocateCommandBuffers takes no allocator: the driver uses the
// pool's), freed with vkFreeCommandBuffers on destroy, and with the pool. Recording
// state (begin before record, end before submit) is checked in lib/vulkan/command-pool.ts.
#pragma once
#include "vulkan/resource.h"

namespace vkalloc {

class Device;

class CommandPool : public WrappedResource<CommandPool> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit CommandPool(const Napi::CallbackInfo& info) : WrappedResource(info, "CommandPool") {}
  // device.createCommandPool({ queueFamily, flags }, allocator)
  static Napi::Value Create(const Napi::CallbackInfo& info, Device* device);
  VkCommandPool Handle() const { return handle_; }
  Device* Owner() const { return device_; }

 private:
  // allocateCommandBuffers(count) -> CommandBuffer[] (primary)
  Napi::Value AllocateCommandBuffers(const Napi::CallbackInfo& info);
  Napi::Value Reset(const Napi::CallbackInfo& info);
  void DestroyHandle() override;

  Device* device_ = nullptr;
  VkCommandPool handle_ = VK_NULL_HANDLE;
};

class CommandBuffer : public WrappedResource<CommandBuffer> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit CommandBuffer(const Napi::CallbackInfo& info) : WrappedResource(info, "CommandBuffer") {}
  // Takes a handle vkAllocateCommandBuffers made into this wrapper (made first: resource.h).
  void Adopt(CommandPool* pool, VkCommandBuffer handle);
  VkCommandBuffer Handle() const { return handle_; }

 private:
  Napi::Value Begin(const Napi::CallbackInfo& info);
  Napi::Value End(const Napi::CallbackInfo& info);
  Napi::Value Reset(const Napi::CallbackInfo& info);
  Napi::Value FillBuffer(const Napi::CallbackInfo& info);
  Napi::Value UpdateBuffer(const Napi::CallbackInfo& info);
  Napi::Value CopyBuffer(const Napi::CallbackInfo& info);
  Napi::Value CopyBufferToImage(const Napi::CallbackInfo& info);
  Napi::Value CopyImageToBuffer(const Napi::CallbackInfo& info);
  Napi::Value PipelineBarrier(const Napi::CallbackInfo& info);
  Napi::Value BindPipeline(const Napi::CallbackInfo& info);
  Napi::Value BindDescriptorSets(const Napi::CallbackInfo& info);
  Napi::Value PushConstants(const Napi::CallbackInfo& info);
  Napi::Value Dispatch(const Napi::CallbackInfo& info);
  void DestroyHandle() override;
  const DeviceDispatch& Vk() const;

  CommandPool* pool_ = nullptr;
  VkCommandBuffer handle_ = VK_NULL_HANDLE;
};

}  // namespace vkalloc
