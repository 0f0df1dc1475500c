#include "persistence/fault_env.h"

#include <algorithm>
#include <cerrno>
#include <utility>

namespace activekv::persistence {

class FaultInjectionEnv::File final : public WritableFile {
 public:
  File(FaultInjectionEnv* env, std::string path, std::unique_ptr<WritableFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {}

  absl::Status Append(std::string_view data) override {
    uint64_t allowed = 0;
    absl::Status injected = env_->BeforeAppend(path_, data.size(), &allowed);
    if (allowed > 0) {
      absl::Status status = base_->Append(data.substr(0, allowed));
      if (!status.ok()) return status;
      env_->AfterAppend(path_, allowed);
    }
    return injected;
  }
  absl::Status Flush() override { return base_->Flush(); }
  absl::Status Sync() override {
    uint64_t size = 0;
    absl::Status status = env_->BeforeSync(path_, &size);
    if (!status.ok()) return status;
    status = base_->Sync();
    if (status.ok()) env_->AfterSync(path_, size);
    return status;
  }
  absl::Status Close() override { return base_->Close(); }

 private:
  FaultInjectionEnv* const env_;
  const std::string path_;
  const std::unique_ptr<WritableFile> base_;
};

FaultInjectionEnv::FaultInjectionEnv(Env* base) : base_(base) {}
FaultInjectionEnv::~FaultInjectionEnv() = default;

void FaultInjectionEnv::SetSyncError(bool fail, bool lose_unsynced) {
  MutexLock lock(&mu_);
  sync_error_ = fail;
  lose_unsynced_ = fail && lose_unsynced;
}

void FaultInjectionEnv::SetNoSpaceAfter(uint64_t bytes) {
  MutexLock lock(&mu_);
  space_left_ = bytes;
}

void FaultInjectionEnv::ClearNoSpace() {
  MutexLock lock(&mu_);
  space_left_.reset();
}

void FaultInjectionEnv::SetWriteError(bool fail) {
  MutexLock lock(&mu_);
  write_error_ = fail;
}

void FaultInjectionEnv::SetOpenError(bool fail) {
  MutexLock lock(&mu_);
  open_error_ = fail;
}

void FaultInjectionEnv::SetRenameError(bool fail) {
  MutexLock lock(&mu_);
  rename_error_ = fail;
}

uint64_t FaultInjectionEnv::sync_count() {
  MutexLock lock(&mu_);
  return sync_count_;
}

uint64_t FaultInjectionEnv::failed_sync_count() {
  MutexLock lock(&mu_);
  return failed_sync_count_;
}

uint64_t FaultInjectionEnv::failed_write_count() {
  MutexLock lock(&mu_);
  return failed_write_count_;
}

uint64_t FaultInjectionEnv::bytes_appended() {
  MutexLock lock(&mu_);
  return bytes_appended_;
}

absl::Status FaultInjectionEnv::BeforeAppend(const std::string& path, uint64_t n,
                                             uint64_t* allowed) {
  MutexLock lock(&mu_);
  *allowed = n;
  if (write_error_) {
    *allowed = 0;
    ++failed_write_count_;
    return IoError("write", path, EIO);
  }
  if (space_left_.has_value() && *space_left_ < n) {
    *allowed = *space_left_;
    *space_left_ = 0;
    ++failed_write_count_;
    return IoError("write", path, ENOSPC);
  }
  if (space_left_.has_value()) *space_left_ -= n;
  return absl::OkStatus();
}

void FaultInjectionEnv::AfterAppend(const std::string& path, uint64_t written) {
  MutexLock lock(&mu_);
  bytes_appended_ += written;
  tracked_[path].size += written;
}

absl::Status FaultInjectionEnv::BeforeSync(const std::string& path, uint64_t* size) {
  MutexLock lock(&mu_);
  Tracked& tracked = tracked_[path];
  *size = tracked.size;
  if (!sync_error_) return absl::OkStatus();
  ++failed_sync_count_;
  if (lose_unsynced_ && tracked.size > tracked.synced) {
    // The kernel marked the dirty pages clean without writing them: they are gone. Best effort.
    if (base_->Truncate(path, tracked.synced).ok()) tracked.size = tracked.synced;
  }
  return IoError("sync", path, EIO);
}

void FaultInjectionEnv::AfterSync(const std::string& path, uint64_t size) {
  MutexLock lock(&mu_);
  ++sync_count_;
  Tracked& tracked = tracked_[path];
  tracked.synced = std::max(tracked.synced, std::min(size, tracked.size));
}

absl::StatusOr<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(
    const std::string& path, bool append) {
  {
    MutexLock lock(&mu_);
    if (open_error_) return IoError("open", path, EIO);
  }
  absl::StatusOr<std::unique_ptr<WritableFile>> base = base_->NewWritableFile(path, append);
  if (!base.ok()) return base.status();
  uint64_t size = 0;
  if (append) {
    absl::StatusOr<uint64_t> base_size = base_->GetFileSize(path);
    if (!base_size.ok()) return base_size.status();
    size = *base_size;
  }
  {
    MutexLock lock(&mu_);
    tracked_[path] = Tracked{size, size};  // what was there before counts as durable
  }
  return std::make_unique<File>(this, path, *std::move(base));
}

absl::StatusOr<std::unique_ptr<SequentialFile>> FaultInjectionEnv::NewSequentialFile(
    const std::string& path) {
  {
    MutexLock lock(&mu_);
    if (open_error_) return IoError("open", path, EIO);
  }
  return base_->NewSequentialFile(path);
}

bool FaultInjectionEnv::FileExists(const std::string& path) { return base_->FileExists(path); }

absl::StatusOr<uint64_t> FaultInjectionEnv::GetFileSize(const std::string& path) {
  return base_->GetFileSize(path);
}

absl::Status FaultInjectionEnv::Truncate(const std::string& path, uint64_t size) {
  absl::Status status = base_->Truncate(path, size);
  if (status.ok()) {
    MutexLock lock(&mu_);
    auto it = tracked_.find(path);
    if (it != tracked_.end()) it->second = Tracked{size, size};
  }
  return status;
}

absl::Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  {
    MutexLock lock(&mu_);
    if (rename_error_) return IoError("rename", from, EIO);
  }
  absl::Status status = base_->RenameFile(from, to);
  if (status.ok()) {
    MutexLock lock(&mu_);
    auto it = tracked_.find(from);
    if (it != tracked_.end()) {
      tracked_[to] = it->second;
      tracked_.erase(from);
    }
  }
  return status;
}

absl::Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  absl::Status status = base_->RemoveFile(path);
  if (status.ok()) {
    MutexLock lock(&mu_);
    tracked_.erase(path);
  }
  return status;
}

absl::Status FaultInjectionEnv::CreateDirs(const std::string& path) {
  return base_->CreateDirs(path);
}

absl::Status FaultInjectionEnv::SyncDir(const std::string& path) { return base_->SyncDir(path); }

absl::StatusOr<std::vector<std::string>> FaultInjectionEnv::GetChildren(const std::string& path) {
  return base_->GetChildren(path);
}

}  // namespace activekv::persistence
