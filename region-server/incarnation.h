#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "persistence/env.h"

namespace activekv::server {

// Which origin a region writes as, and the marker files of its data directory that decide it
// (docs/replication-protocol.md, "Dots after a restart" and "Joining"):
//
//   incarnation     N: the region writes as origin "name~N" (absent or 0: "name"). Bumped by a
//                   start that may lack ops of its own that peers hold, so that no dot is reused.
//   clean-shutdown  written after the final AOF sync of a clean stop; speaks for the next start
//                   only (removed before anything else).
//   joining         a replicated region with no history: until its peers said which ops of its
//                   origins they hold, it makes no op (Region::joining).
//   catching-up     a start that lost state it had announced as synced: until it holds what its
//                   peers held, it makes no op (Region::catching_up). Survives a crash.
//
// Files and decisions only: the caller applies the origin to its keyspace. Every marker write is
// durable (fsynced file and directory) before the decision it records takes effect.
class IncarnationStore {
 public:
  IncarnationStore(persistence::Env* env, std::string dir, std::string name);

  // What this start knows about the history it loads.
  struct Start {
    bool replicated = false;   // the region has peers
    bool has_history = false;  // it loads a non-empty AOF or snapshot
    // That history is the live AOF, which holds every op the region made and announced (a
    // snapshot, or a leftover AOF of an earlier mode, may lack some that peers hold).
    bool complete = false;
    bool fsync_always = false;  // appendfsync always: no written op can be lost
  };
  // Decides this start's incarnation and markers. Call once, before loading anything.
  absl::Status Pick(const Start& start);

  uint64_t incarnation() const { return incarnation_; }
  // "name", or "name~N" for incarnation N > 0 (the plain name while joining).
  std::string origin() const;
  bool joining() const { return joining_; }
  bool catching_up() const { return catching_up_; }

  // The join's incarnation (ReceiverCore: above every one its peers hold, 0 when none) is
  // recorded; a directory that had an incarnation file never takes a number it used. Returns
  // the origin to write as from now on. The region switches to it, then calls JoinDone.
  absl::StatusOr<std::string> RecordJoin(uint64_t incarnation);
  absl::Status JoinDone();
  // The region holds what its peers held: removes the catching-up marker.
  absl::Status FinishCatchUp();
  absl::Status MarkCleanShutdown();

 private:
  absl::Status StartCatchingUp();
  std::string OriginOf(uint64_t incarnation) const;

  persistence::Env* env_;
  std::string dir_;
  std::string name_;
  uint64_t incarnation_ = 0;
  bool had_incarnation_file_ = false;
  bool joining_ = false;
  bool catching_up_ = false;
};

}  // namespace activekv::server
