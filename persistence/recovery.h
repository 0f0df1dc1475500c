// Startup replay of an AOF file (docs/aof-format.md, "Recovery rules").
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "persistence/aof_format.h"
#include "persistence/env.h"

namespace activekv::persistence {

struct RecoveryResult {
  uint64_t records_applied = 0;
  // Size of the file before recovery, and the end of the last good record (= size after).
  uint64_t file_size = 0;
  uint64_t valid_bytes = 0;
  // A torn tail was cut off: `truncated_bytes` bytes from offset `valid_bytes`. The server logs a
  // warning with `torn_tail_reason`.
  bool torn_tail = false;
  uint64_t truncated_bytes = 0;
  std::string torn_tail_reason;
};

// Live state of a RecoverAof call, shared with other threads (a server answering INFO while it
// replays): progress flows out, cancellation flows in. Thread-safe (atomics only); the object
// must outlive the RecoverAof call that uses it.
struct RecoveryProgress {
  // Size of the file, set before the first record is read (0 for a missing file).
  std::atomic<uint64_t> total_bytes{0};
  // End offset of the last record replayed: the bytes consumed so far.
  std::atomic<uint64_t> loaded_bytes{0};
  std::atomic<uint64_t> records_applied{0};
  // Set by another thread to stop the replay before the next record: RecoverAof then returns
  // Cancelled (records before that point were applied; nothing is truncated).
  std::atomic<bool> cancel{false};
};

struct RecoveryOptions {
  // Optional (null: none). See RecoveryProgress.
  RecoveryProgress* progress = nullptr;
  // TEST ONLY, like Redis's `key-load-delay`: sleep this long after each replayed record, so that
  // tests can observe a replay in progress. Zero in production.
  absl::Duration record_delay = absl::ZeroDuration();
  // False for a file that is complete by construction (a snapshot file, renamed into place
  // once fsynced): a torn tail is damage, returned as DataLoss, and nothing is truncated.
  bool truncate_torn_tail = true;
};

// One record handed to RecoverAof's callback.
struct AofRecord {
  aof::RecordType type;
  std::string_view payload;  // valid during the call
  uint64_t offset;           // file offset of the record's first byte
};

// Replays the records of the AOF at `path` in order, calling `apply` with each record.
//   - A missing or empty file is an empty log: OK, nothing applied.
//   - Torn tail (an incomplete or damaged last part with no valid record after it): the file is
//     truncated to the end of the last good record (durably) and `*result` says so. OK.
//     Unless !options.truncate_torn_tail: then DataLoss naming the file and the offset.
//   - Mid-file corruption (damage followed by a valid record), a bad file header or an
//     unsupported format version: DataLoss / FailedPrecondition naming the file and byte offset
//     and suggesting `activekv-check-aof --fix <file>`. Nothing is truncated and nothing after the
//     damage is applied (records before it were).
//   - An error from `apply` aborts recovery and is returned (with the record's offset added).
//   - `options.progress->cancel` set: Cancelled, naming the file and the byte offset reached.
// `*result` is filled in all cases. Call before Aof::Open on the same path.
absl::Status RecoverAof(Env* env, const std::string& path,
                        const std::function<absl::Status(const AofRecord& record)>& apply,
                        RecoveryResult* result, const RecoveryOptions& options);
// The same with only each record's payload (any type), and with default options.
absl::Status RecoverAof(Env* env, const std::string& path,
                        const std::function<absl::Status(std::string_view payload)>& apply,
                        RecoveryResult* result, const RecoveryOptions& options);
absl::Status RecoverAof(Env* env, const std::string& path,
                        const std::function<absl::Status(std::string_view payload)>& apply,
                        RecoveryResult* result);

}  // namespace activekv::persistence
