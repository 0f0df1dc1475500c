// What `activekvctl restore --merge` writes for one key of a backup (docs/crdt-semantics.md,
// "Restore --merge"): the Redis commands that add the backup key's visible value to the live
// region as new local writes. Counters add (INCRBY, HINCRBY, ZINCRBY); every other value is
// written by the command that writes it (SET, HSET, SADD, ZADD, RPUSH, XADD ...), so the
// backup's value is the newest write and collections take the union.
//
// Pure: no I/O, no clock reads, no region state beyond what the caller passes in. The driver
// (region-server/backup_merge.h) runs the commands as one unit per key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crdt/entry.h"
#include "crdt/region_table.h"

namespace activekv::server {

// What the live region holds under the key.
struct LiveKey {
  crdt::ValueType type = crdt::ValueType::kNone;  // kNone: no visible key
  crdt::StreamId stream_last_id;                  // type kStream: the live stream's last id
  // type kStream: the live stream's consumer groups (a group the live stream has is kept).
  std::vector<std::string> stream_groups;
};

struct KeyMergePlan {
  enum class Kind {
    kCreate,    // the live region has no such key: the commands create it, expiry included
    kMerge,     // the live key has the same type: the commands add to it, its expiry stays
    kConflict,  // the live key holds another type: it is kept, nothing is written
    kExpired,   // the backup's key had expired by `now_ms`: nothing is written
  };
  Kind kind = Kind::kConflict;
  std::vector<std::vector<std::string>> commands;
};

// Elements per generated command (a large collection becomes several commands of one unit).
inline constexpr size_t kMergeBatch = 512;

// The commands for backup key `key` whose state is `backup` (its region names in `regions`),
// visible at `now_ms` (unix ms). `backup` must exist (Entry::Exists()).
KeyMergePlan PlanKeyMerge(std::string_view key, const crdt::Entry& backup,
                          const crdt::RegionTable& regions, const LiveKey& live, int64_t now_ms);

}  // namespace activekv::server
