// Lifetime shared by every wrapped Vulkan object.
//  - A live object holds a strong reference to its own JS wrapper, its parent and
//    the allocator it was created with, so nothing is collected while it lives.
//  - destroy() destroys live children first (newest first), each with its own
//    allocator, then the object itself with the allocator it was created with;
//    it is idempotent. Afterwards every method throws "<Type> is destroyed".
//  - Objects never destroyed by the program are destroyed when the environment
//    (process or worker) is torn down, in the same order.
//  - Wrapper first: the JS object that will own a Vulkan object is made (Prepare)
//    before the command that creates it, and Attach after it calls nothing that can
//    fail. A stopping worker refuses to make JS objects: refused before the command,
//    nothing is lost; refused after it, the object would belong to nobody, and a
//    VkDevice nobody destroys keeps driver threads that outlive the unloaded driver.
#pragma once
#include <napi.h>
#include <list>
#include <string>
#include <vector>
#include "bridge/addon_data.h"
#include "bridge/allocator_bridge.h"

namespace vkalloc {

class Resource {
 public:
  Resource(AddonData* data, const char* typeName) : data_(data), typeName_(typeName), id_(data->nextObjectId++) {}
  virtual ~Resource() = default;

  const char* TypeName() const { return typeName_; }
  uint64_t Id() const { return id_; }
  uint64_t ParentId() const { return parentId_; }
  // The run of the create command that made this object (0 if none), for leak checks.
  uint32_t CreatedInCommand() const { return createdIn_; }
  bool Destroyed() const { return destroyed_; }
  void Destroy();
  // Throws "<Type> is destroyed" (JS Error) when destroyed.
  void CheckAlive(Napi::Env env) const;
  const VkAllocationCallbacks* Callbacks() const { return allocator_ ? allocator_->Callbacks() : nullptr; }
  // Appends this object and its live descendants.
  void CollectLive(std::vector<const Resource*>& out) const;
  // The allocator it was created with (the bridge's JS object), or null.
  Napi::Value AllocatorValue(Napi::Env env) const;
  // Before the create command: the allocator (a HostAllocator or undefined) it is
  // created with. Throws for anything else.
  void HoldAllocator(Napi::Value allocator);

 protected:
  // Links the object its create command made into the tree; `parent` null makes it a
  // root. Nothing here calls into JS, so a stopping environment cannot interrupt it.
  void Attach(Resource* parent);
  virtual void DestroyHandle() = 0;
  virtual void KeepWrapperAlive(bool keep) = 0;
  AddonData* data_;

 private:
  const char* typeName_;
  uint64_t id_;
  uint64_t parentId_ = 0;
  uint32_t createdIn_ = 0;
  bool destroyed_ = false;
  bool attached_ = false;
  Resource* parent_ = nullptr;
  std::list<Resource*> children_;
  std::list<Resource*>::iterator position_;  // in the parent's children_ or data_->roots
  AllocatorBridge* allocator_ = nullptr;
  Napi::ObjectReference allocatorRef_;
  Napi::ObjectReference parentRef_;
  virtual Napi::Object Wrapper() = 0;
};

// The node-addon-api side: a wrapped class T deriving from WrappedResource<T>.
// The wrapper of an object about to be created: see "Wrapper first" above.
template <typename T>
T* Prepare(Napi::Env env, Napi::FunctionReference& ctor, Napi::Value allocator) {
  T* object = NewWrapped<T>(env, ctor);
  object->HoldAllocator(allocator);
  return object;
}

template <typename T>
class WrappedResource : public Napi::ObjectWrap<T>, public Resource {
 public:
  WrappedResource(const Napi::CallbackInfo& info, const char* typeName)
      : Napi::ObjectWrap<T>(info), Resource(AddonData::Get(info.Env()), typeName) {
    if (!IsConstructionToken(info, data_)) throw Napi::TypeError::New(info.Env(), "Illegal constructor");
    TagAs<T>(info.Env(), info.This().As<Napi::Object>());
  }

  // Common JS members: `destroyed` and `destroy()`.
  static void AddCommonMembers(std::vector<typename Napi::ObjectWrap<T>::PropertyDescriptor>& props) {
    using Method = Napi::Value (T::*)(const Napi::CallbackInfo&);
    props.push_back(Napi::ObjectWrap<T>::InstanceAccessor(
        "destroyed", static_cast<Method>(&WrappedResource::JsDestroyed), nullptr, napi_configurable));
    props.push_back(Napi::ObjectWrap<T>::InstanceMethod("destroy", static_cast<Method>(&WrappedResource::JsDestroy),
                                                        napi_default_method));
  }

 protected:
  Napi::Value JsDestroyed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), Destroyed()); }
  Napi::Value JsDestroy(const Napi::CallbackInfo& info) {
    if (data_->policyDepth > 0) {
      throw Napi::Error::New(
          info.Env(), std::string("Cannot destroy a ") + TypeName() + " from inside an allocator policy callback");
    }
    Destroy();
    return info.Env().Undefined();
  }

 private:
  void KeepWrapperAlive(bool keep) override {
    if (keep)
      this->Ref();
    else
      this->Unref();
  }
  Napi::Object Wrapper() override { return this->Value(); }
};

// liveObjects() -> [{ name: "Device#3", allocator: bridge | null }]: every live object
// with the allocator it was created with (HostAllocator.dispose() refuses while its
// policy's allocators have any).
Napi::Value LiveObjects(const Napi::CallbackInfo& info);

}  // namespace vkalloc
