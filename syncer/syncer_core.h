#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "activekv/v1/op.pb.h"
#include "crdt/keyspace.h"

namespace activekv::syncer {

// A version vector keyed by region name (the wire form; regions are few).
using NamedVV = std::map<std::string, uint64_t, std::less<>>;

// Zero entries are never stored (a missing region means 0), so equal VVs compare equal.
// FromEntries keeps the max when a region repeats; ToEntries replaces `*out`, in name order.
NamedVV FromEntries(const google::protobuf::RepeatedPtrField<v1::VersionEntry>& entries);
void ToEntries(const NamedVV& vv, google::protobuf::RepeatedPtrField<v1::VersionEntry>* out);
NamedVV FromKeyspace(const crdt::Keyspace& ks);
bool Covers(const NamedVV& vv, std::string_view origin, uint64_t seq);
bool CoversAll(const NamedVV& vv, const NamedVV& need);
void MergeInto(NamedVV* into, const NamedVV& from);  // pointwise max

// The wire form of a v1::OpBatch is its ops' serialized bytes, each preceded by the tag of field 1
// and a length: batches are spliced from logged bytes without re-encoding any op.
void AppendOpToBatch(std::string_view op_bytes, std::string* batch);
// The serialized ops of a serialized OpBatch, in order (views into `batch`). False if `batch` is
// not a well-formed sequence of field-1 records (the ops themselves are not parsed).
bool SplitBatch(std::string_view batch, std::vector<std::string_view>* ops);

// Every op this region applied (its own and its peers'), in apply order, each with the AOF LSN
// that covers it here, kept serialized (ready to splice into a batch) in large chunks: appending
// and trimming allocate nothing per op. Each origin's ops appear in seq order (the keyspace
// applies them so). Bounded: past `max_ops`, the oldest are dropped; a peer that still lacks a
// dropped op needs a full resync. Not thread-safe.
class ReplicationLog {
 public:
  explicit ReplicationLog(size_t max_ops) : max_ops_(max_ops) {}

  // Appends an op applied under `lsn` (ops replayed from the AOF at startup: lsn 0): its dot,
  // its HLC, its serialized bytes (copied) and its Op.unit_continues. Each origin's ops must come
  // in seq order, contiguous (asserted). Without assertions, an op the log already holds is
  // ignored and a seq gap counts as MarkUnavailable(seq - 1).
  // Units: the caller appends a unit's ops one after the other with nothing in between, all in
  // one go; SyncerCore sends a unit only once the log holds all of it and its last op's LSN is
  // durable.
  void Append(std::string_view origin, uint64_t seq, uint64_t hlc, std::string_view op_bytes,
              uint64_t lsn, bool unit_continues = false);
  // The same for a parsed op (serialized here).
  void Append(const v1::Op& op, uint64_t lsn);
  // Ops of these origins up to these seqs arrived in a snapshot, not as ops: the log can no
  // longer serve them. Origins whose `upto` the log already reaches are left alone; for the
  // others the log keeps no op at or below `upto` servable (a peer lacking any needs a resync).
  void MarkUnavailable(const NamedVV& upto);

  // Log indices are absolute and increase forever: [begin(), end()).
  uint64_t begin() const { return begin_; }
  uint64_t end() const { return begin_ + entries_.size(); }
  size_t size() const { return entries_.size(); }
  std::string_view origin(uint64_t index) const { return origins_[At(index).origin].name; }
  // A small number naming origin(index) (equal ids: equal origins), for per-run caching.
  uint32_t origin_id(uint64_t index) const { return At(index).origin; }
  std::string_view origin_name(uint32_t id) const { return origins_[id].name; }
  uint64_t seq(uint64_t index) const { return At(index).seq; }
  uint64_t hlc(uint64_t index) const { return At(index).hlc; }
  uint64_t lsn(uint64_t index) const { return At(index).lsn; }
  // Op.unit_continues: the next op of this origin belongs to the same unit.
  bool unit_continues(uint64_t index) const { return At(index).continues != 0; }
  // The serialized v1::Op (valid until the op is trimmed).
  std::string_view bytes(uint64_t index) const {
    const Entry& e = At(index);
    return {e.data, e.size};
  }

