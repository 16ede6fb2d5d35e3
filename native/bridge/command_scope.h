// Brackets one Vulkan command: names it for attribution, marks it in running traces
// (with the object it destroys, and the caller's JS stack when asked), hands the
// frees deferred during it to their policies when it ends, and turns a failure into
// a VulkanError whose `cause` is the policy's own exception when a policy failed.
#pragma once
#include <napi.h>
#include <vulkan/vulkan.h>
#include <vector>
#include "bridge/addon_data.h"

namespace vkalloc {

class CommandScope {
 public:
  // Throws (JS Error) when called from inside a policy callback: the spec forbids
  // allocation callbacks to call Vulkan.
  CommandScope(Napi::Env env, const char* command);
  // For destroy paths, which may run at teardown when no JS may run.
  CommandScope(AddonData* data, const char* command);
  // May throw the violations the command caused, for allocators that ask for it.
  ~CommandScope() noexcept(false);
  CommandScope(const CommandScope&) = delete;
  CommandScope& operator=(const CommandScope&) = delete;

  // Throws the VulkanError for a negative result; returns the result otherwise.
  VkResult Check(VkResult result);
  const char* Command() const { return command_; }

 private:
  void Begin();
  // Validation at the end of a command: command-scope blocks still live, and for a
  // destroy, the object's own blocks still live; returns the violations it added.
  void CheckLeaks();
  // The AllocationViolationError for violations added during the command, for
  // allocators that throw on them; empty when there is none.
  Napi::Value NewViolationsError();

  Napi::Env env_;
  AddonData* data_;
  const char* command_;
  const char* previous_;
  Resource* object_;  // being destroyed, or null
  VkResult result_ = VK_SUCCESS;
  uint32_t seq_ = 0, previousSeq_ = 0;
  bool jsFacing_;
  std::vector<size_t> violationsBefore_;  // per bridge, when validating
};

}  // namespace vkalloc
