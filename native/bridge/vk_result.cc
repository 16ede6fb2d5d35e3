#include "bridge/vk_result.h"
#include "bridge/addon_data.h"

namespace vkalloc {

const char* ResultName(VkResult result) {
  switch (result) {
#define CASE(name) \
  case name:       \
    return #name;
    CASE(VK_SUCCESS)
    CASE(VK_NOT_READY)
    CASE(VK_TIMEOUT) CASE(VK_EVENT_SET) CASE(VK_EVENT_RESET) CASE(VK_INCOMPLETE) CASE(VK_ERROR_OUT_OF_HOST_MEMORY)
        CASE(VK_ERROR_OUT_OF_DEVICE_MEMORY) CASE(VK_ERROR_INITIALIZATION_FAILED) CASE(VK_ERROR_DEVICE_LOST)
            CASE(VK_ERROR_MEMORY_MAP_FAILED) CASE(VK_ERROR_LAYER_NOT_PRESENT) CASE(VK_ERROR_EXTENSION_NOT_PRESENT)
                CASE(VK_ERROR_FEATURE_NOT_PRESENT) CASE(VK_ERROR_INCOMPATIBLE_DRIVER) CASE(VK_ERROR_TOO_MANY_OBJECTS)
                    CASE(VK_ERROR_FORMAT_NOT_SUPPORTED) CASE(VK_ERROR_FRAGMENTED_POOL) CASE(VK_ERROR_UNKNOWN)
                        CASE(VK_ERROR_OUT_OF_POOL_MEMORY) CASE(VK_ERROR_INVALID_EXTERNAL_HANDLE)
                            CASE(VK_ERROR_FRAGMENTATION) CASE(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)
                                CASE(VK_PIPELINE_COMPILE_REQUIRED) CASE(VK_ERROR_VALIDATION_FAILED_EXT)
                                    CASE(VK_ERROR_NOT_PERMITTED_KHR)
#undef CASE
                                        default : return "VK_RESULT_UNKNOWN";
  }
}

Napi::Value MakeVulkanError(Napi::Env env, VkResult result, const char* command, Napi::Value cause) {
  AddonData* data = AddonData::Get(env);
  Napi::Value causeValue = cause.IsEmpty() ? env.Undefined() : cause;
  if (!data->errorFactory.IsEmpty()) {
    return data->errorFactory.Call({Napi::Number::New(env, result), Napi::String::New(env, ResultName(result)),
                                    Napi::String::New(env, command), causeValue});
  }
  Napi::Error err = Napi::Error::New(env, std::string(command) + " failed: " + ResultName(result));
  err.Set("result", Napi::Number::New(env, result));
  err.Set("code", Napi::String::New(env, ResultName(result)));
  err.Set("command", Napi::String::New(env, command));
  return err.Value();
}

}  // namespace vkalloc
