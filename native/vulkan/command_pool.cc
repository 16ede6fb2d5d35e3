#include "vulkan/command_pool.h"
#include "vulkan/buffer.h"
#include "bridge/command_scope.h"
#include "vulkan/descriptor.h"
#include "vulkan/device.h"
#include "vulkan/image.h"
#include "bridge/js_args.h"
#include "vulkan/pipeline.h"

namespace vkalloc {

// ---- CommandPool ----

Napi::Function CommandPool::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> props = {
      InstanceMethod<&CommandPool::AllocateCommandBuffers>("allocateCommandBuffers", napi_default_method),
      InstanceMethod<&CommandPool::Reset>("reset", napi_default_method),
  };
  AddCommonMembers(props);
  return DefineClass(env, "CommandPool", props);
}

Napi::Value CommandPool::Create(const Napi::CallbackInfo& info, Device* device) {
  Napi::Env env = info.Env();
  Napi::Object opts = info[0].As<Napi::Object>();
  VkCommandPoolCreateInfo ci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  ci.flags = U32(opts.Get("flags"));
  ci.queueFamilyIndex = U32(opts.Get("queueFamily"));
  CommandPool* pool = Prepare<CommandPool>(env, AddonData::Get(env)->commandPoolCtor, info[1]);
  VkCommandPool handle = VK_NULL_HANDLE;
  {
    CommandScope scope(env, "vkCreateCommandPool");
    scope.Check(device->Dispatch().vkCreateCommandPool(device->Handle(), &ci, pool->Callbacks(), &handle));
  }
  pool->device_ = device;
  pool->handle_ = handle;
  pool->Attach(device);
  return pool->Value();
}

Napi::Value CommandPool::AllocateCommandBuffers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = handle_;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = U32(info[0]);
  std::vector<CommandBuffer*> buffers(ai.commandBufferCount);
  for (auto& cb : buffers) cb = Prepare<CommandBuffer>(env, data_->commandBufferCtor, env.Undefined());
  std::vector<VkCommandBuffer> handles(ai.commandBufferCount);
  {
    CommandScope scope(env, "vkAllocateCommandBuffers");
    scope.Check(device_->Dispatch().vkAllocateCommandBuffers(device_->Handle(), &ai, handles.data()));
  }
  for (size_t i = 0; i < handles.size(); i++) buffers[i]->Adopt(this, handles[i]);
  Napi::Array out = Napi::Array::New(env, handles.size());
  for (size_t i = 0; i < handles.size(); i++) out.Set(static_cast<uint32_t>(i), buffers[i]->Value());
  return out;
}

Napi::Value CommandPool::Reset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  VkCommandPoolResetFlags flags = info[0].ToBoolean().Value() ? VK_COMMAND_POOL_RESET_RELEASE_RESOURCES_BIT : 0;
  CommandScope scope(env, "vkResetCommandPool");
  scope.Check(device_->Dispatch().vkResetCommandPool(device_->Handle(), handle_, flags));
  return env.Undefined();
}

void CommandPool::DestroyHandle() {
  CommandScope scope(data_, "vkDestroyCommandPool");
  device_->Dispatch().vkDestroyCommandPool(device_->Handle(), handle_, Callbacks());
  handle_ = VK_NULL_HANDLE;
}

// ---- CommandBuffer ----

Napi::Function CommandBuffer::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> props = {
      InstanceMethod<&CommandBuffer::Begin>("begin", napi_default_method),
      InstanceMethod<&CommandBuffer::End>("end", napi_default_method),
      InstanceMethod<&CommandBuffer::Reset>("reset", napi_default_method),
      InstanceMethod<&CommandBuffer::FillBuffer>("fillBuffer", napi_default_method),
      InstanceMethod<&CommandBuffer::UpdateBuffer>("updateBuffer", napi_default_method),
      InstanceMethod<&CommandBuffer::CopyBuffer>("copyBuffer", napi_default_method),
      InstanceMethod<&CommandBuffer::CopyBufferToImage>("copyBufferToImage", napi_default_method),
      InstanceMethod<&CommandBuffer::CopyImageToBuffer>("copyImageToBuffer", napi_default_method),
      InstanceMethod<&CommandBuffer::PipelineBarrier>("pipelineBarrier", napi_default_method),
      InstanceMethod<&CommandBuffer::BindPipeline>("bindPipeline", napi_default_method),
      InstanceMethod<&CommandBuffer::BindDescriptorSets>("bindDescriptorSets", napi_default_method),
      InstanceMethod<&CommandBuffer::PushConstants>("pushConstants", napi_default_method),
      InstanceMethod<&CommandBuffer::Dispatch>("dispatch", napi_default_method),
  };
  AddCommonMembers(props);
  return DefineClass(env, "CommandBuffer", props);
}

void CommandBuffer::Adopt(CommandPool* pool, VkCommandBuffer handle) {
  pool_ = pool;
  handle_ = handle;
  Attach(pool);  // the pool's allocator serves it
}

const DeviceDispatch& CommandBuffer::Vk() const {
  return pool_->Owner()->Dispatch();
}

