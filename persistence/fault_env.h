// FaultInjectionEnv: wraps any Env and injects I/O failures that can be switched on and off at
// runtime (like LevelDB's ErrorEnv / FaultInjectionTestEnv), so tests reproduce a full disk, a
// failing fsync or an unopenable file deterministically.
//
// Faults (all off initially):
//   - SetSyncError: WritableFile::Sync fails with EIO ("sync <path>: Input/output error"). With
//     `lose_unsynced` the failed sync also drops the bytes written since the file's last good sync
//     (what the kernel may do to dirty pages after a writeback error), via base->Truncate.
//   - SetNoSpaceAfter(n): the next `n` bytes appended (over all files) succeed, then writes fail
//     with ENOSPC. A write that does not fit is short: the prefix that fits is written, then the
//     error is returned. ClearNoSpace() gives the space back.
//   - SetWriteError: every Append fails with EIO and writes nothing.
//   - SetOpenError: NewWritableFile / NewSequentialFile fail with EIO.
//   - SetRenameError: RenameFile fails with EIO and renames nothing.
// Env::Truncate and the other metadata calls pass through unchanged.
//
// Thread-safety: like every Env, fully thread-safe. The base Env must outlive this one and every
// file it opened.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "persistence/env.h"
#include "persistence/mutex.h"

namespace activekv::persistence {

class FaultInjectionEnv final : public Env {
 public:
  explicit FaultInjectionEnv(Env* base);
  ~FaultInjectionEnv() override;

  void SetSyncError(bool fail, bool lose_unsynced = false);
  void SetNoSpaceAfter(uint64_t bytes);
  void ClearNoSpace();
  void SetWriteError(bool fail);
  void SetOpenError(bool fail);
  void SetRenameError(bool fail);

  // Counters since construction.
  uint64_t sync_count();          // successful WritableFile::Sync calls
  uint64_t failed_sync_count();   // injected Sync failures
  uint64_t failed_write_count();  // injected Append failures (ENOSPC or EIO)
  uint64_t bytes_appended();      // bytes that reached the base files

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                                bool append) override;
  absl::StatusOr<std::unique_ptr<SequentialFile>> NewSequentialFile(
      const std::string& path) override;
  bool FileExists(const std::string& path) override;
  absl::StatusOr<uint64_t> GetFileSize(const std::string& path) override;
  absl::Status Truncate(const std::string& path, uint64_t size) override;
  absl::Status RenameFile(const std::string& from, const std::string& to) override;
  absl::Status RemoveFile(const std::string& path) override;
  absl::Status CreateDirs(const std::string& path) override;
  absl::Status SyncDir(const std::string& path) override;
  absl::StatusOr<std::vector<std::string>> GetChildren(const std::string& path) override;

 private:
  class File;
  friend class File;

  // Called by File. `*allowed` receives how many bytes of an n-byte append may be written.
  absl::Status BeforeAppend(const std::string& path, uint64_t n, uint64_t* allowed);
  void AfterAppend(const std::string& path, uint64_t written);
  // Returns the injected error, or OK to let the base Sync run; `*size` receives the file size the
  // sync covers, for AfterSync.
  absl::Status BeforeSync(const std::string& path, uint64_t* size);
  void AfterSync(const std::string& path, uint64_t size);

  // What this env knows about a file written through it, for `lose_unsynced`.
  struct Tracked {
    uint64_t size = 0;
    uint64_t synced = 0;
  };

  Env* const base_;
  Mutex mu_;
  bool sync_error_ ABSL_GUARDED_BY(mu_) = false;
  bool lose_unsynced_ ABSL_GUARDED_BY(mu_) = false;
  bool write_error_ ABSL_GUARDED_BY(mu_) = false;
  bool open_error_ ABSL_GUARDED_BY(mu_) = false;
  bool rename_error_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<uint64_t> space_left_ ABSL_GUARDED_BY(mu_);
  uint64_t sync_count_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t failed_sync_count_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t failed_write_count_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t bytes_appended_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, Tracked> tracked_ ABSL_GUARDED_BY(mu_);
};

}  // namespace activekv::persistence
