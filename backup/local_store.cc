#include "backup/local_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace activekv::backup {
namespace {

constexpr absl::string_view kTmpPrefix = ".akv-tmp-";
constexpr size_t kReadChunk = size_t{256} * 1024;

absl::Status ErrnoStatus(int err, absl::string_view what, const std::string& path) {
  const std::string msg = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(msg);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(msg);
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

std::string Dirname(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

absl::Status MkdirAll(const std::string& dir) {
  struct stat st;
  if (stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(dir, " exists and is not a directory"));
  }
  if (dir != "/" && dir != ".") {
    if (absl::Status s = MkdirAll(Dirname(dir)); !s.ok()) return s;
  }
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return ErrnoStatus(errno, "mkdir", dir);
  return absl::OkStatus();
}

absl::Status FsyncPath(const std::string& path, int flags) {
  const int fd = open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  const int rc = fsync(fd);
  const int err = errno;
  close(fd);
  if (rc != 0) return ErrnoStatus(err, "fsync", path);
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status Walk(const std::string& dir, const std::string& rel, const std::string& prefix,
                  std::vector<ObjectInfo>* out) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return ErrnoStatus(errno, "opendir", dir);
  absl::Status status;
  while (struct dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == ".." || absl::StartsWith(name, kTmpPrefix)) continue;
    const std::string path = absl::StrCat(dir, "/", name);
    const std::string key = rel.empty() ? name : absl::StrCat(rel, "/", name);
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;  // removed while listing
      status = ErrnoStatus(errno, "stat", path);
      break;
    }
    if (S_ISDIR(st.st_mode)) {
      // Descend only where a key with this prefix can be.
      const std::string as_dir = key + "/";
      if (absl::StartsWith(as_dir, prefix) || absl::StartsWith(prefix, as_dir)) {
        status = Walk(path, key, prefix, out);
        if (!status.ok()) break;
      }
    } else if (S_ISREG(st.st_mode) && absl::StartsWith(key, prefix)) {
      out->push_back(ObjectInfo{key, static_cast<uint64_t>(st.st_size)});
    }
  }
  closedir(d);
  return status;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LocalStore>> LocalStore::Open(const std::string& root) {
  if (root.empty()) return absl::InvalidArgumentError("local backup directory is empty");
  if (absl::Status s = MkdirAll(root); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("backup directory ", root, ": ", s.message()));
  }
  return std::unique_ptr<LocalStore>(new LocalStore(root));
}

absl::Status LocalStore::Put(const std::string& key, std::string_view data) {
  return PutStream(key, SingleChunk(data), /*progress=*/nullptr);
}

absl::Status LocalStore::PutStream(const std::string& key, const Source& source,
                                   const Progress& progress) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  const std::string path = absl::StrCat(root_, "/", key);
  const std::string dir = Dirname(path);
  if (absl::Status s = MkdirAll(dir); !s.ok()) return s;
  const std::string tmp = absl::StrCat(dir, "/", kTmpPrefix, getpid(), "-", tmp_counter_++, "-",
                                       path.substr(path.rfind('/') + 1));
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, "create", tmp);
  absl::Status status;
  uint64_t done = 0;
  while (true) {
    absl::StatusOr<std::string_view> chunk = source();
    if (!chunk.ok()) {
      status = chunk.status();
      break;
    }
    if (chunk->empty()) break;
    status = WriteAll(fd, *chunk, tmp);
    if (!status.ok()) break;
    done += chunk->size();
    if (progress) progress(done);
  }
  if (status.ok() && fsync(fd) != 0) status = ErrnoStatus(errno, "fsync", tmp);
  if (close(fd) != 0 && status.ok()) status = ErrnoStatus(errno, "close", tmp);
  if (status.ok() && rename(tmp.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus(errno, "rename to", path);
  }
  if (!status.ok()) {
    unlink(tmp.c_str());
    return status;
  }
  return FsyncPath(dir, O_RDONLY | O_DIRECTORY);
}

absl::Status LocalStore::Get(const std::string& key, const Sink& sink) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  const std::string path = absl::StrCat(root_, "/", key);
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  std::string buf(kReadChunk, '\0');
  absl::Status status;
  while (true) {
    const ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      status = ErrnoStatus(errno, "read", path);
      break;
    }
    if (n == 0) break;
    status = sink(std::string_view(buf.data(), static_cast<size_t>(n)));
    if (!status.ok()) break;
  }
  close(fd);
  return status;
}

absl::StatusOr<std::vector<ObjectInfo>> LocalStore::List(const std::string& prefix) {
  std::vector<ObjectInfo> out;
  if (absl::Status s = Walk(root_, "", prefix, &out); !s.ok()) return s;
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

absl::Status LocalStore::Delete(const std::string& key) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  const std::string path = absl::StrCat(root_, "/", key);
  if (unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoStatus(errno, "unlink", path);
  }
  std::string dir = Dirname(path);
  // Remove the directories the key leaves empty; rmdir fails (harmlessly) on a non-empty one.
  while (dir.size() > root_.size() && rmdir(dir.c_str()) == 0) dir = Dirname(dir);
  return FsyncPath(dir, O_RDONLY | O_DIRECTORY);
}

}  // namespace activekv::backup