Napi::Value CommandBuffer::Begin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = U32(info[0]);
  CommandScope scope(env, "vkBeginCommandBuffer");
  scope.Check(Vk().vkBeginCommandBuffer(handle_, &bi));
  return env.Undefined();
}

Napi::Value CommandBuffer::End(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  CommandScope scope(env, "vkEndCommandBuffer");
  scope.Check(Vk().vkEndCommandBuffer(handle_));
  return env.Undefined();
}

Napi::Value CommandBuffer::Reset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  VkCommandBufferResetFlags flags = info[0].ToBoolean().Value() ? VK_COMMAND_BUFFER_RESET_RELEASE_RESOURCES_BIT : 0;
  CommandScope scope(env, "vkResetCommandBuffer");
  scope.Check(Vk().vkResetCommandBuffer(handle_, flags));
  return env.Undefined();
}

static Buffer* LiveBuffer(Napi::Env env, Napi::Value v) {
  Buffer* b = UnwrapAs<Buffer>(v);
  b->CheckAlive(env);
  return b;
}

static Image* LiveImage(Napi::Env env, Napi::Value v) {
  Image* i = UnwrapAs<Image>(v);
  i->CheckAlive(env);
  return i;
}

static PipelineLayout* LiveLayout(Napi::Env env, Napi::Value v) {
  PipelineLayout* l = UnwrapAs<PipelineLayout>(v);
  l->CheckAlive(env);
  return l;
}

Napi::Value CommandBuffer::FillBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  Buffer* buffer = LiveBuffer(env, info[0]);
  CommandScope scope(env, "vkCmdFillBuffer");
  Vk().vkCmdFillBuffer(handle_, buffer->Handle(), U64(info[1]), SizeOrWhole(info[2]), U32(info[3]));
  return env.Undefined();
}

Napi::Value CommandBuffer::UpdateBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  Buffer* buffer = LiveBuffer(env, info[0]);
  Bytes bytes = BytesOf(info[2]);
  CommandScope scope(env, "vkCmdUpdateBuffer");
  Vk().vkCmdUpdateBuffer(handle_, buffer->Handle(), U64(info[1]), bytes.size, bytes.data);
  return env.Undefined();
}

Napi::Value CommandBuffer::CopyBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  Buffer* src = LiveBuffer(env, info[0]);
  Buffer* dst = LiveBuffer(env, info[1]);
  Napi::Array list = info[2].As<Napi::Array>();
  std::vector<VkBufferCopy> regions(list.Length());
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Object r = list.Get(i).As<Napi::Object>();
    regions[i] = {U64(r.Get("srcOffset")), U64(r.Get("dstOffset")), U64(r.Get("size"))};
  }
  CommandScope scope(env, "vkCmdCopyBuffer");
  Vk().vkCmdCopyBuffer(handle_, src->Handle(), dst->Handle(), static_cast<uint32_t>(regions.size()), regions.data());
  return env.Undefined();
}

// Regions between a buffer and the colour aspect of mip 0, layer 0 of a 2D image.
static std::vector<VkBufferImageCopy> ImageRegions(Napi::Value v) {
  Napi::Array list = v.As<Napi::Array>();
  std::vector<VkBufferImageCopy> regions(list.Length());
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Object r = list.Get(i).As<Napi::Object>();
    VkBufferImageCopy& c = regions[i];
    c.bufferOffset = U64(r.Get("bufferOffset"));
    c.bufferRowLength = U32(r.Get("bufferRowLength"));
    c.bufferImageHeight = U32(r.Get("bufferImageHeight"));
    c.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
    c.imageOffset = {I32(r.Get("x")), I32(r.Get("y")), 0};
    c.imageExtent = {U32(r.Get("width")), U32(r.Get("height")), 1};
  }
  return regions;
}

Napi::Value CommandBuffer::CopyBufferToImage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  Buffer* buffer = LiveBuffer(env, info[0]);
  Image* image = LiveImage(env, info[1]);
  std::vector<VkBufferImageCopy> regions = ImageRegions(info[3]);
  CommandScope scope(env, "vkCmdCopyBufferToImage");
  Vk().vkCmdCopyBufferToImage(handle_, buffer->Handle(), image->Handle(), static_cast<VkImageLayout>(U32(info[2])),
                              static_cast<uint32_t>(regions.size()), regions.data());
  return env.Undefined();
}

Napi::Value CommandBuffer::CopyImageToBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  Image* image = LiveImage(env, info[0]);
  Buffer* buffer = LiveBuffer(env, info[2]);
  std::vector<VkBufferImageCopy> regions = ImageRegions(info[3]);
  CommandScope scope(env, "vkCmdCopyImageToBuffer");
  Vk().vkCmdCopyImageToBuffer(handle_, image->Handle(), static_cast<VkImageLayout>(U32(info[1])), buffer->Handle(),
                              static_cast<uint32_t>(regions.size()), regions.data());
  return env.Undefined();
}

