// The durable append-only log: framing (aof_writer.h), fsync policy and group commit.
//
// Threads. An Aof is driven by ONE "event-loop" thread, which calls Append, Flush, SyncAll and
// Close (and destroys it). appended_lsn, durable_lsn, health and stats may be called from any
// thread. Open starts one background thread for kAlways (it writes and fsyncs) and kEverysec (it
// fsyncs once a second); kNo has none.
//
// Data path per policy (like Redis's flushAppendOnlyFile, called once per event-loop iteration):
//   kNo        Flush() write()s the buffered records. Never fsyncs on the write path (the OS
//              decides), except at SyncAll/Close -- and, when `no_sync_interval` is finite (a
//              replicated region), in the background like kEverysec at that period: only
//              synced_lsn depends on it, which peers need before they fold counters
//              (docs/replication-protocol.md, "Stability").
//   kEverysec  Flush() write()s; the background thread fdatasyncs once per `everysec_interval`
//              when something was written since the last fsync (sooner if more than 32 MiB are
//              waiting for an fsync: they are kept in memory for a rewrite, see below).
//   kAlways    Flush() hands the buffer to the background thread, which write()s everything handed
//              over so far and fdatasyncs it ONCE (group commit: the records of every client served
//              in the meantime share one fsync), then advances durable_lsn and calls on_durable.
//              Flush never blocks on the disk.
//
// Failures (full disk, EIO). No record is ever dropped or duplicated: bytes that were not written,
// or written but not covered by a successful fsync, stay buffered; the next attempt first truncates
// the file back to the last offset known good (the last successful fsync for an fsync failure --
// after a failed fsync the page cache cannot be trusted, "fsyncgate") and writes them again.
// health() reports the error until an attempt succeeds; the server refuses writes (-MISCONF)
// meanwhile. Retries: kAlways retries on its own every `retry_interval` (and at once on Flush);
// kEverysec/kNo retry a failed write in Flush, at most once per `retry_interval`, so while health()
// is not OK the caller must keep calling Flush (e.g. from a 100 ms timer) even when no client
// writes.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "persistence/aof_format.h"
#include "persistence/byte_queue.h"
#include "persistence/env.h"
#include "persistence/mutex.h"

namespace activekv::persistence {

enum class FsyncPolicy { kAlways, kEverysec, kNo };

// "always" | "everysec" | "no" (case-insensitive, like Redis's appendfsync).
absl::StatusOr<FsyncPolicy> ParseFsyncPolicy(std::string_view text);
std::string_view FsyncPolicyName(FsyncPolicy policy);

class Aof {
 public:
  struct Options {
    Env* env = nullptr;  // required; must outlive the Aof
    std::string path;
    FsyncPolicy policy = FsyncPolicy::kEverysec;
    // kAlways only: called from the background thread, outside any lock, every time durable_lsn
    // advances (with the new value; values strictly increase). The server posts it to its event
    // loop. Must not call back into this Aof except the any-thread accessors. May be empty.
    std::function<void(uint64_t durable_lsn)> on_durable;
    // kEverysec fsync period, and the pause between attempts after a failure (kAlways/kEverysec).
    absl::Duration everysec_interval = absl::Seconds(1);
    // kNo background fsync period (infinite: none, Redis's behaviour).
    absl::Duration no_sync_interval = absl::InfiniteDuration();
    absl::Duration retry_interval = absl::Milliseconds(100);
  };

  struct Stats {
    FsyncPolicy policy = FsyncPolicy::kEverysec;
    uint64_t appended_lsn = 0;
    uint64_t durable_lsn = 0;
    uint64_t synced_lsn = 0;
    uint64_t records = 0;         // records appended since Open
    uint64_t bytes_appended = 0;  // framed bytes appended since Open
    uint64_t bytes_written = 0;   // bytes write()n since Open (rewrites after an error count again)
    uint64_t file_size = 0;       // bytes of the file known written
    uint64_t fsyncs = 0;          // successful fsyncs covering records
    uint64_t fsync_errors = 0;
    uint64_t write_errors = 0;        // failed write()s and truncates
    uint64_t last_fsync_unix_ms = 0;  // 0: none yet
    // The file size a power loss cannot go below, and when the bytes up to it had been written
    // (an acknowledged write after that moment may be lost by a power loss; before it, not).
    uint64_t synced_size = 0;
    uint64_t synced_as_of_unix_ms = 0;
  };

  // Opens `path` for appending; call after RecoverAof (the file must be missing, empty, or a valid
  // AOF with no torn tail). A missing or empty file gets the file header, fsynced along with its
  // folder. Starts the background thread.
  static absl::StatusOr<std::unique_ptr<Aof>> Open(Options options);

  // appendonly no (docs/operations.md, "Persistence options"): no file and no thread. Append
  // numbers records as usual and drops them; each is durable and synced at once (what survives
  // a restart is a snapshot, or nothing). Flush, SyncAll and Close succeed; stats() shows an
  // empty file. `policy` is only reported.
  static std::unique_ptr<Aof> OpenWithoutFile(FsyncPolicy policy);

  Aof(const Aof&) = delete;
  Aof& operator=(const Aof&) = delete;
  // Close(), ignoring its status.
  ~Aof();

  // Event-loop thread. Frames `payload` (opaque bytes: a serialized activekv.v1.OpBatch, or a
  // Snapshot chunk for kSnapshotType) into the in-memory buffer and returns its LSN: 1, 2, ...
  // since Open. Returns 0 and appends nothing if payload.size() > aof::kMaxPayloadSize.
  uint64_t Append(std::string_view payload, aof::RecordType type = aof::kOpBatchType);

