#pragma once

// A backup's layout in its location and its manifest (docs/backup-format.md). A backup is the
// objects under `<id>/`: `snapshot.akv` (the region's snapshot file, docs/aof-format.md) and
// `manifest.yaml`, written last: a backup without its manifest is incomplete and never listed as
// complete. No dependency on the rest of activekv.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace activekv::backup {

inline constexpr int kBackupFormatVersion = 1;
inline constexpr char kManifestName[] = "manifest.yaml";
inline constexpr char kSnapshotName[] = "snapshot.akv";

struct Manifest {
  int format_version = kBackupFormatVersion;
  std::string id;  // "<database>/<region>/<UTC time>", the objects' key prefix
  std::string database;
  std::string region;
  int64_t created_unix_ms = 0;  // when the backup finished
  int64_t saved_unix_ms = 0;    // when the region's snapshot was saved
  // The snapshot's version vector: origin -> ops of that origin it reflects.
  std::vector<std::pair<std::string, uint64_t>> version_vector;
  struct Object {
    std::string name;  // under the backup's id
    uint64_t size = 0;
    std::string sha256;  // lower-case hex
  };
  std::vector<Object> objects;
};

std::string ManifestToYaml(const Manifest& m);
// InvalidArgument naming what is missing or malformed; FailedPrecondition for a format version
// this build does not know.
absl::StatusOr<Manifest> ParseManifest(std::string_view yaml);

// "<database>/<region>/<YYYYMMDDTHHMMSS.mmmZ>" for a backup requested at `unix_ms`.
std::string BackupId(std::string_view database, std::string_view region, int64_t unix_ms);

// Incremental SHA-256 (OpenSSL), for checksums of objects streamed in pieces.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view data);
  std::string HexDigest();  // finishes: call once

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace activekv::backup
