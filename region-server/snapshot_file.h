#pragma once

// SnapshotFileWriter: writes a keyspace's copy-on-write snapshot (crdt::Keyspace::BeginSnapshot)
// to a file of snapshot records in the AOF framing (docs/aof-format.md: a file header, then one
// type-2 record per chunk), a bounded step at a time so the event loop keeps serving between
// steps, and fsyncs it on a helper thread. Used by the AOF rewrite (which appends its tail after
// the snapshot) and by SAVE / BGSAVE (docs/aof-format.md, "Snapshot files").
//
// Event-loop thread only (the fsync runs on its own thread; Append may run meanwhile).

#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "activekv/v1/snapshot.pb.h"
#include "crdt/keyspace.h"
#include "persistence/env.h"

namespace activekv::server {

class SnapshotFileWriter {
 public:
  // Snapshot chunk size (keys, serialized bytes).
  static constexpr size_t kChunkKeys = 1024;
  static constexpr size_t kChunkBytes = 1 << 20;
  // A chunk up to this size is serialized into one buffer; a larger one (a single large key) is
  // streamed to the file in blocks.
  static constexpr size_t kBufferedChunkBytes = 4 << 20;

  // Creates (truncates) `path` and writes the file header. The caller starts the keyspace's
  // snapshot (BeginSnapshot) before the first WriteStep. On error nothing is left at `path`.
  static absl::StatusOr<std::unique_ptr<SnapshotFileWriter>> Create(persistence::Env* env,
                                                                    std::string path);
  ~SnapshotFileWriter();  // waits for a running fsync

  // Writes the snapshot's next chunks, about `budget` bytes of them. Returns true once the
  // snapshot is written entirely (ks.snapshot_active() is false); the file is then flushed and
  // its fsync started on a helper thread.
  absl::StatusOr<bool> WriteStep(crdt::Keyspace& ks, size_t budget);
  // More bytes after the snapshot (the rewrite's tail), flushed; not covered by the running fsync.
  absl::Status Append(std::string_view bytes);
  // The fsync started by WriteStep has finished (never blocks).
  bool synced() const;
  // Waits for that fsync and returns its outcome.
  absl::Status WaitSynced();
  // WaitSynced, then syncs what Append added and closes the file.
  absl::Status Finish();
  // Closes and deletes the file (after a failure, or when abandoned).
  void Discard();

  const std::string& path() const { return path_; }
  uint64_t bytes() const { return bytes_; }  // header + snapshot records
  uint64_t keys() const { return keys_; }

 private:
  SnapshotFileWriter(persistence::Env* env, std::string path,
                     std::unique_ptr<persistence::WritableFile> file);

  persistence::Env* env_;
  std::string path_;
  std::unique_ptr<persistence::WritableFile> file_;
  std::future<absl::Status> sync_;
  absl::Status sync_status_ = absl::FailedPreconditionError("the snapshot is not written yet");
  uint64_t bytes_ = 0;
  uint64_t keys_ = 0;
  // Appends chunk_ as one record; adds its size to `*written` and bytes_.
  absl::Status AppendChunk(size_t* written);

  v1::Snapshot chunk_;
  std::string record_;
};

}  // namespace activekv::server
