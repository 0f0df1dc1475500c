#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backup/credentials.h"
#include "backup/location.h"
#include "backup/s3_options.h"

namespace activekv::backup {

// Pulls the next chunk of an object being written. An empty view means the end. The view must
// stay valid until the next call (the store reads it before asking again). An error aborts the
// write and is returned by PutStream.
using Source = std::function<absl::StatusOr<std::string_view>()>;
// Receives an object being read, chunk by chunk, in order. An error stops the read and is
// returned by Get.
using Sink = std::function<absl::Status(std::string_view)>;
// Called with the number of bytes stored so far (monotonic), after each stored piece (a part on
// S3, a chunk locally). May be empty (nullptr): no progress reports.
using Progress = std::function<void(uint64_t bytes_done)>;

// A Source that gives `data` in one piece, then the end (`data` must outlive it).
Source SingleChunk(std::string_view data);

struct ObjectInfo {
  std::string key;  // relative to the store's location
  uint64_t size = 0;
};

// A flat namespace of objects ("keys") under one Location. Keys are non-empty '/'-separated
// paths relative to the location, with no empty, "." or ".." segment and no leading '/'
// (InvalidArgument otherwise).
//
// Put and PutStream are atomic: a reader sees the whole new object or none of it (an interrupted
// write never leaves a visible object). Delete of a missing key succeeds (as S3's DeleteObject).
// Get of a missing key is NotFound.
//
// Implementations are not thread-safe: use one store from one thread at a time.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  virtual absl::Status Put(const std::string& key, std::string_view data) = 0;
  // Memory stays bounded by the store's part size (S3) whatever the object size.
  virtual absl::Status PutStream(const std::string& key, const Source& source,
                                 const Progress& progress) = 0;
  virtual absl::Status Get(const std::string& key, const Sink& sink) = 0;
  // Every object whose key starts with `prefix` ("" = all), sorted by key.
  virtual absl::StatusOr<std::vector<ObjectInfo>> List(const std::string& prefix) = 0;
  virtual absl::Status Delete(const std::string& key) = 0;

  // "s3://bucket/prefix" or the directory: for messages.
  virtual std::string Describe() const = 0;
};

// InvalidArgument unless `key` is a valid object key (see ObjectStore).
absl::Status ValidateKey(const std::string& key);

// A store for `location`; `s3` and `options` are used only for an s3:// location. Opening does
// no I/O on S3; a local directory is created if missing.
absl::StatusOr<std::unique_ptr<ObjectStore>> OpenObjectStore(const Location& location,
                                                             const S3Config& s3,
                                                             const S3StoreOptions& options = {});

// Checks that `store` works end to end: writes a probe object, reads it back and compares,
// finds it with List, deletes it and checks it is gone. The error names the failing step
// ("write", "read back", "list", "delete") and carries the store's error code and message.
absl::Status ValidateLocation(ObjectStore& store);

}  // namespace activekv::backup
