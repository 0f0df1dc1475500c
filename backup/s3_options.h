#pragma once

#include <cstddef>
#include <cstdint>

namespace activekv::backup {

// Tuning of the S3 store (backup/s3_store.h); the defaults suit AWS S3.
struct S3StoreOptions {
  // Multipart part size. S3 requires >= 5 MiB for every part but the last; PutStream holds one
  // part in memory, so this is also its memory bound.
  size_t part_size = 8 << 20;
  // ListObjectsV2 max-keys (page size; S3 caps it at 1000). Small values force continuation.
  int list_page_size = 1000;
  // TCP connect timeout.
  int64_t connect_timeout_ms = 10'000;
  // A transfer slower than low_speed_limit bytes/s for low_speed_time_s seconds fails with
  // Unavailable (a hung server never hangs a backup).
  int64_t low_speed_limit = 1;
  int64_t low_speed_time_s = 30;
};

}  // namespace activekv::backup
