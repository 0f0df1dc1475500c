#include "backup/writer.h"

#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace activekv::backup {

absl::StatusOr<Manifest> WriteBackup(ObjectStore& store, Manifest m, const Source& source,
                                     const Progress& progress, int64_t now_unix_ms) {
  Sha256 sha;
  uint64_t size = 0;
  Source hashed = [&]() -> absl::StatusOr<std::string_view> {
    absl::StatusOr<std::string_view> piece = source();
    if (piece.ok()) {
      sha.Update(*piece);
      size += piece->size();
    }
    return piece;
  };
  const std::string snapshot_key = absl::StrCat(m.id, "/", kSnapshotName);
  absl::Status s = store.PutStream(snapshot_key, hashed, progress);
  if (!s.ok()) return s;
  m.objects.clear();
  m.objects.push_back({kSnapshotName, size, sha.HexDigest()});
  m.created_unix_ms = now_unix_ms;
  s = store.Put(absl::StrCat(m.id, "/", kManifestName), ManifestToYaml(m));
  if (!s.ok()) return s;
  return m;
}

absl::StatusOr<int> PruneBackups(ObjectStore& store, const std::string& database,
                                 const std::string& region, int64_t keep) {
  if (keep <= 0) return 0;
  const std::string prefix = absl::StrCat(database, "/", region, "/");
  absl::StatusOr<std::vector<ObjectInfo>> objects = store.List(prefix);
  if (!objects.ok()) return objects.status();
  // Complete backups, by id; ids end in their UTC time, so they sort oldest first.
  std::vector<std::string> complete;
  for (const ObjectInfo& o : *objects) {
    if (absl::EndsWith(o.key, absl::StrCat("/", kManifestName))) {
      complete.push_back(o.key.substr(0, o.key.size() - sizeof(kManifestName)));
    }
  }
  std::sort(complete.begin(), complete.end());
  int deleted = 0;
  for (size_t i = 0; i + static_cast<size_t>(keep) < complete.size(); ++i) {
    const std::string& id = complete[i];
    absl::Status s = store.Delete(absl::StrCat(id, "/", kManifestName));
    if (s.ok()) s = store.Delete(absl::StrCat(id, "/", kSnapshotName));
    if (!s.ok()) return s;
    ++deleted;
  }
  return deleted;
}

}  // namespace activekv::backup
