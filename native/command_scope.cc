#include "command_scope.h"
#include "allocator_bridge.h"
#include "resource.h"
#include "vk_result.h"

namespace vkalloc {

CommandScope::CommandScope(Napi::Env env, const char* command)
    : env_(env), data_(AddonData::Get(env)), command_(command), previous_(data_->currentCommand), object_(nullptr) {
  if (data_->policyDepth > 0) {
    throw Napi::Error::New(env, std::string("Cannot call ") + command +
                                    " from inside an allocator policy callback: Vulkan forbids allocation "
                                    "callbacks to call Vulkan");
  }
  data_->currentCommand = command;
  data_->commandPolicyError.Reset();
  TraceBegin();
}

CommandScope::CommandScope(AddonData* data, const char* command)
    : env_(data->env), data_(data), command_(command), previous_(data->currentCommand), object_(data->destroying) {
  data_->currentCommand = command;
  TraceBegin();
}

void CommandScope::TraceBegin() {
  std::string callSite;
  bool haveCallSite = false;
  for (AllocatorBridge* bridge : data_->bridges) {
    if (!bridge->Registry().Tracing()) continue;
    if (bridge->WantsCallSites() && !haveCallSite && data_->jsCallable) {
      // The JS stack of whoever issued the command: an Error made now has it.
      napi_value message, error, stack;
      napi_create_string_utf8(env_, command_, NAPI_AUTO_LENGTH, &message);
      napi_create_error(env_, nullptr, message, &error);
      size_t length = 0;
      if (napi_get_named_property(env_, error, "stack", &stack) == napi_ok &&
          napi_get_value_string_utf8(env_, stack, nullptr, 0, &length) == napi_ok) {
        callSite.resize(length + 1);
        napi_get_value_string_utf8(env_, stack, callSite.data(), length + 1, &length);
        callSite.resize(length);
        haveCallSite = true;
      }
    }
    bridge->Registry().TraceCommandBegin(command_, object_ ? object_->Id() : 0, haveCallSite ? &callSite : nullptr);
  }
}

CommandScope::~CommandScope() {
  // Frees deferred during the command (and any queued off-thread) reach their policies now.
  for (AllocatorBridge* bridge : data_->bridges) {
    bridge->FlushFrees();
    if (bridge->Registry().Tracing()) {
      bridge->Registry().TraceCommandEnd(command_, result_, object_ ? object_->Id() : 0,
                                         object_ ? object_->TypeName() : "", object_ ? object_->ParentId() : 0);
    }
  }
  data_->currentCommand = previous_;
}

VkResult CommandScope::Check(VkResult result) {
  result_ = result;
  if (result >= 0) return result;
  Napi::Value cause;
  if (!data_->commandPolicyError.IsEmpty()) cause = data_->commandPolicyError.Value().Get(0u);
  data_->commandPolicyError.Reset();
  throw Napi::Error(env_, MakeVulkanError(env_, result, command_, cause));
}

}  // namespace vkalloc
