#pragma once

// Writing and pruning backups in a store (docs/backup-format.md): shared by `activekvctl backup
// create` (bytes from the Status.Backup stream) and a region's scheduled backups (bytes from its
// own dump.akv).

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "backup/manifest.h"
#include "backup/object_store.h"

namespace activekv::backup {

// Stores one backup: the snapshot file's bytes from `source` as `<m.id>/snapshot.akv` (hashed and
// counted on the way), then `<m.id>/manifest.yaml`, last. `m` holds everything but `objects`
// and `created_unix_ms`, which this fills. A failed upload leaves no manifest (and, where the
// store allows, no snapshot object): the backup never lists as complete.
absl::StatusOr<Manifest> WriteBackup(ObjectStore& store, Manifest m, const Source& source,
                                     const Progress& progress, int64_t now_unix_ms);

// Deletes all but the `keep` newest complete backups of `database`/`region` (each one's
// manifest first, so a partly deleted backup is incomplete, never half complete). keep 0: none
// deleted. Returns how many were deleted.
absl::StatusOr<int> PruneBackups(ObjectStore& store, const std::string& database,
                                 const std::string& region, int64_t keep);

}  // namespace activekv::backup
