#include "core/validator.h"

namespace vkalloc {

const char* const kViolationNames[static_cast<int>(Violation::Count)] = {"double-free",
                                                                         "free-unknown",
                                                                         "realloc-unknown",
                                                                         "realloc-freed",
                                                                         "negative-internal-total",
                                                                         "invalid-scope",
                                                                         "invalid-internal-type",
                                                                         "bad-alignment",
                                                                         "realloc-alignment-change",
                                                                         "leak",
                                                                         "wrong-thread",
                                                                         "outside-command"};

namespace {
constexpr size_t kMaxRecords = 10000;  // a runaway driver must not exhaust memory
constexpr size_t kMaxFreedKept = 1 << 20;
}  // namespace

void Validator::Report(Violation kind, const char* command, bool offThread, uintptr_t address, uint64_t size,
                       std::string detail, uint64_t object, const char* objectType) {
  std::lock_guard<std::mutex> lock(mu_);
  if (records_.size() >= kMaxRecords) return;
  records_.push_back(ViolationRecord{kind, command, object, objectType, offThread, address, size, std::move(detail)});
}

void Validator::Freed(uintptr_t address) {
  std::lock_guard<std::mutex> lock(mu_);
  if (freed_.size() >= kMaxFreedKept) freed_.clear();
  freed_.insert(address);
}

void Validator::Allocated(uintptr_t address) {
  std::lock_guard<std::mutex> lock(mu_);
  freed_.erase(address);
}

bool Validator::WasFreed(uintptr_t address) {
  std::lock_guard<std::mutex> lock(mu_);
  return freed_.count(address) != 0;
}

bool Validator::Internal(bool allocate, uint64_t size, int scope) {
  std::lock_guard<std::mutex> lock(mu_);
  if (scope < 0 || scope >= 5) return true;
  internal_[scope] += allocate ? static_cast<int64_t>(size) : -static_cast<int64_t>(size);
  return internal_[scope] >= 0;
}

std::vector<ViolationRecord> Validator::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ViolationRecord> out;
  out.swap(records_);
  return out;
}

std::vector<ViolationRecord> Validator::Snapshot() {
  std::lock_guard<std::mutex> lock(mu_);
  return records_;
}

size_t Validator::Count() {
  std::lock_guard<std::mutex> lock(mu_);
  return records_.size();
}

}  // namespace vkalloc
