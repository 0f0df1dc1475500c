#include "persistence/mem_env.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace activekv::persistence {

struct MemEnv::FileState {
  Mutex mu;
  std::string data ABSL_GUARDED_BY(mu);
  uint64_t synced ABSL_GUARDED_BY(mu) = 0;  // data[0, synced) survives DropUnsyncedData
};

namespace {

using FileState = MemEnv::FileState;

class MemWritableFile final : public WritableFile {
 public:
  MemWritableFile(std::shared_ptr<FileState> file,
                  std::shared_ptr<std::atomic<uint64_t>> sync_count)
      : file_(std::move(file)), sync_count_(std::move(sync_count)) {}

  absl::Status Append(std::string_view data) override {
    MutexLock lock(&file_->mu);
    file_->data.append(data);
    return absl::OkStatus();
  }
  absl::Status Flush() override { return absl::OkStatus(); }
  absl::Status Sync() override {
    MutexLock lock(&file_->mu);
    file_->synced = file_->data.size();
    sync_count_->fetch_add(1, std::memory_order_relaxed);
    return absl::OkStatus();
  }
  absl::Status Close() override { return absl::OkStatus(); }

 private:
  const std::shared_ptr<FileState> file_;
  const std::shared_ptr<std::atomic<uint64_t>> sync_count_;
};

class MemSequentialFile final : public SequentialFile {
 public:
  explicit MemSequentialFile(std::shared_ptr<FileState> file) : file_(std::move(file)) {}

  absl::Status Read(size_t n, std::string_view* result, char* scratch) override {
    MutexLock lock(&file_->mu);
    size_t size = file_->data.size();
    size_t count = std::min<uint64_t>(n, pos_ < size ? size - pos_ : 0);
    if (count > 0) std::memcpy(scratch, file_->data.data() + pos_, count);
    pos_ += count;
    *result = std::string_view(scratch, count);
    return absl::OkStatus();
  }

  absl::Status Skip(uint64_t n) override {
    MutexLock lock(&file_->mu);
    pos_ = std::min<uint64_t>(pos_ + n, file_->data.size());
    return absl::OkStatus();
  }

 private:
  const std::shared_ptr<FileState> file_;
  uint64_t pos_ = 0;
};

std::string StripTrailingSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

}  // namespace

MemEnv::MemEnv() : sync_count_(std::make_shared<std::atomic<uint64_t>>(0)) {}
MemEnv::~MemEnv() = default;

absl::StatusOr<std::unique_ptr<WritableFile>> MemEnv::NewWritableFile(const std::string& path,
                                                                      bool append) {
  MutexLock lock(&mu_);
  if (dirs_.count(StripTrailingSlashes(path)) > 0) return IoError("open", path, EISDIR);
  std::shared_ptr<FileState>& file = files_[path];
  if (file == nullptr) {
    file = std::make_shared<FileState>();
  } else if (!append) {
    // O_TRUNC: the old bytes are gone even after a power loss (we treat truncation as durable).
    MutexLock file_lock(&file->mu);
    file->data.clear();
    file->synced = 0;
  }
  return std::make_unique<MemWritableFile>(file, sync_count_);
}

absl::StatusOr<std::unique_ptr<SequentialFile>> MemEnv::NewSequentialFile(const std::string& path) {
  MutexLock lock(&mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return IoError("open", path, ENOENT);
  return std::make_unique<MemSequentialFile>(it->second);
}

bool MemEnv::FileExists(const std::string& path) {
  MutexLock lock(&mu_);
  if (files_.count(path) > 0) return true;
  std::string dir = StripTrailingSlashes(path);
  if (dirs_.count(dir) > 0) return true;
  // A folder implied by a file in it.
  std::string prefix = dir + "/";
  auto it = files_.lower_bound(prefix);
  return it != files_.end() && absl::StartsWith(it->first, prefix);
}

absl::StatusOr<uint64_t> MemEnv::GetFileSize(const std::string& path) {
  MutexLock lock(&mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return IoError("stat", path, ENOENT);
  MutexLock file_lock(&it->second->mu);
  return it->second->data.size();
}

absl::Status MemEnv::Truncate(const std::string& path, uint64_t size) {
  MutexLock lock(&mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return IoError("open", path, ENOENT);
  FileState& file = *it->second;
  MutexLock file_lock(&file.mu);
  file.data.resize(size, '\0');
  file.synced = size;  // Env::Truncate is durable
  return absl::OkStatus();
}

absl::Status MemEnv::RenameFile(const std::string& from, const std::string& to) {
  MutexLock lock(&mu_);
  auto it = files_.find(from);
  if (it == files_.end()) return IoError(absl::StrCat("rename ", from, " to"), to, ENOENT);
  std::shared_ptr<FileState> file = std::move(it->second);
  files_.erase(it);
  files_[to] = std::move(file);
  return absl::OkStatus();
}

absl::Status MemEnv::RemoveFile(const std::string& path) {
  MutexLock lock(&mu_);
  if (files_.erase(path) == 0) return IoError("remove", path, ENOENT);
  return absl::OkStatus();
}

absl::Status MemEnv::CreateDirs(const std::string& path) {
  MutexLock lock(&mu_);
  std::string dir = StripTrailingSlashes(path);
  if (files_.count(dir) > 0) return IoError("mkdir", dir, ENOTDIR);
  for (size_t pos = dir.find('/', 1); pos != std::string::npos; pos = dir.find('/', pos + 1)) {
    dirs_.insert(dir.substr(0, pos));
  }
  dirs_.insert(dir);
  return absl::OkStatus();
}

absl::Status MemEnv::SyncDir(const std::string& path) {
  if (path == "." || path == "/" || FileExists(path)) return absl::OkStatus();
  return IoError("open", path, ENOENT);
}

absl::StatusOr<std::vector<std::string>> MemEnv::GetChildren(const std::string& path) {
  std::string dir = StripTrailingSlashes(path);
  if (dir != "." && dir != "/" && !FileExists(dir)) return IoError("opendir", path, ENOENT);
  std::string prefix = dir == "." ? "" : (dir == "/" ? "/" : dir + "/");
  MutexLock lock(&mu_);
  std::set<std::string> names;
  auto add_child = [&](const std::string& entry) {
    if (!absl::StartsWith(entry, prefix) || entry.size() == prefix.size()) return;
    std::string rest = entry.substr(prefix.size());
    if (prefix.empty() && rest[0] == '/') return;  // absolute path, not under "."
    names.insert(rest.substr(0, rest.find('/')));  // a file, or the first folder on its way
  };
  for (const auto& [name, file] : files_) add_child(name);
  for (const std::string& name : dirs_) add_child(name);
  return std::vector<std::string>(names.begin(), names.end());
}

void MemEnv::DropUnsyncedData() {
  MutexLock lock(&mu_);
  for (auto& [name, file] : files_) {
    MutexLock file_lock(&file->mu);
    file->data.resize(file->synced);
  }
}

absl::StatusOr<uint64_t> MemEnv::GetSyncedSize(const std::string& path) {
  MutexLock lock(&mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return IoError("stat", path, ENOENT);
  MutexLock file_lock(&it->second->mu);
  return it->second->synced;
}

uint64_t MemEnv::sync_count() { return sync_count_->load(std::memory_order_relaxed); }

}  // namespace activekv::persistence
