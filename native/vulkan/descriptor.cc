#include "vulkan/descriptor.h"
#include "vulkan/buffer.h"
#include "bridge/command_scope.h"
#include "vulkan/device.h"
#include "vulkan/image.h"
#include "bridge/js_args.h"

namespace vkalloc {

// ---- DescriptorSetLayout ----

Napi::Function DescriptorSetLayout::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> props;
  AddCommonMembers(props);
  return DefineClass(env, "DescriptorSetLayout", props);
}

Napi::Value DescriptorSetLayout::Create(const Napi::CallbackInfo& info, Device* device) {
  Napi::Env env = info.Env();
  Napi::Array bindings = info[0].As<Napi::Object>().Get("bindings").As<Napi::Array>();
  std::vector<VkDescriptorSetLayoutBinding> out(bindings.Length());
  for (uint32_t i = 0; i < bindings.Length(); i++) {
    Napi::Object b = bindings.Get(i).As<Napi::Object>();
    out[i].binding = U32(b.Get("binding"));
    out[i].descriptorType = static_cast<VkDescriptorType>(U32(b.Get("type")));
    out[i].descriptorCount = U32(b.Get("count"));
    out[i].stageFlags = U32(b.Get("stages"));
  }
  VkDescriptorSetLayoutCreateInfo ci{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  ci.bindingCount = static_cast<uint32_t>(out.size());
  ci.pBindings = out.data();
  DescriptorSetLayout* layout =
      Prepare<DescriptorSetLayout>(env, AddonData::Get(env)->descriptorSetLayoutCtor, info[1]);
  VkDescriptorSetLayout handle = VK_NULL_HANDLE;
  {
    CommandScope scope(env, "vkCreateDescriptorSetLayout");
    scope.Check(device->Dispatch().vkCreateDescriptorSetLayout(device->Handle(), &ci, layout->Callbacks(), &handle));
  }
  layout->device_ = device;
  layout->handle_ = handle;
  layout->Attach(device);
  return layout->Value();
}

void DescriptorSetLayout::DestroyHandle() {
  CommandScope scope(data_, "vkDestroyDescriptorSetLayout");
  device_->Dispatch().vkDestroyDescriptorSetLayout(device_->Handle(), handle_, Callbacks());
  handle_ = VK_NULL_HANDLE;
}

// ---- DescriptorPool ----

Napi::Function DescriptorPool::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> props = {
      InstanceMethod<&DescriptorPool::AllocateSets>("allocateSets", napi_default_method),
      InstanceMethod<&DescriptorPool::Reset>("reset", napi_default_method),
  };
  AddCommonMembers(props);
  return DefineClass(env, "DescriptorPool", props);
}

Napi::Value DescriptorPool::Create(const Napi::CallbackInfo& info, Device* device) {
  Napi::Env env = info.Env();
  Napi::Object opts = info[0].As<Napi::Object>();
  Napi::Array sizes = opts.Get("sizes").As<Napi::Array>();
  std::vector<VkDescriptorPoolSize> poolSizes(sizes.Length());
  for (uint32_t i = 0; i < sizes.Length(); i++) {
    Napi::Object s = sizes.Get(i).As<Napi::Object>();
    poolSizes[i].type = static_cast<VkDescriptorType>(U32(s.Get("type")));
    poolSizes[i].descriptorCount = U32(s.Get("count"));
  }
  VkDescriptorPoolCreateInfo ci{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
  ci.flags = U32(opts.Get("flags"));
  ci.maxSets = U32(opts.Get("maxSets"));
  ci.poolSizeCount = static_cast<uint32_t>(poolSizes.size());
  ci.pPoolSizes = poolSizes.data();
  DescriptorPool* pool = Prepare<DescriptorPool>(env, AddonData::Get(env)->descriptorPoolCtor, info[1]);
  VkDescriptorPool handle = VK_NULL_HANDLE;
  {
    CommandScope scope(env, "vkCreateDescriptorPool");
    scope.Check(device->Dispatch().vkCreateDescriptorPool(device->Handle(), &ci, pool->Callbacks(), &handle));
  }
  pool->device_ = device;
  pool->handle_ = handle;
  pool->freeable_ = (ci.flags & VK_DESCRIPTOR_POOL_CREATE_FREE_DESCRIPTOR_SET_BIT) != 0;
  pool->Attach(device);
  return pool->Value();
}

Napi::Value DescriptorPool::AllocateSets(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  std::vector<DescriptorSetLayout*> layouts = UnwrapAll<DescriptorSetLayout>(info[0]);
  std::vector<VkDescriptorSetLayout> handles;
  for (DescriptorSetLayout* l : layouts) {
    l->CheckAlive(env);
    handles.push_back(l->Handle());
  }
  VkDescriptorSetAllocateInfo ai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
  ai.descriptorPool = handle_;
  ai.descriptorSetCount = static_cast<uint32_t>(handles.size());
  ai.pSetLayouts = handles.data();
  std::vector<DescriptorSet*> wrappers(handles.size());
  for (auto& set : wrappers) set = Prepare<DescriptorSet>(env, data_->descriptorSetCtor, env.Undefined());
  std::vector<VkDescriptorSet> sets(handles.size());
  {
    CommandScope scope(env, "vkAllocateDescriptorSets");
    scope.Check(device_->Dispatch().vkAllocateDescriptorSets(device_->Handle(), &ai, sets.data()));
  }
  for (size_t i = 0; i < sets.size(); i++) wrappers[i]->Adopt(this, sets[i]);
  Napi::Array out = Napi::Array::New(env, sets.size());
  for (size_t i = 0; i < sets.size(); i++) out.Set(static_cast<uint32_t>(i), wrappers[i]->Value());
  return out;
}

Napi::Value DescriptorPool::Reset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  // Every set goes back to the pool: forget them (no vkFreeDescriptorSets), then reset.
  resetting_ = true;
  while (!sets_.empty()) (*sets_.begin())->Destroy();
  resetting_ = false;
  CommandScope scope(env, "vkResetDescriptorPool");
  scope.Check(device_->Dispatch().vkResetDescriptorPool(device_->Handle(), handle_, 0));
  return env.Undefined();
}