  // Event-loop thread, once per loop iteration (and periodically while health() is not OK).
  // kNo/kEverysec: writes the buffered records now and returns the result (the bytes stay buffered
  // on failure). kAlways: hands them to the background thread and returns health() at once.
  absl::Status Flush();

  // Event-loop thread. Blocks until every record appended so far is written and fsynced (any
  // policy), or an attempt fails (returns its error). For shutdown and tests.
  absl::Status SyncAll();

  // Event-loop thread. SyncAll, stops the background thread, closes the file. Returns the first
  // error. Only the accessors below may be called afterwards.
  absl::Status Close();

  // Instead of Close, once every record appended here is durable in another file that replaced
  // this one (an AOF rewrite's, renamed over it): stops the background thread and closes the
  // file without writing or fsyncing what this one still holds. The owner may hand the Aof to
  // another thread for it (the close of a replaced file frees its blocks: slow for a large one).
  void Abandon();

  // Any thread.
  uint64_t appended_lsn() const { return appended_lsn_.load(std::memory_order_acquire); }
  // kAlways: covered by a successful fsync. kEverysec/kNo: written to the file (a process crash
  // cannot lose it; a power loss may, within the policy's window).
  uint64_t durable_lsn() const { return durable_lsn_.load(std::memory_order_acquire); }
  // Covered by a successful fsync (any policy): a power loss cannot lose it. kAlways: durable_lsn.
  // kNo without a background fsync only advances at SyncAll.
  uint64_t synced_lsn() const {
    return options_.policy == FsyncPolicy::kAlways ? durable_lsn()
                                                   : synced_lsn_.load(std::memory_order_acquire);
  }
  absl::Status health() const;
  // health().ok() without taking a lock: the per-command check of the write path.
  bool healthy() const { return healthy_.load(std::memory_order_acquire); }
  Stats stats() const;
  // False for OpenWithoutFile.
  bool has_file() const { return file_ != nullptr; }

 private:
  Aof(Options options, std::unique_ptr<WritableFile> file, uint64_t file_size);

  // kAlways background thread.
  void AlwaysLoop();
  bool AlwaysReady() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Writes `data` after the durable offset (truncating first if `*must_truncate`) and fsyncs.
  absl::Status WriteAndSync(const ByteQueue& data, bool* must_truncate);
  // kEverysec (and kNo with a background fsync) background thread.
  void EverysecLoop();
  bool EverysecWake() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // kNo/kEverysec: event-loop side of Flush. After a failed write, retries at most once per
  // retry_interval unless `force`.
  absl::Status WriteBuffered(bool force);
  // kNo/kEverysec: one fsync of everything written so far (background thread or SyncAll).
  absl::Status SyncWritten() ABSL_LOCKS_EXCLUDED(mu_, sync_mu_);
  absl::Status HealthLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void RecordWriteError(const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_);

  const Options options_;
  // kEverysec, or kNo with a background fsync: written bytes are kept until an fsync covers them
  // (so a failed fsync can rewrite them) and a background thread fsyncs every sync_interval_.
  const bool periodic_sync_;
  const absl::Duration sync_interval_;
  std::atomic<bool> healthy_{true};  // write_error_.ok() && background_error_.ok()
  const std::unique_ptr<WritableFile> file_;

  // Event-loop thread only.
  ByteQueue buf_;            // kAlways: records not yet handed off. Others: file bytes from
  uint64_t buf_offset_ = 0;  // offset buf_offset_ on: retained (kEverysec: not yet known
  size_t buf_written_ = 0;   // fsynced), then written (buf_[0, buf_written_)), then not yet written
  bool must_truncate_ = false;  // a write failed: truncate to buf_offset_ + buf_written_ first
  absl::Time last_write_failure_ = absl::InfinitePast();
  bool closed_ = false;
  absl::Status close_status_;

  // kAlways background thread only.
  uint64_t durable_offset_ = 0;  // file size covered by the last successful fsync

  std::atomic<uint64_t> appended_lsn_{0};
  std::atomic<uint64_t> durable_lsn_{0};
  std::atomic<uint64_t> synced_lsn_{0};  // kEverysec/kNo
  std::atomic<uint64_t> bytes_appended_{0};

  // Serializes fsyncs (kEverysec/kNo): two concurrent fsyncs of one file could split an error
  // between them, and the successful one would then vouch for lost pages.
  Mutex sync_mu_ ABSL_ACQUIRED_BEFORE(mu_);

  mutable Mutex mu_;
  // kAlways: bytes handed off by Flush, and the LSN of their last record.
  ByteQueue handoff_ ABSL_GUARDED_BY(mu_);
  uint64_t handoff_lsn_ ABSL_GUARDED_BY(mu_) = 0;
  bool retry_now_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t attempts_ ABSL_GUARDED_BY(mu_) = 0;  // kAlways write+fsync cycles finished
  // kEverysec/kNo bookkeeping between Flush and the fsyncs.
  uint64_t written_offset_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t written_lsn_ ABSL_GUARDED_BY(mu_) = 0;  // LSN of the last record written
  uint64_t synced_offset_ ABSL_GUARDED_BY(mu_) = 0;
  bool rewrite_pending_ ABSL_GUARDED_BY(mu_) = false;  // an fsync failed: rewrite from synced
  bool sync_now_ ABSL_GUARDED_BY(mu_) = false;         // kEverysec: too much retained, fsync early
  uint64_t rewrite_gen_ ABSL_GUARDED_BY(mu_) = 0;      // bumped by every rewrite
  // Health: the last failure of the event-loop write path and of the background thread.
  absl::Status write_error_ ABSL_GUARDED_BY(mu_);
  absl::Status background_error_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);  // the counters; LSNs come from the atomics

  std::thread thread_;
};

}  // namespace activekv::persistence
