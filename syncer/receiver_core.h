#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "activekv/v1/snapshot.pb.h"
#include "activekv/v1/sync.pb.h"
#include "crdt/keyspace.h"
#include "syncer/syncer_core.h"

namespace activekv::syncer {

// What the receiving side needs from the region that owns it: its keyspace, applying what peers
// send, durability, and the join / catch-up state of a region that started without all its
// history. The real region (region-server/region.h) and the simulated one (tests/unit/syncer/)
// implement it. Called on the owner's thread only.
class ReceiverHost {
 public:
  virtual ~ReceiverHost() = default;
  virtual crdt::Keyspace& keyspace() = 0;
  // Applies the ops of a batch received from a peer (a serialized v1::OpBatch; `*ops` = how many
  // it holds): each op not applied yet is applied, the new ones are persisted as one AOF record
  // and appended to the log. Returns that record's LSN (0 when nothing was new). An error
  // (undecodable batch, malformed op, out-of-order op) means the stream is broken.
  virtual absl::StatusOr<uint64_t> ApplyRemote(std::string_view batch, size_t* ops) = 0;
  // Merges a full resync's snapshot received from a peer (all its chunks, first to last) and
  // persists it as snapshot records in one go. Returns the last record's LSN. An error
  // (malformed snapshot) means the stream is broken.
  virtual absl::StatusOr<uint64_t> ApplySnapshot(const std::vector<v1::Snapshot>& chunks) = 0;
  // Highest LSN the AOF covers (per the fsync policy).
  virtual uint64_t durable_lsn() = 0;
  // What this region has applied *and* the AOF covers: what hellos and acks announce as
  // `applied` (it survives a process crash).
  virtual const NamedVV& durable_applied() = 0;
  // What this region has applied and fsynced (survives a power loss): announced as `synced`;
  // peers base stability on it. Always covered by durable_applied().
  virtual const NamedVV& synced_applied() = 0;
  // A region with a new data directory (Region::joining): it makes no op until FinishJoin, which
  // ReceiverCore calls once every peer's first response said which ops of this region's origins
  // it holds (`incarnation`: 0 when none, else one more than the highest seen), or on JoinNow.
  // A failure keeps it joining (retried on the next response or JoinNow).
  virtual bool joining() const = 0;
  virtual absl::Status FinishJoin(uint64_t incarnation) = 0;
  // A region that started without every op it had announced as synced (joining, or from a
  // snapshot): it makes no op until it holds every op each peer held at that peer's first
  // response; ReceiverCore then calls FinishCatchUp (or on CatchUpNow, skipping peers that are
  // down). A failure keeps it catching up; retried on the next call.
  virtual bool catching_up() const = 0;
  virtual absl::Status FinishCatchUp() = 0;
};

// The receiving half of replication: this region pulling from each of its peers, one stream per
// peer at a time (docs/replication-protocol.md). Pure, like SyncerCore (its sending half): no
// threads, clocks or I/O; time comes in as `now` (a steady clock, ms), the transport opens and
// closes streams and moves the messages this core builds or is handed.
//
//   Connect(peer, now)          the hello of a new stream to open now (none while one is open or
//                               the backoff after the last one runs)
//   Receive(peer, &resp, now)   a response arrived on the peer's stream: applied through the host
//   TakeAck(peer, now, &ack)    the ack to write on the peer's stream now, if one is due (the
//                               transport asks whenever it could write one)
//   StreamDone(peer, err, now)  the peer's stream ended: backoff, then Connect again
//
// What it decides, and the rules (each in the protocol document):
// * Hello: our durable version vector (where the peer's cursor starts), what we fsynced (unless
//   gated, below), the origins we receive directly (`direct`), and `hold`: the peer sends nothing
//   but its first response until our first ack, which waits until every link has answered (or
//   hold_ms passed), so that `direct` names them all and a region catching up is not sent every
//   op it missed by every peer.
// * Acks: after every batch or snapshot (each frees a window slot at the peer), once the AOF
//   covers it; whenever `synced` or `direct` changed; and, at most every refresh_ack_ms, when our
//   version vector moved by other origins' ops (the peer's lag figures).
// * Direct origins: a peer's current origin is direct while its stream is up and was heard from
//   within 3 heartbeats.
// * The dead-incarnation gate: a region restarted as a new incarnation announces nothing as
//   synced until every peer's first response showed it holds each op of its dead incarnations
//   that peer holds (then for good), and holds its own stability meanwhile.
// * Join and catch-up: the incarnation of a joining region and the end of a catch-up are decided
//   from the peers' first responses (ReceiverHost::joining / catching_up).
// * Snapshots arrive in chunks and are merged whole when the last one is here.
// * Backoff: min_backoff_ms after a stream ends, doubling up to max_backoff_ms; reset by a
//   response, ResetBackoff (the peer is known to be up) or a resume.
class ReceiverCore {
 public:
  struct Options {
    std::string database;
    std::string region;              // our region name: origins region and region~N are ours
    std::vector<std::string> peers;  // the regions we pull from
    int64_t heartbeat_ms = 250;
    int64_t min_backoff_ms = 50;
    int64_t max_backoff_ms = 2000;
    // How long a new stream's first ack waits for the other links' first responses (links that
    // are down answer at once: their attempt fails; only one still connecting is waited for).
    // 50 ms was too short for a sanitizer build's connection setup.
    int64_t hold_ms = 500;
    // An ack that only says our version vector moved by ops of other origins (not a batch from
    // this peer, not a change of `synced` or `direct`) waits until this long after the link's
    // last ack: it feeds the peer's lag figures only, and sending one on every link after every
    // applied batch doubled the messages of a three-region database.
    int64_t refresh_ack_ms = 50;
  };
  struct LinkStats {
    bool connected = false;  // the current stream's first response arrived
    uint64_t bytes_received = 0;
    uint64_t ops_received = 0;
    uint64_t batches_received = 0;
    uint64_t full_resyncs_received = 0;
    uint64_t reconnects = 0;
    uint64_t messages_received = 0;  // pub/sub messages
    std::string last_error;
    // Why the last ack attempt sent nothing, or "sent" (docs/operations.md, `ack`): a stuck link
    // shows where it waits.
    const char* ack_state = "none";
  };
  // Which links may have an ack due after a Receive or StreamDone.
  enum class AckCheck { kThisLink, kEveryLink };

