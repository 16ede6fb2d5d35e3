// Descriptors: VkDescriptorSetLayout, VkDescriptorPool and the VkDescriptorSets
// allocated from a pool (children of the pool, made with its allocator; vkAllocate-
// DescriptorSets takes none). A set is freed on its own only when the pool was created
// with FREE_DESCRIPTOR_SET; otherwise it goes when the pool is reset or destroyed.
#pragma once
#include <set>
#include "vulkan/resource.h"

namespace vkalloc {

class Device;
class DescriptorSet;

class DescriptorSetLayout : public WrappedResource<DescriptorSetLayout> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit DescriptorSetLayout(const Napi::CallbackInfo& info) : WrappedResource(info, "DescriptorSetLayout") {}
  // device.createDescriptorSetLayout({ bindings: [{ binding, type, count, stages }] }, allocator)
  static Napi::Value Create(const Napi::CallbackInfo& info, Device* device);
  VkDescriptorSetLayout Handle() const { return handle_; }

 private:
  void DestroyHandle() override;

  Device* device_ = nullptr;
  VkDescriptorSetLayout handle_ = VK_NULL_HANDLE;
};

class DescriptorPool : public WrappedResource<DescriptorPool> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit DescriptorPool(const Napi::CallbackInfo& info) : WrappedResource(info, "DescriptorPool") {}
  // device.createDescriptorPool({ maxSets, sizes: [{ type, count }], flags }, allocator)
  static Napi::Value Create(const Napi::CallbackInfo& info, Device* device);
  VkDescriptorPool Handle() const { return handle_; }
  Device* Owner() const { return device_; }

 private:
  friend class DescriptorSet;
  Napi::Value AllocateSets(const Napi::CallbackInfo& info);
  Napi::Value Reset(const Napi::CallbackInfo& info);
  void DestroyHandle() override;

  Device* device_ = nullptr;
  VkDescriptorPool handle_ = VK_NULL_HANDLE;
  bool freeable_ = false;   // created with VK_DESCRIPTOR_POOL_CREATE_FREE_DESCRIPTOR_SET_BIT
  bool resetting_ = false;  // sets are being forgotten by vkResetDescriptorPool, not freed
  std::set<DescriptorSet*> sets_;
};

class DescriptorSet : public WrappedResource<DescriptorSet> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit DescriptorSet(const Napi::CallbackInfo& info) : WrappedResource(info, "DescriptorSet") {}
  // Takes a handle vkAllocateDescriptorSets made into this wrapper (made first: resource.h).
  void Adopt(DescriptorPool* pool, VkDescriptorSet handle);
  VkDescriptorSet Handle() const { return handle_; }

 private:
  // update([{ binding, arrayElement, type, buffers?: [{ buffer, offset, range }], images?: [{ view, layout }] }])
  Napi::Value Update(const Napi::CallbackInfo& info);
  void DestroyHandle() override;

  DescriptorPool* pool_ = nullptr;
  VkDescriptorSet handle_ = VK_NULL_HANDLE;
};

}  // namespace vkalloc
