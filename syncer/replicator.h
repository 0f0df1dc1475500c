#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "activekv/v1/sync.grpc.pb.h"
#include "crdt/keyspace.h"
#include "grpcpp/security/credentials.h"
#include "persistence/env.h"
#include "syncer/executor.h"
#include "syncer/receiver_core.h"
#include "syncer/syncer_core.h"

namespace activekv::syncer {

// What the replicator needs from the region that owns it, beyond what its receiving core needs
// (ReceiverHost). Called on the executor's thread only.
class ReplicaHost : public ReceiverHost {
 public:
  virtual const ReplicationLog& log() = 0;
  // The AOF: this region's history in apply order -- a snapshot base (after a rewrite) and every
  // op since -- read to serve a peer that lacks ops the in-memory log no longer holds.
  virtual persistence::Env* env() = 0;
  virtual std::string aof_path() = 0;
  virtual int64_t NowMs() = 0;
  // The file a full resync streams. With an AOF: aof_path(), `*complete` true (it holds every op
  // the log no longer does). Without one (appendonly no): the newest snapshot file and the
  // version vector it holds (`*covers`), `*complete` false: usable only while the log holds
  // every op after it; "" when there is none.
  virtual std::string ResyncFile(NamedVV* covers, bool* complete) = 0;
  // Without an AOF, the snapshot file is missing or older than the log: write a new one.
  virtual void RequestResyncSnapshot() = 0;
};

// One region's replication transport: serves activekv.v1.Syncer.Pull to peers (driving a
// SyncerCore, the sending half) and pulls from every peer (one stream each at a time, driving a
// ReceiverCore, the receiving half). It opens streams and moves messages; the decisions are the
// cores'. gRPC threads hand every event to the executor; all state lives on the executor's
// thread.
class Replicator final : public v1::Syncer::CallbackService {
 public:
  struct Peer {
    std::string name;
    std::string address;  // host:port of its sync endpoint
  };
  struct Options {
    std::string database;
    std::string region;
    std::vector<Peer> peers;
    SyncerCore::Options core;
    int64_t heartbeat_ms = 250;
    bool gzip = false;  // compress the streams (topology replication.compression: gzip)
    int64_t min_backoff_ms = 50;
    int64_t max_backoff_ms = 2000;
    // Pub/sub (docs/messaging.md): messages received from a peer, on the executor's thread,
    // after the ops of the same response were applied. Empty: they are dropped.
    std::function<void(const v1::PubSubMessages&)> on_messages;
    // Messages waiting for one peer's stream beyond this many bytes are dropped.
    size_t max_pending_message_bytes = 32u << 20;
    // The cores' time: a steady clock in ms (timers: backoff, heartbeats, the first ack's hold;
    // the region's NowMs() follows the HLC, which stands still after a region with a fast clock
    // was heard from). Empty: std::chrono::steady_clock.
    std::function<int64_t()> steady_ms;
    // Mutual TLS (syncer/tls.h): the credentials links dial peers with (null: plaintext), each
    // peer's certificate checked against its region name; and who may pull from us (the
    // caller's certificate name; empty without TLS). Null `allow_caller`: anyone.
    std::shared_ptr<grpc::ChannelCredentials> credentials;
    std::function<bool(const std::string& caller)> allow_caller;
  };
  using LinkStats = ReceiverCore::LinkStats;

  Replicator(Options options, ReplicaHost* host, Executor executor);
  ~Replicator() override;

  // Executor thread. Opens the pull links.
  void Start();
  // Executor thread. Durability advanced or local ops were logged: send what can be sent.
  void Pump();
  // Executor thread. PUBLISH / SPUBLISH here, once the command's ops are logged: the message goes
  // to every peer whose Pull stream is open, in publish order, right after the ops logged before
  // it (none is overtaken); never logged, never relayed, lost for a peer without a live stream
  // (at most once; docs/messaging.md).
  void Publish(std::string_view channel, std::string_view message, bool shard);
  uint64_t messages_sent() const { return messages_sent_; }  // per peer stream
  uint64_t messages_dropped() const { return messages_dropped_; }
  // Any thread but the executor's (it waits for tasks there); blocks until every link is
  // closed. Call before the executor stops.
  void Shutdown();
  // Executor thread. While paused, nothing is sent to peers and no pull link is open (CRDT.SYNC
  // PAUSE): local writes go on and are sent on resume. For maintenance and tests.
  void SetPaused(bool paused);
  bool paused() const { return paused_; }

  // Executor thread. For a joining host (ReplicaHost::joining) whose peers have not all answered:
  // finishes the join now with an incarnation no peer can know: above every one seen and at
  // least `floor` (the caller passes the unix time in seconds).
  void JoinNow(uint64_t floor);
  // Executor thread. For a host catching up (ReplicaHost::catching_up) whose peers have not all
  // answered or are down: finishes once it holds what every connected peer held.
  void CatchUpNow();

  // Executor thread: figures for Status / INFO.
  const SyncerCore& core() const { return core_; }
  const ReceiverCore& receiver() const { return receiver_; }
  const LinkStats* link(const std::string& peer) const;
  // Executor thread. The state of our stream to `peer` (it pulls from us): "none", "held" (its
  // first ack has not come), "writing" (a response in flight) or "idle".
  const char* SendState(const std::string& peer) const;

  grpc::ServerBidiReactor<v1::PullRequest, v1::PullResponse>* Pull(
      grpc::CallbackServerContext* ctx) override;

 private:
  struct LiveStreams;
  class Outgoing;  // a peer pulling from us (server reactor)
  class Link;      // us pulling from a peer (client reactor + reconnects)
  friend class Outgoing;
  friend class Link;

  void PumpOutgoing(Outgoing* out);
  // A peer's Pull reached us, so it is up: if our link to it is waiting out a backoff, connect
  // now instead of up to max_backoff_ms later (a restarted region's writes reach us sooner).
  void OnPeerUp(const std::string& peer);
  // Asks every link for the ack it may owe.
  void AckAll();
  // Full resync from the AOF: fills the next message -- a batch of the ops the peer lacks, or one
  // chunk of a snapshot the AOF holds (a rewrite's base, or one received from a peer) when the
  // peer lacks some op it covers (`*is_chunk`; the chunk is in the Outgoing). Returns false once
  // the AOF is exhausted (a last batch may still be in `*batch`).
  bool FillResyncBatch(Outgoing* out, std::string* batch, bool* is_chunk);

  Options options_;
  ReplicaHost* host_;
  Executor executor_;
  SyncerCore core_;
  ReceiverCore receiver_;
  std::map<std::string, Outgoing*, std::less<>> outgoing_;  // by peer name
  std::vector<std::unique_ptr<Link>> links_;
  bool shutting_down_ = false;
  bool paused_ = false;
  uint64_t messages_sent_ = 0;
  uint64_t messages_dropped_ = 0;
  std::unique_ptr<LiveStreams> live_;
};

}  // namespace activekv::syncer