// pipelineBarrier(srcStages, dstStages, memory[{ srcAccess, dstAccess }],
//   buffers[{ buffer, srcAccess, dstAccess, offset, size }],
//   images[{ image, srcAccess, dstAccess, oldLayout, newLayout }])
Napi::Value CommandBuffer::PipelineBarrier(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  Napi::Array memoryList = info[2].As<Napi::Array>();
  Napi::Array bufferList = info[3].As<Napi::Array>();
  Napi::Array imageList = info[4].As<Napi::Array>();
  std::vector<VkMemoryBarrier> memory(memoryList.Length());
  for (uint32_t i = 0; i < memoryList.Length(); i++) {
    Napi::Object m = memoryList.Get(i).As<Napi::Object>();
    memory[i] = {VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    memory[i].srcAccessMask = U32(m.Get("srcAccess"));
    memory[i].dstAccessMask = U32(m.Get("dstAccess"));
  }
  std::vector<VkBufferMemoryBarrier> buffers(bufferList.Length());
  for (uint32_t i = 0; i < bufferList.Length(); i++) {
    Napi::Object b = bufferList.Get(i).As<Napi::Object>();
    VkBufferMemoryBarrier& barrier = buffers[i];
    barrier = {VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER};
    barrier.srcAccessMask = U32(b.Get("srcAccess"));
    barrier.dstAccessMask = U32(b.Get("dstAccess"));
    barrier.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    barrier.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    barrier.buffer = LiveBuffer(env, b.Get("buffer"))->Handle();
    barrier.offset = U64(b.Get("offset"));
    barrier.size = SizeOrWhole(b.Get("size"));
  }
  std::vector<VkImageMemoryBarrier> images(imageList.Length());
  for (uint32_t i = 0; i < imageList.Length(); i++) {
    Napi::Object im = imageList.Get(i).As<Napi::Object>();
    VkImageMemoryBarrier& barrier = images[i];
    barrier = {VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER};
    barrier.srcAccessMask = U32(im.Get("srcAccess"));
    barrier.dstAccessMask = U32(im.Get("dstAccess"));
    barrier.oldLayout = static_cast<VkImageLayout>(U32(im.Get("oldLayout")));
    barrier.newLayout = static_cast<VkImageLayout>(U32(im.Get("newLayout")));
    barrier.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    barrier.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    barrier.image = LiveImage(env, im.Get("image"))->Handle();
    barrier.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
  }
  CommandScope scope(env, "vkCmdPipelineBarrier");
  Vk().vkCmdPipelineBarrier(handle_, U32(info[0]), U32(info[1]), 0, static_cast<uint32_t>(memory.size()), memory.data(),
                            static_cast<uint32_t>(buffers.size()), buffers.data(), static_cast<uint32_t>(images.size()),
                            images.data());
  return env.Undefined();
}

Napi::Value CommandBuffer::BindPipeline(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  Pipeline* pipeline = UnwrapAs<Pipeline>(info[0]);
  pipeline->CheckAlive(env);
  CommandScope scope(env, "vkCmdBindPipeline");
  Vk().vkCmdBindPipeline(handle_, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline->Handle());
  return env.Undefined();
}

// bindDescriptorSets(layout, firstSet, sets, dynamicOffsets)
Napi::Value CommandBuffer::BindDescriptorSets(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  PipelineLayout* layout = LiveLayout(env, info[0]);
  std::vector<VkDescriptorSet> sets;
  for (DescriptorSet* s : UnwrapAll<DescriptorSet>(info[2])) {
    s->CheckAlive(env);
    sets.push_back(s->Handle());
  }
  std::vector<uint32_t> offsets;
  Napi::Array dyn = info[3].As<Napi::Array>();
  for (uint32_t i = 0; i < dyn.Length(); i++) offsets.push_back(U32(dyn.Get(i)));
  CommandScope scope(env, "vkCmdBindDescriptorSets");
  Vk().vkCmdBindDescriptorSets(handle_, VK_PIPELINE_BIND_POINT_COMPUTE, layout->Handle(), U32(info[1]),
                               static_cast<uint32_t>(sets.size()), sets.data(), static_cast<uint32_t>(offsets.size()),
                               offsets.data());
  return env.Undefined();
}

// pushConstants(layout, stages, offset, bytes)
Napi::Value CommandBuffer::PushConstants(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  PipelineLayout* layout = LiveLayout(env, info[0]);
  Bytes bytes = BytesOf(info[3]);
  CommandScope scope(env, "vkCmdPushConstants");
  Vk().vkCmdPushConstants(handle_, layout->Handle(), U32(info[1]), U32(info[2]), static_cast<uint32_t>(bytes.size),
                          bytes.data);
  return env.Undefined();
}

Napi::Value CommandBuffer::Dispatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  CommandScope scope(env, "vkCmdDispatch");
  Vk().vkCmdDispatch(handle_, U32(info[0]), U32(info[1]), U32(info[2]));
  return env.Undefined();
}

void CommandBuffer::DestroyHandle() {
  CommandScope scope(data_, "vkFreeCommandBuffers");
  Device* device = pool_->Owner();
  device->Dispatch().vkFreeCommandBuffers(device->Handle(), pool_->Handle(), 1, &handle_);
  handle_ = VK_NULL_HANDLE;
}

}  // namespace vkalloc
