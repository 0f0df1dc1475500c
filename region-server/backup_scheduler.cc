#include "region-server/backup_scheduler.h"

#include <algorithm>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "backup/credentials.h"
#include "backup/location.h"
#include "backup/writer.h"
#include "spdlog/spdlog.h"

namespace activekv::server {
namespace {

// The upload, on its own thread: dump.akv (opened once: a later save renames a new file into
// place without disturbing it) into the location, then the retention.
absl::Status Upload(const topology::BackupConfig& config, const backup::Manifest& manifest,
                    const std::string& dump_path, int64_t now_ms) {
  absl::StatusOr<backup::Location> loc = backup::ParseLocation(config.location);
  if (!loc.ok()) return loc.status();
  backup::S3Config s3;
  if (loc->kind == backup::Location::kS3) {
    absl::StatusOr<backup::S3Config> cfg =
        config.credentials_file.empty()
            ? backup::S3ConfigFromEnv()
            : backup::LoadCredentialsFile(config.credentials_file, config.profile);
    if (!cfg.ok()) return cfg.status();
    s3 = *std::move(cfg);
  }
  absl::StatusOr<std::unique_ptr<backup::ObjectStore>> store = backup::OpenObjectStore(*loc, s3);
  if (!store.ok()) return store.status();
  std::ifstream in(dump_path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot open " + dump_path);
  std::string buf(1 << 20, '\0');
  backup::Source source = [&]() -> absl::StatusOr<std::string_view> {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.bad()) return absl::DataLossError("reading " + dump_path);
    return std::string_view(buf.data(), static_cast<size_t>(in.gcount()));
  };
  absl::StatusOr<backup::Manifest> written =
      backup::WriteBackup(**store, manifest, source, nullptr, now_ms);
  if (!written.ok()) return written.status();
  absl::StatusOr<int> pruned =
      backup::PruneBackups(**store, manifest.database, manifest.region, config.retention);
  if (!pruned.ok()) {
    return absl::Status(pruned.status().code(),
                        absl::StrCat("backup ", manifest.id,
                                     " written, but pruning failed: ", pruned.status().message()));
  }
  return absl::OkStatus();
}

}  // namespace

int64_t NextBackupTime(int64_t now_s, int64_t interval_s, int64_t offset_s) {
  if (interval_s <= 0) return INT64_MAX;
  const int64_t base = offset_s % interval_s;
  // The smallest base + k * interval > now_s.
  const int64_t k = now_s < base ? 0 : (now_s - base) / interval_s + 1;
  return base + k * interval_s;
}

BackupScheduler::BackupScheduler(topology::BackupConfig config, std::string database,
                                 std::string region, std::string dump_path, Hooks hooks)
    : config_(std::move(config)),
      database_(std::move(database)),
      region_(std::move(region)),
      dump_path_(std::move(dump_path)),
      hooks_(std::move(hooks)) {}

BackupScheduler::~BackupScheduler() {
  if (upload_.valid()) upload_.wait();
}

void BackupScheduler::Tick(int64_t now_ms) {
  const int64_t now_s = now_ms / 1000;
  if (next_s_ == 0) next_s_ = NextBackupTime(now_s, config_.interval_s, config_.offset_s);
  switch (state_) {
    case State::kIdle: {
      if (now_s < next_s_) return;
      absl::StatusOr<uint64_t> target = hooks_.begin();
      if (!target.ok()) return Done(target.status(), now_ms);
      target_ = *target;
      started_ms_ = now_ms;
      state_ = State::kSaving;
      return;
    }
    case State::kSaving: {
      absl::StatusOr<bool> done = hooks_.finished(target_);
      if (!done.ok()) return Done(done.status(), now_ms);
      if (!*done) return;
      backup::Manifest m;
      m.database = database_;
      m.region = region_;
      m.id = backup::BackupId(database_, region_, now_ms);
      syncer::NamedVV version;
      hooks_.describe(&m.saved_unix_ms, &version);
      m.version_vector.assign(version.begin(), version.end());
      upload_ = std::async(std::launch::async,
                           [this, m, now_ms] { return Upload(config_, m, dump_path_, now_ms); });
      state_ = State::kUploading;
      return;
    }
    case State::kUploading:
      if (upload_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;
      return Done(upload_.get(), now_ms);
  }
}

void BackupScheduler::Done(const absl::Status& status, int64_t now_ms) {
  state_ = State::kIdle;
  const int64_t now_s = now_ms / 1000;
  if (status.ok()) {
    ++completed_;
    last_success_ms_ = now_ms;
    last_duration_ms_ = now_ms - started_ms_;
    last_error_.clear();
    next_s_ = NextBackupTime(now_s, config_.interval_s, config_.offset_s);
    spdlog::info("scheduled backup to {} done in {} ms", config_.location, last_duration_ms_);
    return;
  }
  ++failures_;
  last_error_ = std::string(status.message());
  next_s_ = now_s + std::min(config_.interval_s, kRetryDelayS);
  spdlog::error("scheduled backup to {} failed (retry in {} s): {}", config_.location,
                next_s_ - now_s, last_error_);
}

v1::BackupStatus BackupScheduler::status() const {
  v1::BackupStatus st;
  st.set_location(config_.location);
  st.set_in_progress(state_ != State::kIdle);
  st.set_completed(completed_);
  st.set_failures(failures_);
  st.set_last_success_unix_ms(last_success_ms_);
  st.set_last_error(last_error_);
  st.set_next_unix_ms(next_s_ * 1000);
  return st;
}

}  // namespace activekv::server
