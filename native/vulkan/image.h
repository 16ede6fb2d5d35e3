// VkImage (2D, one mip level and layer: what a storage image needs) with memory
// requirements and binding like Buffer, and VkImageView, a child of its image (so
// destroying an image destroys its views first).
#pragma once
#include "vulkan/resource.h"

namespace vkalloc {

class Device;

class Image : public WrappedResource<Image> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Image(const Napi::CallbackInfo& info) : WrappedResource(info, "Image") {}
  // device.createImage({ format, width, height, usage, tiling, flags }, allocator)
  static Napi::Value Create(const Napi::CallbackInfo& info, Device* device);
  VkImage Handle() const { return handle_; }

 private:
  friend class ImageView;
  Napi::Value MemoryRequirements(const Napi::CallbackInfo& info);
  Napi::Value BindMemory(const Napi::CallbackInfo& info);
  // image.createView({ format }, allocator)
  Napi::Value CreateView(const Napi::CallbackInfo& info);
  void DestroyHandle() override;

  Device* device_ = nullptr;
  VkImage handle_ = VK_NULL_HANDLE;
};

class ImageView : public WrappedResource<ImageView> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit ImageView(const Napi::CallbackInfo& info) : WrappedResource(info, "ImageView") {}
  VkImageView Handle() const { return handle_; }

 private:
  friend class Image;
  void DestroyHandle() override;

  Image* image_ = nullptr;
  VkImageView handle_ = VK_NULL_HANDLE;
};

}  // namespace vkalloc
