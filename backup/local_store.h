#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "backup/object_store.h"

namespace activekv::backup {

// Objects as files under a root directory; a key "a/b/c" is the file <root>/a/b/c (directories
// created as needed).
//
// Durability: a write goes to a temporary file in the target directory (".akv-tmp-*", never
// listed), is fsynced, renamed over the final name, and the directory is fsynced: after Put
// returns the object survives a crash, and a crash during Put leaves the old object (or none)
// plus at most a stray temporary file. Delete removes the file and then any directories it
// leaves empty (never the root). Not thread-safe.
class LocalStore : public ObjectStore {
 public:
  // Creates `root` (and parents) when missing. FailedPrecondition when it is not a directory.
  static absl::StatusOr<std::unique_ptr<LocalStore>> Open(const std::string& root);

  LocalStore(const LocalStore&) = delete;
  LocalStore& operator=(const LocalStore&) = delete;

  absl::Status Put(const std::string& key, std::string_view data) override;
  absl::Status PutStream(const std::string& key, const Source& source,
                         const Progress& progress) override;
  absl::Status Get(const std::string& key, const Sink& sink) override;
  absl::StatusOr<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  absl::Status Delete(const std::string& key) override;
  std::string Describe() const override { return root_; }

 private:
  explicit LocalStore(std::string root) : root_(std::move(root)) {}

  std::string root_;
  uint64_t tmp_counter_ = 0;
};

}  // namespace activekv::backup
