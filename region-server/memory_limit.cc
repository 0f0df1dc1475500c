#include "region-server/memory_limit.h"

#include <malloc.h>

#include <cstddef>

// Under ASan or TSan the sanitizer's allocator replaces malloc and mallinfo2 reports nothing: its
// own count of the bytes allocated is read instead (a documented sanitizer interface function,
// declared here because GCC does not ship <sanitizer/allocator_interface.h>).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ACTIVEKV_SANITIZER_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ACTIVEKV_SANITIZER_ALLOCATOR 1
#endif
#endif

#ifdef ACTIVEKV_SANITIZER_ALLOCATOR
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace activekv::server {

uint64_t AllocatedBytes() {
#ifdef ACTIVEKV_SANITIZER_ALLOCATOR
  return __sanitizer_get_current_allocated_bytes();
#else
  struct mallinfo2 mi = mallinfo2();
  return static_cast<uint64_t>(mi.uordblks) + static_cast<uint64_t>(mi.hblkhd);
#endif
}

}  // namespace activekv::server
