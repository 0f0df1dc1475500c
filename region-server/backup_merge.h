// `activekvctl restore --merge`, the region's side (docs/crdt-semantics.md, "Restore --merge"):
// merges a backup's snapshot into the live region as new local writes, one unit per key, through
// the ordinary command path (so the AOF, the peers, WATCH, blocked clients and keyspace
// notifications see ordinary writes). The backup is read a chunk at a time: memory stays
// bounded by one chunk, whatever the backup's size.
//
// Event-loop thread only.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "activekv/v1/snapshot.pb.h"
#include "activekv/v1/status.pb.h"
#include "crdt/keyspace.h"
#include "crdt/region_table.h"
#include "region-server/server.h"

namespace activekv::server {

class BackupMerge {
 public:
  // `backup_id` names the backup in the log.
  BackupMerge(Server* server, std::string backup_id);

  // The snapshot's next chunk (the first has `first`, the last `last`). Writes each of its keys
  // as one unit. InvalidArgument for a malformed or out-of-order chunk (keys before it stay
  // merged); the region's own error (-MISCONF, -TRYAGAIN, -OOM ...) when it refuses writes.
  absl::Status Add(const v1::Snapshot& chunk);
  // True once the last chunk was merged.
  bool done() const { return done_; }
  // The LSN of the merge's last write (0: none): the reply waits until it is durable.
  uint64_t lsn() const { return lsn_; }
  const v1::ImportReply& counts() const { return counts_; }

 private:
  // Runs `args` as the merge's client; the reply's error line (without '-' and CRLF), or "".
  std::string Run(const std::vector<std::string>& args);
  absl::Status MergeFunctions(const v1::Snapshot& first);
  absl::Status MergeKey(const v1::KeyState& state, const std::vector<crdt::RegionId>& dict);
  // After a unit's commands: commits them and serves clients its pushes woke.
  void Commit();

  Server* server_;
  std::string backup_id_;
  Client client_;
  crdt::RegionTable regions_;  // the backup's region names
  // Physical namespace in the backup -> its logical database (the inverse of its SWAPDB map).
  std::array<uint32_t, crdt::kDatabases> db_of_ns_{};
  bool started_ = false;
  bool done_ = false;
  uint64_t lsn_ = 0;
  v1::ImportReply counts_;
};

}  // namespace activekv::server
