#pragma once

// A region's scheduled backups (topology `backup:`, docs/operations.md "Scheduled backups"): at
// each scheduled time the region takes a fresh snapshot (a BGSAVE, through Hooks on the event
// loop) and uploads its dump.akv as a backup (backup/writer.h) on a thread of its own, then
// prunes its backups beyond the retention. A failure is retried until it succeeds. The region
// runs this itself: no CLI needs to be attached.
//
// Event-loop thread only, except the upload, which runs on its own thread.

#include <cstdint>
#include <functional>
#include <future>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "activekv/v1/status.pb.h"
#include "syncer/syncer_core.h"
#include "topology/topology.h"

namespace activekv::server {

// The first scheduled time strictly after `now_s`: offset_s + k * interval_s for an integer k
// (counted from midnight UTC of the unix epoch, so "24h" at "02:30" is every day at 02:30 UTC).
int64_t NextBackupTime(int64_t now_s, int64_t interval_s, int64_t offset_s);

class BackupScheduler {
 public:
  struct Hooks {
    // Starts (or schedules) a save whose moment follows the call; the number of completed
    // saves to wait for.
    std::function<absl::StatusOr<uint64_t>()> begin;
    // True once that many saves completed; an error once the awaited save failed.
    std::function<absl::StatusOr<bool>(uint64_t target)> finished;
    // The completed save's time (unix ms) and version vector.
    std::function<void(int64_t* saved_unix_ms, syncer::NamedVV* version)> describe;
  };

  // A failed backup is tried again after min(interval, kRetryDelayS).
  static constexpr int64_t kRetryDelayS = 30;

  BackupScheduler(topology::BackupConfig config, std::string database, std::string region,
                  std::string dump_path, Hooks hooks);
  ~BackupScheduler();  // waits for a running upload
  BackupScheduler(const BackupScheduler&) = delete;
  BackupScheduler& operator=(const BackupScheduler&) = delete;

  // From the cron: starts what is due and advances what runs.
  void Tick(int64_t now_ms);
  v1::BackupStatus status() const;

 private:
  enum class State { kIdle, kSaving, kUploading };
  void Done(const absl::Status& status, int64_t now_ms);

  const topology::BackupConfig config_;
  const std::string database_;
  const std::string region_;
  const std::string dump_path_;
  const Hooks hooks_;
  State state_ = State::kIdle;
  int64_t next_s_ = 0;  // 0: not computed yet
  uint64_t target_ = 0;
  int64_t started_ms_ = 0;
  std::future<absl::Status> upload_;
  uint64_t completed_ = 0;
  uint64_t failures_ = 0;
  int64_t last_success_ms_ = 0;
  int64_t last_duration_ms_ = 0;
  std::string last_error_;
};

}  // namespace activekv::server
