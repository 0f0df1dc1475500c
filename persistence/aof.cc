#include "persistence/aof.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "persistence/aof_writer.h"

namespace activekv::persistence {
namespace {

// kEverysec keeps the bytes written since the last fsync; past this much it fsyncs early.
constexpr size_t kEverysecMaxRetained = size_t{32} << 20;

uint64_t NowUnixMs() { return static_cast<uint64_t>(absl::ToUnixMillis(absl::Now())); }

absl::Status CheckExistingHeader(Env* env, const std::string& path, uint64_t size) {
  if (size < aof::kFileHeaderSize) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": incomplete AOF file header (", size, " bytes); run recovery first"));
  }
  absl::StatusOr<std::unique_ptr<SequentialFile>> file = env->NewSequentialFile(path);
  if (!file.ok()) return file.status();
  char scratch[aof::kFileHeaderSize];
  std::string_view header;
  absl::Status status = (*file)->Read(sizeof(scratch), &header, scratch);
  if (!status.ok()) return status;
  if (header != aof::FileHeader()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": not an activekv AOF file of format version ", aof::kFormatVersion));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FsyncPolicy> ParseFsyncPolicy(std::string_view text) {
  absl::string_view t(text.data(), text.size());
  if (absl::EqualsIgnoreCase(t, "always")) return FsyncPolicy::kAlways;
  if (absl::EqualsIgnoreCase(t, "everysec")) return FsyncPolicy::kEverysec;
  if (absl::EqualsIgnoreCase(t, "no")) return FsyncPolicy::kNo;
  return absl::InvalidArgumentError(
      absl::StrCat("invalid appendfsync policy '", t, "' (expected always, everysec or no)"));
}

