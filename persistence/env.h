// File-system abstraction of the persistence layer (modelled on LevelDB's Env).
//
// Everything that touches files goes through an Env so tests can swap in an in-memory file system
// (mem_env.h) or wrap any Env with fault injection (fault_env.h). Env::Default() is the POSIX one.
//
// Errors carry the errno text and the operation, e.g.
//   RESOURCE_EXHAUSTED: write data/appendonly.aof: No space left on device
// The code follows absl::ErrnoToStatus: ENOSPC/EDQUOT -> ResourceExhausted, ENOENT -> NotFound,
// EACCES/EPERM/EROFS -> PermissionDenied, EIO -> Unknown, ...
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace activekv::persistence {

// A file opened for appending. Every Append goes to the current end of the file (O_APPEND
// semantics), so truncating the file through Env::Truncate while it is open is well defined: the
// next Append continues at the new end.
//
// Thread-safety: Append, Flush and Close must not run concurrently with each other. Sync may run on
// another thread concurrently with Append/Flush; it covers at least every byte whose Flush returned
// before Sync was called.
class WritableFile {
 public:
  WritableFile() = default;
  WritableFile(const WritableFile&) = delete;
  WritableFile& operator=(const WritableFile&) = delete;
  virtual ~WritableFile() = default;  // closes the file if Close was not called (errors ignored)

  // Hands `data` to the file. Implementations may buffer in user space until Flush. On error the
  // file holds an unspecified prefix of the bytes appended since the last successful Flush (a short
  // write): callers that must not leave a partial record truncate back to a known offset.
  virtual absl::Status Append(std::string_view data) = 0;
  // Pushes buffered bytes to the OS (write(2)). After it returns OK they survive a process crash.
  virtual absl::Status Flush() = 0;
  // Makes every flushed byte durable (fdatasync(2)): they survive a power loss. Does not flush a
  // user-space buffer. After a failed Sync the state of unsynced bytes is unknown ("fsyncgate"):
  // rewrite them before trusting a later Sync.
  virtual absl::Status Sync() = 0;
  // Flushes and closes. Further calls other than the destructor are invalid.
  virtual absl::Status Close() = 0;
};

// A file read from start to end. Not thread-safe.
class SequentialFile {
 public:
  SequentialFile() = default;
  SequentialFile(const SequentialFile&) = delete;
  SequentialFile& operator=(const SequentialFile&) = delete;
  virtual ~SequentialFile() = default;

  // Reads up to `n` bytes. `*result` points into `scratch` (which must hold `n` bytes) or into
  // memory owned by the file that stays valid until the next call. A short or empty result with an
  // OK status means end of file.
  virtual absl::Status Read(size_t n, std::string_view* result, char* scratch) = 0;
  // Skips `n` bytes (stops at end of file without error).
  virtual absl::Status Skip(uint64_t n) = 0;
};

// Thread-safety: every method of every Env shipped here may be called from any thread.
class Env {
 public:
  Env() = default;
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;
  virtual ~Env() = default;

  // The POSIX file system. Never deleted.
  static Env* Default();

  // Opens `path` for writing, creating it if needed. `append` keeps the existing content, otherwise
  // the file is truncated to zero bytes.
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                                        bool append) = 0;
  virtual absl::StatusOr<std::unique_ptr<SequentialFile>> NewSequentialFile(
      const std::string& path) = 0;

  virtual bool FileExists(const std::string& path) = 0;
  virtual absl::StatusOr<uint64_t> GetFileSize(const std::string& path) = 0;
  // Sets the size of `path` (shrinks it, or extends it with zero bytes) and makes the new size and
  // content durable before returning.
  virtual absl::Status Truncate(const std::string& path, uint64_t size) = 0;
  // Atomically replaces `to` with `from`. Call SyncDir on the folder to make it durable.
  virtual absl::Status RenameFile(const std::string& from, const std::string& to) = 0;
  virtual absl::Status RemoveFile(const std::string& path) = 0;
  // Like `mkdir -p`: OK if the folder already exists.
  virtual absl::Status CreateDirs(const std::string& path) = 0;
  // Makes the folder's entries (created, renamed, removed files) durable.
  virtual absl::Status SyncDir(const std::string& path) = 0;
  // Names (not paths) of the entries of folder `path`, without "." and "..", in no given order.
  virtual absl::StatusOr<std::vector<std::string>> GetChildren(const std::string& path) = 0;
};

// Convenience helpers built on any Env.
absl::StatusOr<std::string> ReadFileToString(Env* env, const std::string& path);
// Replaces the content of `path` with `data`; fsyncs it when `sync`.
absl::Status WriteStringToFile(Env* env, std::string_view data, const std::string& path, bool sync);
// Copies `from` to `to` so that a crash leaves either no `to` or all of it: writes `to`.tmp,
// fsyncs it, renames it over `to` and fsyncs the folder. A leftover `to`.tmp is replaced.
absl::Status CopyFileDurably(Env* env, const std::string& from, const std::string& to);
// The folder part of `path` ("." when there is none), for SyncDir.
std::string DirName(const std::string& path);
// The status for a failed call: "<op> <path>: <strerror(error_number)>" with the code
// absl::ErrnoToStatusCode gives (ENOSPC -> ResourceExhausted).
absl::Status IoError(std::string_view op, const std::string& path, int error_number);

}  // namespace activekv::persistence
