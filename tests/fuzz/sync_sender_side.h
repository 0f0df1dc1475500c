// The sending half of sync_message_fuzz (docs/fuzzing.md): syncer::SyncerCore over a fixed
// replication log, fed peers' PullRequest bytes the way Replicator::Outgoing::Handle feeds it,
// every message it answers with checked. Region "a" of database "db", peers "b" and "c".
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "activekv/v1/op.pb.h"
#include "syncer/syncer_core.h"

namespace activekv::fuzz {

inline constexpr char kSyncDatabase[] = "db";
inline constexpr char kSyncLocal[] = "a";
inline const std::string kSyncPeers[2] = {"b", "c"};

class SenderSide {
 public:
  // What a peer says it fsynced (PullRequest.synced): the keyspace's ObservePeerApplied.
  using ObserveSynced = std::function<void(
      const std::string& peer, const google::protobuf::RepeatedPtrField<v1::VersionEntry>&)>;

  // `short_log`: the log keeps its last 5 ops only; `hole`: c's ops up to 7 arrived in a
  // snapshot, so the log no longer serves c's ops.
  SenderSide(bool short_log, bool hole, ObserveSynced observe);

  // A PullRequest's bytes on incoming stream `stream` (0 or 1): the stream's first is its
  // hello, later ones acks. Then the stream is pumped.
  void Request(size_t stream, std::string_view bytes, int64_t now);
  // Incoming stream `stream` ends (OnDisconnect); a new one takes its place.
  void StreamEnds(size_t stream);
  // Ops up to log position `lsn` are durable now; pumps stream `stream`.
  void Durable(uint64_t lsn, size_t stream);

 private:
  struct Incoming {
    bool open = true;
    std::string peer;  // named by the hello
    int sent_since_ack = 0;
    int snapshots = 0;  // kSnapshot answers so far
  };
  // Polls until the core has nothing to send, checking every batch.
  void Pump(size_t stream);

  const syncer::ReplicationLog& log_;
  const syncer::NamedVV& everything_;  // what the log was built from
  syncer::SyncerCore core_;
  ObserveSynced observe_;
  Incoming incoming_[2];
  uint64_t durable_ = 3;
};

}  // namespace activekv::fuzz