void DescriptorPool::DestroyHandle() {
  // Live sets were destroyed first (children); they go with the pool in any case.
  CommandScope scope(data_, "vkDestroyDescriptorPool");
  device_->Dispatch().vkDestroyDescriptorPool(device_->Handle(), handle_, Callbacks());
  handle_ = VK_NULL_HANDLE;
}

// ---- DescriptorSet ----

Napi::Function DescriptorSet::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> props = {InstanceMethod<&DescriptorSet::Update>("update", napi_default_method)};
  AddCommonMembers(props);
  return DefineClass(env, "DescriptorSet", props);
}

void DescriptorSet::Adopt(DescriptorPool* pool, VkDescriptorSet handle) {
  pool_ = pool;
  handle_ = handle;
  pool->sets_.insert(this);
  Attach(pool);  // the pool's allocator serves it
}

Napi::Value DescriptorSet::Update(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  Napi::Array writes = info[0].As<Napi::Array>();
  uint32_t count = writes.Length();
  std::vector<VkWriteDescriptorSet> out(count);
  std::vector<std::vector<VkDescriptorBufferInfo>> bufferInfos(count);
  std::vector<std::vector<VkDescriptorImageInfo>> imageInfos(count);
  for (uint32_t i = 0; i < count; i++) {
    Napi::Object w = writes.Get(i).As<Napi::Object>();
    VkWriteDescriptorSet& write = out[i];
    write = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
    write.dstSet = handle_;
    write.dstBinding = U32(w.Get("binding"));
    write.dstArrayElement = U32(w.Get("arrayElement"));
    write.descriptorType = static_cast<VkDescriptorType>(U32(w.Get("type")));
    if (w.Get("buffers").IsArray()) {
      Napi::Array buffers = w.Get("buffers").As<Napi::Array>();
      for (uint32_t j = 0; j < buffers.Length(); j++) {
        Napi::Object b = buffers.Get(j).As<Napi::Object>();
        Buffer* buffer = UnwrapAs<Buffer>(b.Get("buffer"));
        buffer->CheckAlive(env);
        bufferInfos[i].push_back({buffer->Handle(), U64(b.Get("offset")), SizeOrWhole(b.Get("range"))});
      }
      write.descriptorCount = static_cast<uint32_t>(bufferInfos[i].size());
      write.pBufferInfo = bufferInfos[i].data();
    } else {
      Napi::Array images = w.Get("images").As<Napi::Array>();
      for (uint32_t j = 0; j < images.Length(); j++) {
        Napi::Object im = images.Get(j).As<Napi::Object>();
        ImageView* view = UnwrapAs<ImageView>(im.Get("view"));
        view->CheckAlive(env);
        imageInfos[i].push_back({VK_NULL_HANDLE, view->Handle(), static_cast<VkImageLayout>(U32(im.Get("layout")))});
      }
      write.descriptorCount = static_cast<uint32_t>(imageInfos[i].size());
      write.pImageInfo = imageInfos[i].data();
    }
  }
  CommandScope scope(env, "vkUpdateDescriptorSets");
  pool_->device_->Dispatch().vkUpdateDescriptorSets(pool_->device_->Handle(), count, out.data(), 0, nullptr);
  return env.Undefined();
}

void DescriptorSet::DestroyHandle() {
  pool_->sets_.erase(this);
  if (pool_->freeable_ && !pool_->resetting_) {
    CommandScope scope(data_, "vkFreeDescriptorSets");
    pool_->device_->Dispatch().vkFreeDescriptorSets(pool_->device_->Handle(), pool_->handle_, 1, &handle_);
  }
  handle_ = VK_NULL_HANDLE;
}

}  // namespace vkalloc
