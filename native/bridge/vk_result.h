// VkResult names and VulkanError construction.
#pragma once
#include <napi.h>
#include <vulkan/vulkan.h>

namespace vkalloc {

const char* ResultName(VkResult result);

// Builds the JS VulkanError (lib/native/errors.ts) for a failed command; `cause` may be empty.
Napi::Value MakeVulkanError(Napi::Env env, VkResult result, const char* command, Napi::Value cause);

}  // namespace vkalloc
