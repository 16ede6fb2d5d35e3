#include "command_scope.h"
#include "allocator_bridge.h"
#include "vk_result.h"

namespace vkalloc {

CommandScope::CommandScope(Napi::Env env, const char* command)
    : env_(env), data_(AddonData::Get(env)), command_(command), previous_(data_->currentCommand) {
  if (data_->policyDepth > 0) {
    throw Napi::Error::New(env, std::string("Cannot call ") + command +
                                    " from inside an allocator policy callback: Vulkan forbids allocation "
                                    "callbacks to call Vulkan");
  }
  data_->currentCommand = command;
  data_->commandPolicyError.Reset();
}

CommandScope::CommandScope(AddonData* data, const char* command)
    : env_(data->env), data_(data), command_(command), previous_(data->currentCommand) {
  data_->currentCommand = command;
}

CommandScope::~CommandScope() {
  // Frees deferred during the command (and any queued off-thread) reach their policies now.
  for (AllocatorBridge* bridge : data_->bridges) bridge->FlushFrees();
  data_->currentCommand = previous_;
}

VkResult CommandScope::Check(VkResult result) {
  if (result >= 0) return result;
  Napi::Value cause;
  if (!data_->commandPolicyError.IsEmpty()) cause = data_->commandPolicyError.Value().Get(0u);
  data_->commandPolicyError.Reset();
  throw Napi::Error(env_, MakeVulkanError(env_, result, command_, cause));
}

}  // namespace vkalloc