std::string_view FsyncPolicyName(FsyncPolicy policy) {
  switch (policy) {
    case FsyncPolicy::kAlways:
      return "always";
    case FsyncPolicy::kEverysec:
      return "everysec";
    case FsyncPolicy::kNo:
      return "no";
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<Aof>> Aof::Open(Options options) {
  if (options.env == nullptr) return absl::InvalidArgumentError("Aof::Open: options.env is null");
  if (options.path.empty()) return absl::InvalidArgumentError("Aof::Open: options.path is empty");
  Env* env = options.env;
  const std::string& path = options.path;
  uint64_t size = 0;
  if (env->FileExists(path)) {
    absl::StatusOr<uint64_t> existing = env->GetFileSize(path);
    if (!existing.ok()) return existing.status();
    size = *existing;
    if (size > 0) {
      absl::Status status = CheckExistingHeader(env, path, size);
      if (!status.ok()) return status;
    }
  }
  absl::StatusOr<std::unique_ptr<WritableFile>> file = env->NewWritableFile(path, /*append=*/true);
  if (!file.ok()) return file.status();
  if (size > 0) {
    absl::Status status = (*file)->Sync();
    if (!status.ok()) return status;
  } else {
    absl::Status status = (*file)->Append(aof::FileHeader());
    if (status.ok()) status = (*file)->Flush();
    if (status.ok()) status = (*file)->Sync();
    if (status.ok()) status = env->SyncDir(DirName(path));
    if (!status.ok()) return status;
    size = aof::kFileHeaderSize;
  }
  auto aof = absl::WrapUnique(new Aof(std::move(options), *std::move(file), size));
  switch (aof->options_.policy) {
    case FsyncPolicy::kAlways:
      aof->thread_ = std::thread([raw = aof.get()] { raw->AlwaysLoop(); });
      break;
    case FsyncPolicy::kEverysec:
    case FsyncPolicy::kNo:
      if (aof->periodic_sync_) {
        aof->thread_ = std::thread([raw = aof.get()] { raw->EverysecLoop(); });
      }
      break;
  }
  return aof;
}

std::unique_ptr<Aof> Aof::OpenWithoutFile(FsyncPolicy policy) {
  Options options;
  options.policy = policy;
  return absl::WrapUnique(new Aof(std::move(options), nullptr, 0));
}

Aof::Aof(Options options, std::unique_ptr<WritableFile> file, uint64_t file_size)
    : options_(std::move(options)),
      periodic_sync_(options_.policy == FsyncPolicy::kEverysec ||
                     (options_.policy == FsyncPolicy::kNo &&
                      options_.no_sync_interval != absl::InfiniteDuration())),
      sync_interval_(options_.policy == FsyncPolicy::kEverysec ? options_.everysec_interval
                                                               : options_.no_sync_interval),
      file_(std::move(file)),
      buf_offset_(file_size),
      durable_offset_(file_size) {
  MutexLock lock(&mu_);
  written_offset_ = file_size;
  synced_offset_ = file_size;
  stats_.synced_size = file_size;  // Open fsynced it
  stats_.synced_as_of_unix_ms = NowUnixMs();
  stats_.policy = options_.policy;
  stats_.file_size = file_size;
}

Aof::~Aof() { Close().IgnoreError(); }

uint64_t Aof::Append(std::string_view payload, aof::RecordType type) {
  if (payload.size() > aof::kMaxPayloadSize) return 0;
  if (file_ == nullptr) {  // OpenWithoutFile: nothing to write, nothing to wait for
    const uint64_t lsn = appended_lsn_.load(std::memory_order_relaxed) + 1;
    synced_lsn_.store(lsn, std::memory_order_release);
    durable_lsn_.store(lsn, std::memory_order_release);
    appended_lsn_.store(lsn, std::memory_order_release);
    return lsn;
  }
  char header[aof::kRecordHeaderSize];
  aof::EncodeRecordHeader(payload, type, header);
  buf_.Append(std::string_view(header, sizeof(header)));
  buf_.Append(payload);
  bytes_appended_.fetch_add(sizeof(header) + payload.size(), std::memory_order_relaxed);
  uint64_t lsn = appended_lsn_.load(std::memory_order_relaxed) + 1;
  appended_lsn_.store(lsn, std::memory_order_release);
  return lsn;
}

absl::Status Aof::Flush() {
  if (file_ == nullptr) return absl::OkStatus();
  if (options_.policy != FsyncPolicy::kAlways) {
    absl::Status status = WriteBuffered(/*force=*/false);
    if (!status.ok()) return status;
    return health();
  }
  MutexLock lock(&mu_);
  buf_.TakeSpareFrom(&handoff_);  // blocks the background thread is done with
  if (!buf_.empty()) {
    buf_.SpliceTo(&handoff_);
    handoff_lsn_ = appended_lsn_.load(std::memory_order_relaxed);
  } else if (!background_error_.ok()) {
    retry_now_ = true;
  }
  return HealthLocked();
}

absl::Status Aof::health() const {
  MutexLock lock(&mu_);
  return HealthLocked();
}

absl::Status Aof::HealthLocked() const {
  return write_error_.ok() ? background_error_ : write_error_;
}

Aof::Stats Aof::stats() const {
  MutexLock lock(&mu_);
  Stats stats = stats_;
  stats.appended_lsn = appended_lsn();
  stats.durable_lsn = durable_lsn();
  stats.synced_lsn = synced_lsn();
  stats.records = stats.appended_lsn;
  stats.bytes_appended = bytes_appended_.load(std::memory_order_relaxed);
  return stats;
}

void Aof::RecordWriteError(const absl::Status& status) {
  MutexLock lock(&mu_);
  write_error_ = status;
  healthy_.store(write_error_.ok() && background_error_.ok(), std::memory_order_release);
  ++stats_.write_errors;
}

// ---- kNo / kEverysec ------------------------------------------------------------------------

absl::Status Aof::WriteBuffered(bool force) {
  if (must_truncate_ && !force && absl::Now() - last_write_failure_ < options_.retry_interval) {
    MutexLock lock(&mu_);
    return write_error_;  // a full disk does not free up in microseconds: don't spin on it
  }
  bool rewrite = false;
  uint64_t synced = 0;
  {
    MutexLock lock(&mu_);
    rewrite = rewrite_pending_ && periodic_sync_;
    synced = synced_offset_;
  }
  // Forget the bytes that never need writing again: known fsynced (periodic sync) or written.
  uint64_t keep_from = periodic_sync_ ? synced : buf_offset_ + buf_written_;
  if (keep_from > buf_offset_) {
    size_t n = keep_from - buf_offset_;
    assert(n <= buf_written_);
    buf_.DropFront(n);
    buf_offset_ += n;
    buf_written_ -= n;
  }
  if (rewrite) {
    // An fsync failed: the pages after the synced offset may be lost. Write them all again.
    assert(buf_offset_ == synced);
    buf_written_ = 0;
    must_truncate_ = true;
    MutexLock lock(&mu_);
    rewrite_pending_ = false;
    ++rewrite_gen_;
    written_offset_ = buf_offset_;
    written_lsn_ = synced_lsn_.load(std::memory_order_relaxed);
  }
  if (must_truncate_) {
    // Remove whatever part of a failed write reached the file.
    absl::Status status = options_.env->Truncate(options_.path, buf_offset_ + buf_written_);
    if (!status.ok()) {
      last_write_failure_ = absl::Now();
      RecordWriteError(status);
      return status;
    }
    must_truncate_ = false;
  }
  size_t n = buf_.size() - buf_written_;
  if (n > 0) {
    absl::Status status = buf_.ForEachPiece(
        buf_written_, [this](std::string_view piece) { return file_->Append(piece); });
    if (status.ok()) status = file_->Flush();
    if (!status.ok()) {
      must_truncate_ = true;
      last_write_failure_ = absl::Now();
      RecordWriteError(status);
      return status;
    }
    buf_written_ = buf_.size();
  }
  {
    MutexLock lock(&mu_);
    written_offset_ = buf_offset_ + buf_written_;
    written_lsn_ = appended_lsn_.load(std::memory_order_relaxed);
    stats_.bytes_written += n;
    stats_.file_size = written_offset_;
    write_error_ = absl::OkStatus();
    healthy_.store(write_error_.ok() && background_error_.ok(), std::memory_order_release);
    if (buf_written_ > kEverysecMaxRetained && periodic_sync_) {
      sync_now_ = true;
    }
  }
  durable_lsn_.store(appended_lsn_.load(std::memory_order_relaxed), std::memory_order_release);
  if (!periodic_sync_) {
    buf_offset_ += buf_written_;
    buf_.Clear();
    buf_written_ = 0;
  }
  if (buf_.empty()) buf_.ReleaseSpare();
  return absl::OkStatus();
}

absl::Status Aof::SyncWritten() {
  MutexLock sync_lock(&sync_mu_);
  uint64_t target = 0;
  uint64_t target_lsn = 0;
  uint64_t gen = 0;
  const uint64_t target_ms = NowUnixMs();  // before the capture: never later than it
  {
    MutexLock lock(&mu_);
    if (rewrite_pending_) return background_error_;
    target = written_offset_;
    target_lsn = written_lsn_;
    gen = rewrite_gen_;
  }
  absl::Status status = file_->Sync();
  MutexLock lock(&mu_);
  if (!status.ok()) {
    background_error_ = status;
    healthy_.store(write_error_.ok() && background_error_.ok(), std::memory_order_release);
    ++stats_.fsync_errors;
    // Without a periodic sync no copy of written bytes is kept, so they cannot be rewritten.
    if (periodic_sync_) rewrite_pending_ = true;
    return status;
  }
  if (gen != rewrite_gen_) return absl::OkStatus();  // raced with a rewrite: proves nothing
  if (target > synced_offset_) {
    synced_offset_ = target;
    stats_.synced_size = target;
    stats_.synced_as_of_unix_ms = target_ms;
  }
  if (target_lsn > synced_lsn_.load(std::memory_order_relaxed)) {
    synced_lsn_.store(target_lsn, std::memory_order_release);
  }
  ++stats_.fsyncs;
  stats_.last_fsync_unix_ms = NowUnixMs();
  background_error_ = absl::OkStatus();
  healthy_.store(write_error_.ok() && background_error_.ok(), std::memory_order_release);
  return absl::OkStatus();
}

void Aof::EverysecLoop() {
  absl::Time next = absl::Now() + sync_interval_;
  while (true) {
    bool need = false;
    {
      MutexLock lock(&mu_);
      auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return EverysecWake(); };
      mu_.AwaitWithDeadline(wake, next);
      if (stop_) return;
      sync_now_ = false;
      need = !rewrite_pending_ && (written_offset_ > synced_offset_ || !background_error_.ok());
    }
    absl::Status status = need ? SyncWritten() : absl::OkStatus();
    next = absl::Now() + (status.ok() ? sync_interval_ : options_.retry_interval);
  }
}

bool Aof::EverysecWake() const { return stop_ || sync_now_; }

// ---- kAlways ----------------------------------------------------------------------------------

bool Aof::AlwaysReady() const { return stop_ || !handoff_.empty() || retry_now_; }

absl::Status Aof::WriteAndSync(const ByteQueue& data, bool* must_truncate) {
  if (*must_truncate) {
    absl::Status status = options_.env->Truncate(options_.path, durable_offset_);
    if (!status.ok()) {
      MutexLock lock(&mu_);
      ++stats_.write_errors;
      return status;
    }
    *must_truncate = false;
  }
  absl::Status status =
      data.ForEachPiece(0, [this](std::string_view piece) { return file_->Append(piece); });
  if (status.ok()) status = file_->Flush();
  if (!status.ok()) {
    *must_truncate = true;
    MutexLock lock(&mu_);
    ++stats_.write_errors;
    return status;
  }
  {
    MutexLock lock(&mu_);
    stats_.bytes_written += data.size();
    stats_.file_size = durable_offset_ + data.size();
  }
  status = file_->Sync();
  if (!status.ok()) {
    *must_truncate = true;  // the written pages cannot be trusted any more
    MutexLock lock(&mu_);
    ++stats_.fsync_errors;
    return status;
  }
  return absl::OkStatus();
}

void Aof::AlwaysLoop() {
  ByteQueue unsynced;         // handed-off bytes after durable_offset_ not yet fsynced
  uint64_t unsynced_lsn = 0;  // LSN of the last record in `unsynced`
  bool must_truncate = false;
  bool failing = false;
  while (true) {
    bool last_attempt = false;
    {
      MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return AlwaysReady(); };
      if (failing) {
        mu_.AwaitWithTimeout(ready, options_.retry_interval);
      } else {
        mu_.Await(ready);
      }
      retry_now_ = false;
      if (!handoff_.empty()) {
        handoff_.SpliceTo(&unsynced);
        unsynced_lsn = handoff_lsn_;
      }
      if (unsynced.empty()) {
        if (stop_) return;
        continue;
      }
      last_attempt = stop_;
    }
    absl::Status status = WriteAndSync(unsynced, &must_truncate);
    {
      MutexLock lock(&mu_);
      ++attempts_;
      if (status.ok()) {
        durable_offset_ += unsynced.size();
        stats_.synced_size = durable_offset_;
        stats_.synced_as_of_unix_ms = NowUnixMs();
        ++stats_.fsyncs;
        stats_.last_fsync_unix_ms = NowUnixMs();
        background_error_ = absl::OkStatus();
        healthy_.store(write_error_.ok() && background_error_.ok(), std::memory_order_release);
        durable_lsn_.store(unsynced_lsn, std::memory_order_release);
      } else {
        background_error_ = status;
        healthy_.store(write_error_.ok() && background_error_.ok(), std::memory_order_release);
      }
    }
    if (!status.ok()) {
      failing = true;
      if (last_attempt) return;
      continue;
    }
    failing = false;
    unsynced.Clear();
    {
      MutexLock lock(&mu_);
      handoff_.TakeSpareFrom(&unsynced);  // back to Flush, which appends into them again
    }
    unsynced.ReleaseSpare();
    if (options_.on_durable) options_.on_durable(unsynced_lsn);
  }
}

