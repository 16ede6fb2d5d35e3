// Driver-contract validation, in the manner of the Vulkan CTS's allocation callback
// validator, plus what it does not check: which thread called and whether a call
// came outside any command. Enabled per HostAllocator ({ validation: true }); the
// bridge reports each callback here and violations are kept for JS to read.
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace vkalloc {

enum class Violation : uint8_t {
  DoubleFree,              // free of a block already freed
  FreeUnknown,             // free of a pointer never handed out
  ReallocUnknown,          // reallocation of a pointer never handed out
  ReallocFreed,            // reallocation of a block already freed
  NegativeInternalTotal,   // more internal frees than internal allocations, in a scope
  InvalidScope,            // VkSystemAllocationScope outside the enum
  InvalidInternalType,     // VkInternalAllocationType outside the enum
  BadAlignment,            // alignment not a power of two
  ReallocAlignmentChange,  // reallocation with another alignment than the original's
  Leak,                    // a block still live when it should not be (see Leaks*)
  WrongThread,             // a callback from another thread while a command runs
  OutsideCommand,          // a callback while no command runs
  Count
};
extern const char* const kViolationNames[static_cast<int>(Violation::Count)];

struct ViolationRecord {
  Violation kind;
  const char* command;  // the command running on the JS thread ('none' if none)
  uint64_t object;      // env-wide object id it concerns (0 = none)
  const char* objectType;
  bool offThread;
  uintptr_t address;
  uint64_t size;
  std::string detail;
};

class Validator {
 public:
  void Report(Violation kind, const char* command, bool offThread, uintptr_t address, uint64_t size, std::string detail,
              uint64_t object = 0, const char* objectType = "");
  // Freed-block memory, to tell a double free from a free of a stranger.
  void Freed(uintptr_t address);
  void Allocated(uintptr_t address);
  bool WasFreed(uintptr_t address);
  // Internal allocation totals per scope; false when a free would make one negative.
  bool Internal(bool allocate, uint64_t size, int scope);

  std::vector<ViolationRecord> Take();
  std::vector<ViolationRecord> Snapshot();
  size_t Count();

 private:
  std::mutex mu_;
  std::vector<ViolationRecord> records_;
  std::unordered_set<uintptr_t> freed_;
  int64_t internal_[5] = {};
};

}  // namespace vkalloc