  // The first index a peer that has applied `have` must be sent from, or nullopt when the log no
  // longer holds some op it lacks (full resync). end() when it lacks nothing the log holds.
  // Origins in `skip` (the peer gets them elsewhere) are left out.
  std::optional<uint64_t> StartFor(const NamedVV& have,
                                   const std::vector<std::string>& skip = {}) const;
  // True when op (origin, seq) is in the log and can be served from it.
  bool Holds(std::string_view origin, uint64_t seq) const;

 private:
  struct Entry {
    const char* data;
    uint32_t size;
    uint32_t origin : 31;    // index into origins_
    uint32_t continues : 1;  // Op.unit_continues
    uint64_t seq;
    uint64_t hlc;
    uint64_t lsn;
  };
  struct Origin {
    std::string name;
    uint64_t floor = 0;            // ops with seq <= floor are not in the log
    std::deque<uint64_t> indices;  // log index of seq floor+1, floor+2, ...
  };
  struct Chunk {
    std::unique_ptr<char[]> data;
    size_t used = 0;
    size_t capacity = 0;
    uint64_t end = 0;  // log index past its last op
  };
  static constexpr size_t kChunkBytes = size_t{1} << 20;

  const Entry& At(uint64_t index) const { return entries_[index - begin_]; }
  uint32_t OriginId(std::string_view name);
  const char* Store(std::string_view bytes);
  void TrimFront();

  size_t max_ops_;
  uint64_t begin_ = 0;
  std::deque<Entry> entries_;
  std::deque<Chunk> chunks_;
  Chunk spare_;  // the last chunk freed, reused by the next one needed
  std::vector<Origin> origins_;
  std::map<std::string, uint32_t, std::less<>> origin_ids_;
  std::string scratch_;
};

// What to send to each peer that pulls from this region, and what those peers acknowledged.
// Pure (etcd raft style): no threads, clocks, I/O; the transport drives it and moves messages.
//
//   OnPullStart(peer, have, skip, hold)
//                              a peer opened a Pull stream announcing what it has applied (with
//                              `hold`: send it nothing until its first ack)
//   Poll(peer, durable, ...)   the next message for it: a batch of ops, a full resync, or nothing
//   OnAck(peer, applied, now)  it acknowledged (applied and made durable) up to `applied`
//   SetSkip(peer, origins)     it receives these origins' ops straight from their region: don't
//                              relay them (docs/replication-protocol.md, "Relaying")
//   OnDisconnect(peer)         its stream ended; the next OnPullStart starts over
//
// Flow control: at most `window` batches are unacknowledged per peer. Only ops whose LSN is
// durable here are sent, so a peer never holds an op its origin could still lose in a crash.
//
// Acks carry the peer's version vector: a sent batch (or snapshot) stops counting against the
// window once an ack covers every op in it (a snapshot: its version vector). So acks may be
// coalesced, repeated or sent unprompted; none is needed per message. OnPullStart's `have`
// counts as an ack (without a time).
// Each batch holds, per origin, contiguous seqs following what the peer was known to have, so a
// peer that applies a stream in order never sees a gap.
// Units (Op.unit_continues) are never cut: a batch holds whole units only (a unit larger than
// max_batch_ops / max_batch_bytes goes alone, as one oversized batch), and a unit goes out only
// once its last op is durable. Delivery is at-least-once: ops sent but
// not acked when a stream ends are sent again on the next stream (the peer ignores duplicates).
class SyncerCore {
 public:
  struct Options {
    size_t max_batch_ops = 512;
    size_t max_batch_bytes = 1 << 20;
    size_t window = 8;
  };
  struct PeerStats {
    bool streaming = false;  // a Pull stream from this peer is open
    NamedVV acked;
    int64_t last_ack_unix_ms = 0;
    uint64_t ops_sent = 0;
    uint64_t bytes_sent = 0;
    uint64_t batches_sent = 0;
    uint64_t full_resyncs_sent = 0;
  };
  enum class Next { kNothing, kBatch, kSnapshot };

  SyncerCore(const ReplicationLog* log, Options options) : log_(log), options_(options) {}

