#include "vulkan/resource.h"

namespace vkalloc {

void Resource::HoldAllocator(Napi::Value allocator) {
  if (!allocator.IsObject()) return;
  allocator_ = UnwrapAs<AllocatorBridge>(allocator);
  allocatorRef_ = Napi::Persistent(allocator.As<Napi::Object>());
}

void Resource::Attach(Resource* parent) {
  parent_ = parent;
  parentId_ = parent ? parent->Id() : 0;
  createdIn_ = data_->unclaimedCreateSeq;  // its allocations are that command's
  data_->unclaimedCreateSeq = 0;
  for (AllocatorBridge* bridge : data_->bridges) {
    if (bridge->Registry().Tracing()) bridge->Registry().TraceObjectCreated(id_, typeName_, parentId_);
  }
  if (parent) {
    position_ = parent->children_.insert(parent->children_.end(), this);
    parentRef_ = Napi::Persistent(parent->Wrapper());
  } else {
    position_ = data_->roots.insert(data_->roots.end(), this);
  }
  KeepWrapperAlive(true);
  attached_ = true;
  if (!data_->pendingViolation.IsEmpty()) {  // see CommandScope::~CommandScope
    Napi::Object error = data_->pendingViolation.Value();
    data_->pendingViolation.Reset();
    throw Napi::Error(error.Env(), error);
  }
}

void Resource::Destroy() {
  if (destroyed_) return;
  while (!children_.empty()) children_.back()->Destroy();  // each unlinks itself
  if (attached_) {
    Resource* outer = data_->destroying;  // what the destroy command frees is this object's
    data_->destroying = this;
    DestroyHandle();
    data_->destroying = outer;
  }
  destroyed_ = true;
  if (attached_) {
    if (parent_)
      parent_->children_.erase(position_);
    else
      data_->roots.erase(position_);
    parent_ = nullptr;
    parentRef_.Reset();
    allocatorRef_.Reset();
    allocator_ = nullptr;
    KeepWrapperAlive(false);
  }
}

void Resource::CollectLive(std::vector<const Resource*>& out) const {
  out.push_back(this);
  for (const Resource* child : children_) child->CollectLive(out);
}

Napi::Value Resource::AllocatorValue(Napi::Env env) const {
  return allocatorRef_.IsEmpty() ? env.Null() : allocatorRef_.Value();
}

Napi::Value LiveObjects(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<const Resource*> found;
  for (const Resource* root : AddonData::Get(env)->roots) root->CollectLive(found);
  Napi::Array out = Napi::Array::New(env, found.size());
  for (size_t i = 0; i < found.size(); i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", std::string(found[i]->TypeName()) + "#" + std::to_string(found[i]->Id()));
    o.Set("allocator", found[i]->AllocatorValue(env));
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}

void Resource::CheckAlive(Napi::Env env) const {
  if (destroyed_ || !attached_) throw Napi::Error::New(env, std::string(typeName_) + " is destroyed");
}

}  // namespace vkalloc