  ReceiverCore(Options options, ReceiverHost* host);

  // The hello to open a stream to `peer` with, if one should be opened now; the stream counts as
  // open from here until StreamDone.
  bool Connect(const std::string& peer, int64_t now, v1::PullRequest* hello);
  // A response on the peer's open stream: applies its ops or snapshot through the host, notes
  // what the peer said of itself, and may finish a join or catch-up. Pub/sub messages in it are
  // the transport's to deliver, after this returned OK. An error (the host refused what came)
  // means the stream is broken: the transport ends it (the error is in the link's stats).
  absl::StatusOr<AckCheck> Receive(const std::string& peer, v1::PullResponse* response,
                                   int64_t now);
  // The ack due on the peer's open stream now, if any (`*ack` replaced). The transport calls it
  // whenever it could write (no write in flight); it also paces refresh acks by `now`.
  bool TakeAck(const std::string& peer, int64_t now, v1::PullRequest* ack);
  // The transport could not ask for an ack (`why`: no stream, a write in flight): shown in the
  // link's stats.
  void AckBlocked(const std::string& peer, const char* why);
  // False while no ack can be due on the peer's stream: none is open, or its first response has
  // not come (the transport then need not wait for a write in flight to ask again).
  bool AckMayBeDue(const std::string& peer) const;
  // The peer's stream ended (`error` empty when it ended cleanly). Every link's ack may be due
  // now (a first ack held for this link need not wait any longer).
  void StreamDone(const std::string& peer, std::string_view error, int64_t now);
  // The peer is up (it pulled from us), or replication resumed: connect without waiting out a
  // backoff.
  void ResetBackoff(const std::string& peer);

  // For a joining host whose peers have not all answered: finishes the join now with an
  // incarnation no peer can know: above every one seen and at least `floor` (the caller passes
  // the unix time in seconds).
  void JoinNow(uint64_t floor);
  // For a host catching up whose peers have not all answered or are down: finishes once it
  // holds what every connected peer held.
  void CatchUpNow();

  // What to announce as fsynced (acks' `synced`, and the sending side's `sender_synced`), or
  // null while gated (see above). Lifting the gate releases the keyspace's stability hold.
  const NamedVV* SyncedToAnnounce();
  // A peer's current origin while it counts as direct (see above); empty otherwise.
  std::string_view DirectOrigin(const std::string& peer, int64_t now) const;
  const LinkStats* stats(const std::string& peer) const;
  bool open(const std::string& peer) const;

 private:
  struct Link {
    std::string name;
    bool open = false;  // Connect returned a hello, StreamDone not called since
    int64_t next_attempt_ms = 0;
    int64_t backoff_ms = 0;
    uint64_t ack_lsn = 0;                // the LSN that covers what the stream applied
    std::vector<v1::Snapshot> snapshot;  // chunks of the snapshot being received
    bool ack_needed = false;
    NamedVV last_ack;                      // what the stream's last hello/ack said
    NamedVV last_synced;                   // and its last `synced`
    std::vector<std::string> last_direct;  // and its last `direct`
    std::string origin;                    // the peer's origin name (sender_origin)
    bool replied = false;                  // a first response arrived (since this core was made)
    bool stream_replied = false;           // the current stream's first response arrived
    bool go_sent = false;                  // the current stream's first ack was taken
    int64_t stream_start_ms = 0;
    NamedVV held;      // every op the peer held at its first response
    NamedVV own_held;  // ops of our origins the peer held at its first response
    NamedVV required;  // ops of our dead incarnations the peer holds
    int64_t last_response_ms = 0;
    int64_t last_ack_ms = 0;  // when the stream's last ack was taken
    LinkStats stats;
  };
  Link* Find(std::string_view peer);
  const Link* Find(std::string_view peer) const;
  // Records a broken stream's error; the transport ends it.
  absl::Status Broken(Link* link, absl::Status status);
  void ComputeRequired(Link* link);
  // Every link has answered its current stream's hello (or has none).
  bool AllLinksAnswered() const;
  // A joining host: once every link's first response is in (or `force`), picks its incarnation.
  void MaybeJoin(bool force, uint64_t floor);
  // A host catching up: once it holds what every peer (connected peers, if `ignore_down`) held
  // at its first response, FinishCatchUp.
  void MaybeFinishCatchUp(bool ignore_down);
  // What `except`'s peer need not send us, sorted: our own current origin, and the origins of
  // the other links that count as direct.
  std::vector<std::string> DirectOrigins(const Link* except, int64_t now) const;

  Options options_;
  ReceiverHost* host_;
  std::vector<Link> links_;  // one per peer, in options_.peers order; never resized
  bool synced_allowed_ = false;
};

}  // namespace activekv::syncer