// ---- Both -------------------------------------------------------------------------------------

absl::Status Aof::SyncAll() {
  if (file_ == nullptr) return absl::OkStatus();
  if (options_.policy != FsyncPolicy::kAlways) {
    absl::Status status = WriteBuffered(/*force=*/true);
    if (!status.ok()) return status;
    return SyncWritten();
  }
  const uint64_t target = appended_lsn();
  absl::Status status = Flush();
  MutexLock lock(&mu_);
  if (!thread_.joinable()) return background_error_;
  const uint64_t start = attempts_;
  mu_.Await([this, target, start]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return durable_lsn() >= target || (attempts_ > start && !background_error_.ok());
  });
  return durable_lsn() >= target ? absl::OkStatus() : background_error_;
}

void Aof::Abandon() {
  if (closed_) return;
  closed_ = true;
  if (file_ == nullptr) return;
  {
    MutexLock lock(&mu_);
    handoff_.Clear();  // kAlways: nothing more to write
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
  close_status_ = file_->Close();
}

absl::Status Aof::Close() {
  if (closed_) return close_status_;
  closed_ = true;
  if (file_ == nullptr) return close_status_;
  absl::Status status;
  if (options_.policy == FsyncPolicy::kAlways) {
    Flush().IgnoreError();
    {
      MutexLock lock(&mu_);
      stop_ = true;
    }
    thread_.join();
    MutexLock lock(&mu_);
    if (durable_lsn() < appended_lsn()) status = background_error_;
  } else {
    if (thread_.joinable()) {
      {
        MutexLock lock(&mu_);
        stop_ = true;
      }
      thread_.join();
    }
    status = SyncAll();
  }
  absl::Status close_status = file_->Close();
  close_status_ = status.ok() ? close_status : status;
  return close_status_;
}

}  // namespace activekv::persistence
