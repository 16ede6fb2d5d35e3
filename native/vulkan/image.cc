#include "vulkan/image.h"
#include "bridge/command_scope.h"
#include "vulkan/device.h"
#include "bridge/js_args.h"
#include "vulkan/memory.h"

namespace vkalloc {

Napi::Function Image::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> props = {
      InstanceMethod<&Image::MemoryRequirements>("memoryRequirements", napi_default_method),
      InstanceMethod<&Image::BindMemory>("bindMemory", napi_default_method),
      InstanceMethod<&Image::CreateView>("createView", napi_default_method),
  };
  AddCommonMembers(props);
  return DefineClass(env, "Image", props);
}

Napi::Value Image::Create(const Napi::CallbackInfo& info, Device* device) {
  Napi::Env env = info.Env();
  Napi::Object opts = info[0].As<Napi::Object>();
  VkImageCreateInfo ci{VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO};
  ci.flags = U32(opts.Get("flags"));
  ci.imageType = VK_IMAGE_TYPE_2D;
  ci.format = static_cast<VkFormat>(U32(opts.Get("format")));
  ci.extent = {U32(opts.Get("width")), U32(opts.Get("height")), 1};
  ci.mipLevels = 1;
  ci.arrayLayers = 1;
  ci.samples = VK_SAMPLE_COUNT_1_BIT;
  ci.tiling = static_cast<VkImageTiling>(U32(opts.Get("tiling")));
  ci.usage = U32(opts.Get("usage"));
  ci.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  ci.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
  Image* image = Prepare<Image>(env, AddonData::Get(env)->imageCtor, info[1]);
  VkImage handle = VK_NULL_HANDLE;
  {
    CommandScope scope(env, "vkCreateImage");
    scope.Check(device->Dispatch().vkCreateImage(device->Handle(), &ci, image->Callbacks(), &handle));
  }
  image->device_ = device;
  image->handle_ = handle;
  image->Attach(device);
  return image->Value();
}

Napi::Value Image::MemoryRequirements(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  VkMemoryRequirements req{};
  device_->Dispatch().vkGetImageMemoryRequirements(device_->Handle(), handle_, &req);
  Napi::Object o = Napi::Object::New(env);
  o.Set("size", static_cast<double>(req.size));
  o.Set("alignment", static_cast<double>(req.alignment));
  o.Set("memoryTypeBits", req.memoryTypeBits);
  return o;
}

Napi::Value Image::BindMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  DeviceMemory* memory = UnwrapAs<DeviceMemory>(info[0]);
  memory->CheckAlive(env);
  CommandScope scope(env, "vkBindImageMemory");
  scope.Check(device_->Dispatch().vkBindImageMemory(device_->Handle(), handle_, memory->Handle(), U64(info[1])));
  return env.Undefined();
}

Napi::Value Image::CreateView(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckAlive(env);
  Napi::Object opts = info[0].As<Napi::Object>();
  VkImageViewCreateInfo ci{VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO};
  ci.image = handle_;
  ci.viewType = VK_IMAGE_VIEW_TYPE_2D;
  ci.format = static_cast<VkFormat>(U32(opts.Get("format")));
  ci.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
  ImageView* view = Prepare<ImageView>(env, AddonData::Get(env)->imageViewCtor, info[1]);
  VkImageView handle = VK_NULL_HANDLE;
  {
    CommandScope scope(env, "vkCreateImageView");
    scope.Check(device_->Dispatch().vkCreateImageView(device_->Handle(), &ci, view->Callbacks(), &handle));
  }
  view->image_ = this;
  view->handle_ = handle;
  view->Attach(this);
  return view->Value();
}

void Image::DestroyHandle() {
  CommandScope scope(data_, "vkDestroyImage");
  device_->Dispatch().vkDestroyImage(device_->Handle(), handle_, Callbacks());
  handle_ = VK_NULL_HANDLE;
}

Napi::Function ImageView::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> props;
  AddCommonMembers(props);
  return DefineClass(env, "ImageView", props);
}

void ImageView::DestroyHandle() {
  CommandScope scope(data_, "vkDestroyImageView");
  Device* device = image_->device_;
  device->Dispatch().vkDestroyImageView(device->Handle(), handle_, Callbacks());
  handle_ = VK_NULL_HANDLE;
}

}  // namespace vkalloc
