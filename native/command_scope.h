// Brackets one Vulkan command: names it for attribution, marks it in running traces
// (with the object it destroys, and the caller's JS stack when asked), hands the
// frees deferred during it to their policies when it ends, and turns a failure into
// a VulkanError whose `cause` is the policy's own exception when a policy failed.
#pragma once
#include <napi.h>
#include <vulkan/vulkan.h>
#include "addon_data.h"

namespace vkalloc {

class CommandScope {
 public:
  // Throws (JS Error) when called from inside a policy callback: the spec forbids
  // allocation callbacks to call Vulkan.
  CommandScope(Napi::Env env, const char* command);
  // For destroy paths, which may run at teardown when no JS may run.
  CommandScope(AddonData* data, const char* command);
  ~CommandScope();
  CommandScope(const CommandScope&) = delete;
  CommandScope& operator=(const CommandScope&) = delete;

  // Throws the VulkanError for a negative result; returns the result otherwise.
  VkResult Check(VkResult result);
  const char* Command() const { return command_; }

 private:
  void TraceBegin();

  Napi::Env env_;
  AddonData* data_;
  const char* command_;
  const char* previous_;
  Resource* object_;  // being destroyed, or null
  VkResult result_ = VK_SUCCESS;
};

}  // namespace vkalloc
