#include "persistence/env.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"

namespace activekv::persistence {
namespace {

// Unbuffered: Append is write(2), so Flush has nothing to do and Sync (fdatasync) may run on
// another thread while this one appends.
class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  absl::Status Append(std::string_view data) override {
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return IoError("write", path_, errno);
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    return absl::OkStatus();
  }

  absl::Status Flush() override { return absl::OkStatus(); }

  absl::Status Sync() override {
    if (::fdatasync(fd_) != 0) return IoError("sync", path_, errno);
    return absl::OkStatus();
  }

  absl::Status Close() override {
    int fd = std::exchange(fd_, -1);
    if (fd >= 0 && ::close(fd) != 0) return IoError("close", path_, errno);
    return absl::OkStatus();
  }

 private:
  const std::string path_;
  int fd_;
};

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixSequentialFile() override { ::close(fd_); }

  absl::Status Read(size_t n, std::string_view* result, char* scratch) override {
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::read(fd_, scratch + got, n - got);
      if (r < 0) {
        if (errno == EINTR) continue;
        *result = {};
        return IoError("read", path_, errno);
      }
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    *result = std::string_view(scratch, got);
    return absl::OkStatus();
  }

  absl::Status Skip(uint64_t n) override {
    if (::lseek(fd_, static_cast<off_t>(n), SEEK_CUR) == static_cast<off_t>(-1)) {
      return IoError("seek", path_, errno);
    }
    return absl::OkStatus();
  }

 private:
  const std::string path_;
  const int fd_;
};

class PosixEnv final : public Env {
 public:
  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                                bool append) override {
    int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (append ? 0 : O_TRUNC);
    int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) return IoError("open", path, errno);
    return std::make_unique<PosixWritableFile>(path, fd);
  }

  absl::StatusOr<std::unique_ptr<SequentialFile>> NewSequentialFile(
      const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return IoError("open", path, errno);
    return std::make_unique<PosixSequentialFile>(path, fd);
  }

  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  absl::StatusOr<uint64_t> GetFileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return IoError("stat", path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  absl::Status Truncate(const std::string& path, uint64_t size) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return IoError("open", path, errno);
    absl::Status status;
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
      status = IoError("truncate", path, errno);
    } else if (::fsync(fd) != 0) {
      status = IoError("sync", path, errno);
    }
    ::close(fd);
    return status;
  }

  absl::Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return IoError(absl::StrCat("rename ", from, " to"), to, errno);
    }
    return absl::OkStatus();
  }

  absl::Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return IoError("remove", path, errno);
    return absl::OkStatus();
  }

  absl::Status CreateDirs(const std::string& path) override {
    if (path.empty()) return absl::OkStatus();
    // Create every prefix ending before a '/', then the path itself.
    for (size_t pos = path.find('/', 1);; pos = path.find('/', pos + 1)) {
      std::string prefix = path.substr(0, pos);
      if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
        return IoError("mkdir", prefix, errno);
      }
      if (pos == std::string::npos) break;
    }
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return IoError("stat", path, errno);
    if (!S_ISDIR(st.st_mode)) return IoError("mkdir", path, ENOTDIR);
    return absl::OkStatus();
  }

  absl::Status SyncDir(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return IoError("open", path, errno);
    absl::Status status;
    if (::fsync(fd) != 0) status = IoError("sync", path, errno);
    ::close(fd);
    return status;
  }

  absl::StatusOr<std::vector<std::string>> GetChildren(const std::string& path) override {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return IoError("opendir", path, errno);
    std::vector<std::string> names;
    while (struct dirent* entry = ::readdir(dir)) {
      std::string_view name = entry->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    ::closedir(dir);
    return names;
  }
};

}  // namespace

Env* Env::Default() {
  static Env* const env = new PosixEnv();
  return env;
}

absl::Status IoError(std::string_view op, const std::string& path, int error_number) {
  return absl::ErrnoToStatus(error_number,
                             absl::StrCat(absl::string_view(op.data(), op.size()), " ", path));
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::StatusOr<std::string> ReadFileToString(Env* env, const std::string& path) {
  absl::StatusOr<std::unique_ptr<SequentialFile>> file = env->NewSequentialFile(path);
  if (!file.ok()) return file.status();
  std::string data;
  constexpr size_t kChunk = size_t{64} << 10;
  std::string scratch(kChunk, '\0');
  while (true) {
    std::string_view chunk;
    absl::Status status = (*file)->Read(kChunk, &chunk, scratch.data());
    if (!status.ok()) return status;
    if (chunk.empty()) break;
    data.append(chunk);
  }
  return data;
}

absl::Status WriteStringToFile(Env* env, std::string_view data, const std::string& path,
                               bool sync) {
  absl::StatusOr<std::unique_ptr<WritableFile>> file = env->NewWritableFile(path, false);
  if (!file.ok()) return file.status();
  absl::Status status = (*file)->Append(data);
  if (status.ok()) status = (*file)->Flush();
  if (status.ok() && sync) status = (*file)->Sync();
  absl::Status close_status = (*file)->Close();
  return status.ok() ? close_status : status;
}

absl::Status CopyFileDurably(Env* env, const std::string& from, const std::string& to) {
  absl::StatusOr<std::unique_ptr<SequentialFile>> in = env->NewSequentialFile(from);
  if (!in.ok()) return in.status();
  const std::string tmp = to + ".tmp";
  absl::StatusOr<std::unique_ptr<WritableFile>> out = env->NewWritableFile(tmp, false);
  if (!out.ok()) return out.status();
  constexpr size_t kPiece = 1 << 20;
  std::unique_ptr<char[]> scratch(new char[kPiece]);
  absl::Status status;
  while (status.ok()) {
    std::string_view piece;
    status = (*in)->Read(kPiece, &piece, scratch.get());
    if (!status.ok() || piece.empty()) break;
    status = (*out)->Append(piece);
  }
  if (status.ok()) status = (*out)->Flush();
  if (status.ok()) status = (*out)->Sync();
  absl::Status closed = (*out)->Close();
  if (status.ok()) status = closed;
  if (status.ok()) status = env->RenameFile(tmp, to);
  if (status.ok()) status = env->SyncDir(DirName(to));
  if (!status.ok()) env->RemoveFile(tmp).IgnoreError();
  return status;
}

}  // namespace activekv::persistence
