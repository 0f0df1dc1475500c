#pragma once

// maxmemory with the noeviction policy (docs/security.md, "Limits"): whether a client write that
// may grow memory is refused. Memory in use is the allocator's count of bytes handed out (glibc),
// the counterpart of redis-server's used_memory. It is sampled at most once per millisecond of
// the caller's clock, so a check on the command path costs a comparison; between samples the
// region may go past the limit by what one millisecond of writes adds.
//
// Not thread-safe: the event loop's.

#include <cstdint>

namespace activekv::server {

// Bytes the allocator handed out and not freed (glibc: small chunks and mmapped blocks in use;
// under ASan or TSan, the sanitizer allocator's count).
uint64_t AllocatedBytes();

class MemoryLimit {
 public:
  using Reader = uint64_t (*)();  // bytes in use now
  explicit MemoryLimit(Reader reader = &AllocatedBytes) : reader_(reader) {}

  // 0: no limit.
  void set_maxmemory(uint64_t bytes) { maxmemory_ = bytes; }
  uint64_t maxmemory() const { return maxmemory_; }

  // Bytes in use as of `now_ms` (sampled again once the clock moved).
  uint64_t Used(int64_t now_ms) {
    if (now_ms != sampled_ms_) {
      sampled_ms_ = now_ms;
      used_ = reader_();
    }
    return used_;
  }
  // Above maxmemory (never without a limit).
  bool Exceeded(int64_t now_ms) { return maxmemory_ != 0 && Used(now_ms) > maxmemory_; }

 private:
  Reader reader_;
  uint64_t maxmemory_ = 0;
  int64_t sampled_ms_ = -1;
  uint64_t used_ = 0;
};

}  // namespace activekv::server
