#include "bridge/command_scope.h"
#include "bridge/allocator_bridge.h"
#include "vulkan/resource.h"
#include "bridge/vk_result.h"
#include <exception>
#include <string>

namespace vkalloc {

CommandScope::CommandScope(Napi::Env env, const char* command)
    : env_(env), data_(AddonData::Get(env)), command_(command), previous_(data_->currentCommand), object_(nullptr) {
  if (data_->policyDepth > 0) {
    throw Napi::Error::New(env, std::string("Cannot call ") + command +
                                    " from inside an allocator policy callback: Vulkan forbids allocation "
                                    "callbacks to call Vulkan");
  }
  jsFacing_ = true;
  data_->commandPolicyError.Reset();
  Begin();
}

CommandScope::CommandScope(AddonData* data, const char* command)
    : env_(data->env),
      data_(data),
      command_(command),
      previous_(data->currentCommand),
      object_(data->destroying),
      jsFacing_(false) {
  Begin();
}

void CommandScope::Begin() {
  data_->currentCommand = command_;
  previousSeq_ = data_->currentCommandSeq;
  seq_ = data_->currentCommandSeq = ++data_->commandCounter;
  data_->commandRunning.store(true, std::memory_order_relaxed);
  data_->unclaimedCreateSeq = 0;
  for (AllocatorBridge* bridge : data_->bridges) {
    Validator* v = bridge->GetValidator();
    violationsBefore_.push_back(v ? v->Count() : 0);
  }
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
      } else {
        // No stack (a throwing Error.prepareStackTrace, a stopping worker): nothing
        // may stay pending, or it would pass for the policy's exception later.
        bool pending = false;
        napi_value ignored;
        if (napi_is_exception_pending(env_, &pending) == napi_ok && pending) {
          napi_get_and_clear_last_exception(env_, &ignored);
        }
      }
    }
    bridge->Registry().TraceCommandBegin(command_, object_ ? object_->Id() : 0, haveCallSite ? &callSite : nullptr);
  }
}

void CommandScope::CheckLeaks() {
  for (AllocatorBridge* bridge : data_->bridges) {
    Validator* v = bridge->GetValidator();
    if (!v) continue;
    for (auto& [address, block] : bridge->Registry().LiveBlocksOf(seq_, VK_SYSTEM_ALLOCATION_SCOPE_COMMAND)) {
      v->Report(Violation::Leak, command_, false, address, block.size,
                std::string("command-scope block still live after ") + command_ + " returned");
    }
    if (!object_) continue;
    // What an object's create command allocated in the object's own scope must be
    // gone once it is destroyed.
    const std::string type = object_->TypeName();
    const int scope = type == "Instance" ? VK_SYSTEM_ALLOCATION_SCOPE_INSTANCE
                      : type == "Device" ? VK_SYSTEM_ALLOCATION_SCOPE_DEVICE
                                         : VK_SYSTEM_ALLOCATION_SCOPE_OBJECT;
    for (auto& [address, block] : bridge->Registry().LiveBlocksOf(object_->CreatedInCommand(), scope)) {
      v->Report(Violation::Leak, command_, false, address, block.size,
                std::string(kScopeNames[scope]) + "-scope block of " + block.command + " still live after " + command_,
                object_->Id(), object_->TypeName());
    }
  }
}

Napi::Value CommandScope::NewViolationsError() {
  for (size_t i = 0; i < data_->bridges.size() && i < violationsBefore_.size(); i++) {
    AllocatorBridge* bridge = data_->bridges[i];
    Validator* v = bridge->GetValidator();
    if (!v || !bridge->ThrowsOnViolation()) continue;
    std::vector<ViolationRecord> all = v->Snapshot();
    if (all.size() <= violationsBefore_[i]) continue;
    Napi::Array list = Napi::Array::New(env_);
    std::string message = std::to_string(all.size() - violationsBefore_[i]) +
                          " allocation-callback violation(s) during " + command_ + ":";
    for (size_t k = violationsBefore_[i]; k < all.size(); k++) {
      list.Set(static_cast<uint32_t>(k - violationsBefore_[i]), AllocatorBridge::ViolationObject(env_, all[k]));
      message += std::string(" ") + kViolationNames[static_cast<int>(all[k].kind)] + " (" + all[k].detail + ");";
    }
    Napi::Error error = Napi::Error::New(env_, message);
    error.Set("name", "AllocationViolationError");
    error.Set("violations", list);
    error.Set("command", command_);
    return error.Value();
  }
  return Napi::Value();
}

CommandScope::~CommandScope() noexcept(false) {
  CheckLeaks();
  // Frees deferred during the command (and any queued off-thread) reach their policies now.
  for (AllocatorBridge* bridge : data_->bridges) {
    bridge->FlushFrees();
    if (bridge->Registry().Tracing()) {
      bridge->Registry().TraceCommandEnd(command_, result_, object_ ? object_->Id() : 0,
                                         object_ ? object_->TypeName() : "", object_ ? object_->ParentId() : 0);
    }
  }
  data_->currentCommand = previous_;
  data_->currentCommandSeq = previousSeq_;
  data_->commandRunning.store(previous_ != nullptr, std::memory_order_relaxed);
  const bool creates = result_ >= 0 && IsCreateCommand(command_);
  if (creates) data_->unclaimedCreateSeq = seq_;
  // Violations become an exception after the command returns, only from commands
  // issued from JS and never over an exception already on its way. For a create,
  // the object is attached first (Resource::Attach throws it), so it is not lost.
  if (!jsFacing_ || std::uncaught_exceptions() > 0 || !data_->jsCallable) return;
  Napi::Value error;
  try {
    error = NewViolationsError();
  } catch (const Napi::Error&) {
    return;  // a stopping worker: no error reaches JS now, and a create's object must still be adopted
  }
  if (error.IsEmpty()) return;
  if (creates)
    data_->pendingViolation = Napi::Persistent(error.As<Napi::Object>());
  else
    throw Napi::Error(env_, error);
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
