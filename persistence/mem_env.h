// An in-memory Env (like LevelDB's helpers/memenv) for tests, fuzzers and tools.
//
// Every file tracks how many of its bytes are synced (covered by a successful WritableFile::Sync
// or Env::Truncate) and DropUnsyncedData() simulates a power loss: every file loses the bytes after
// its last sync. Folders exist only as names: files may be created in a folder that was never
// created, and folder entries are always durable (SyncDir only checks the folder exists or is
// implied by a file).
//
// Thread-safety: every method, including those of the files it hands out, may be called from any
// thread. Open files keep working after the path is removed or renamed (POSIX semantics).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "persistence/env.h"
#include "persistence/mutex.h"

namespace activekv::persistence {

class MemEnv final : public Env {
 public:
  MemEnv();
  ~MemEnv() override;

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

  // Power loss: every file is cut back to its synced size.
  void DropUnsyncedData();
  // Bytes of `path` a power loss would keep.
  absl::StatusOr<uint64_t> GetSyncedSize(const std::string& path);
  // Number of successful WritableFile::Sync calls on any file so far.
  uint64_t sync_count();

  // Shared state of one file; public only so the file classes in mem_env.cc can name it.
  struct FileState;

 private:
  Mutex mu_;
  std::map<std::string, std::shared_ptr<FileState>> files_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> dirs_ ABSL_GUARDED_BY(mu_);
  const std::shared_ptr<std::atomic<uint64_t>> sync_count_;  // shared with the open files
};

}  // namespace activekv::persistence
