#include "region-server/memory_limit.h"

#include <malloc.h>

namespace activekv::server {

uint64_t AllocatedBytes() {
  struct mallinfo2 mi = mallinfo2();
  return static_cast<uint64_t>(mi.uordblks) + static_cast<uint64_t>(mi.hblkhd);
}

}  // namespace activekv::server