  void OnPullStart(const std::string& peer, const NamedVV& have, std::vector<std::string> skip = {},
                   bool hold = false);
  // Replaces the origins not relayed to `peer`. Origins no longer skipped are sent again from
  // what the peer is known to have.
  void SetSkip(const std::string& peer, std::vector<std::string> skip);
  void OnAck(const std::string& peer, const NamedVV& applied, int64_t now_ms);
  void OnDisconnect(const std::string& peer);
  // kBatch: `*out` holds the next batch (ops the peer lacks, log order), a serialized v1::OpBatch.
  // kSnapshot: the peer needs a full resync; the transport sends the keyspace state and then
  // calls OnSnapshotSent. kNothing: caught up, held, window full, or the next op is not durable
  // yet.
  Next Poll(const std::string& peer, uint64_t durable_lsn, std::string* out);
  // A snapshot with version vector `vv` was handed to the peer's stream. It takes a window slot
  // until an ack covers `vv`. The transport must snapshot durable state only. If the peer still
  // lacks ops the log cannot serve (the snapshot did not reach them), the next Poll asks again.
  void OnSnapshotSent(const std::string& peer, const NamedVV& vv);

  // Ops this region holds (`local_applied`) that the peer has not acknowledged.
  uint64_t LagOps(const std::string& peer, const NamedVV& local_applied) const;
  // Age of the oldest op in the log the peer has not acknowledged (0 when none).
  uint64_t LagMs(const std::string& peer, int64_t now_ms) const;
  const PeerStats* stats(const std::string& peer) const;
  // The peer lacks ops the log cannot serve: the next Poll returns kSnapshot.
  bool NeedsResync(const std::string& peer) const;
  // Whether, once the peer has `vv` too, the log holds every op it would still lack (a snapshot
  // file covering `vv` can then serve its resync).
  bool LogServesAfter(const std::string& peer, const NamedVV& vv) const;
  // The transport cannot send the snapshot yet (kSnapshot was returned): the next Poll asks
  // again.
  void DeferSnapshot(const std::string& peer);
  // Log entries not yet considered for the peer (an upper bound of the ops still to send it).
  uint64_t Pending(const std::string& peer) const;
  // Every log entry below `index` has been considered for the peer on its current stream: sent
  // (in a batch already handed to the transport), skipped, or known to the peer. Pub/sub
  // messages wait for it, so none overtakes an op logged before it (docs/messaging.md).
  bool ConsideredUpTo(const std::string& peer, uint64_t index) const;
  // The peer's hello asked to be sent nothing until its first ack, which has not come.
  bool Held(const std::string& peer) const;
  // What the peer is known to have (acked, or sent on the current stream); empty if unknown.
  NamedVV Known(const std::string& peer) const;
  // The origins not relayed to the peer (SetSkip), sorted.
  std::vector<std::string> Skip(const std::string& peer) const;

 private:
  struct Peer {
    PeerStats stats;
    NamedVV known;                  // acked, or already sent on the current stream
    uint64_t cursor = 0;            // next log index to consider
    std::vector<std::string> skip;  // origins not relayed (few: sorted, compared linearly)
    bool needs_snapshot = false;
    bool held = false;              // hello.hold, and no ack since
    bool snapshot_pending = false;  // kSnapshot returned, OnSnapshotSent not called yet
    size_t inflight = 0;            // batches (and snapshots) sent, not acked: unacked.size()
    std::deque<NamedVV> unacked;    // per such message: the highest seq of each origin in it
    uint64_t ack_index = 0;         // first log index whose op the peer has not acked (lag_ms)
  };
  Peer& GetPeer(const std::string& peer);
  // The unit whose first op is log entry `index`: entries [index, *end), `*bytes` of ops. False
  // when the log does not hold all of it yet.
  bool UnitAt(uint64_t index, uint64_t* end, size_t* bytes) const;
  static bool Skipped(const Peer& p, std::string_view origin);
  // acked = max(acked, applied); drops the messages now covered from the window; moves
  // ack_index past the ops now acked.
  void MergeAck(Peer* p, const NamedVV& applied) const;

  const ReplicationLog* log_;
  Options options_;
  std::map<std::string, Peer, std::less<>> peers_;
};

}  // namespace activekv::syncer
