#pragma once

// A deterministic simulated network of regions, each a crdt::Keyspace + ReplicationLog + HLC with
// the two cores the server runs: a SyncerCore serving the peers that pull from it and a
// ReceiverCore pulling from every peer (full mesh). The messages are the real ones
// (v1::PullRequest / v1::PullResponse), built and consumed by the cores; the simulator only
// moves them, as syncer/replicator.cc does. No threads, clocks or sleeps: a seeded scheduler
// decides every event, and each region's clock (wall_ms) is the `now` its cores are given.
//
// Model of one Pull stream (receiver R pulls from sender S), as gRPC gives it:
//  * two FIFO queues: `down` (S -> R: responses) and `up` (R -> S: the hello that opens the
//    stream, then acks). Messages within a stream are never lost or reordered while it lives;
//    different streams interleave arbitrarily (REORDER, DELAY).
//  * R opens a stream when its ReceiverCore says so (Connect: not while its backoff runs); to a
//    peer it is cut from, the attempt fails at once (StreamDone, so the backoff grows).
//  * DROP = the stream breaks: whatever is queued is lost, R's core sees StreamDone, S may or may
//    not see OnDisconnect (a superseding stream's OnPullStart replaces it).
//  * DUPLICATE = the last op batch delivered is queued again (every op in it is then a duplicate,
//    which the keyspace ignores).
//  * PARTITION = both directions between two regions are cut: queued messages wait (or the
//    streams break), reconnects fail until the link heals.
//  * S answers a hello with a response carrying its origin and applied version vector, then
//    sends batches or snapshot chunks when its SyncerCore has some (nothing while the hello's
//    hold lasts), and a heartbeat when it sent nothing for a heartbeat interval. Every response
//    carries S's synced version vector when it changed (sender_synced). R's core asks for acks;
//    the scheduler sometimes asks at once after a delivery and sometimes later (coalescing).
//  * UNITS (SimOptions::max_unit_ops > 1): a local write is a unit of several ops (a command's
//    ops, Op.unit_continues), logged under one LSN like the real AOF record. A delivered batch
//    is applied and logged under one LSN too (the receiver's one AOF record). After every
//    delivery and restart each region's applied frontier of every origin must sit between two
//    units: a peer only ever observes whole units. Every polled batch must hold whole units.
//  * Durability: a region's ops (local or received) get increasing LSNs; durable_lsn (written to
//    the AOF) follows at once or with a seeded delay, synced_lsn (fsynced) follows durable_lsn
//    with a seeded delay. Only durable ops are sent (SyncerCore's gate); acks announce the
//    durable version vector and wait for the batch they acknowledge to be durable.
//  * POWER LOSS (SimOptions::power_loss): a region loses every op after its synced_lsn, restarts
//    from what it fsynced as a new origin incarnation ("ap~1") with fresh cores, and its streams
//    break. Its dead incarnation may have shipped ops it never fsynced; its ReceiverCore
//    announces nothing as synced until it holds every one its peers hold.
//  * Full resync: the real transport sends the keyspace state. Here S "sends its state" as 1-3
//    snapshot chunks whose payload is every op of its durable history (apply order, so each
//    origin from seq 1, in order); R's core merges the chunks whole, and R applies the ops
//    (duplicates ignored) without logging them (they came as state, not as ops): it calls
//    ReplicationLog::MarkUnavailable(snapshot version vector).
//
// Every failure is reported with ADD_FAILURE / EXPECT_*; the caller prints the seed.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crdt/hlc.h"
#include "crdt/keyspace.h"
#include "syncer/receiver_core.h"
#include "syncer/syncer_core.h"

namespace activekv::syncer::testing {

struct SimOptions {
  size_t regions = 3;
  // Per region; missing entries get a log big enough never to trim.
  std::vector<size_t> log_max_ops;
  SyncerCore::Options core;
  bool delayed_durability = false;
  bool faults = true;       // breaks, duplicates and partitions in RandomStep
  bool power_loss = false;  // also power losses in RandomStep
  size_t max_unit_ops = 1;  // a local write is a unit of 1..max_unit_ops ops
  // The receivers' heartbeat (0: the server's default). A peer's origin counts as direct while
  // its stream was heard from within 3 heartbeats of the receiver's clock: the random schedule
  // may leave one stream unserved while the clocks run on, which makes its origin relayed.
  int64_t heartbeat_ms = 0;
};

class Sim;
struct SimRegion;

// The simulated region as its ReceiverCore sees it (what region-server/region.h is to the real
// one).
class SimHost final : public ReceiverHost {
 public:
  SimHost(Sim* sim, SimRegion* region) : sim_(sim), r_(region) {}
  crdt::Keyspace& keyspace() override;
  absl::StatusOr<uint64_t> ApplyRemote(std::string_view batch, size_t* ops) override;
  absl::StatusOr<uint64_t> ApplySnapshot(const std::vector<v1::Snapshot>& chunks) override;
  uint64_t durable_lsn() override;
  const NamedVV& durable_applied() override;
  const NamedVV& synced_applied() override;
  bool joining() const override { return false; }
  absl::Status FinishJoin(uint64_t) override { return absl::OkStatus(); }
  bool catching_up() const override { return false; }
  absl::Status FinishCatchUp() override { return absl::OkStatus(); }

 private:
  Sim* sim_;
  SimRegion* r_;
};

struct SimRegion {
  SimRegion(Sim* sim, const std::string& region, const std::vector<std::string>& all,
            size_t log_max_ops, SyncerCore::Options options, int64_t now_ms);
  SimRegion(const SimRegion&) = delete;
  SimRegion& operator=(const SimRegion&) = delete;

  std::string name;
  crdt::Keyspace ks;
  crdt::HybridClock clock;
  ReplicationLog log;
  SyncerCore core;  // serves the peers that pull from this region
  SimHost host;
  ReceiverCore receiver;  // pulls from every peer
  int64_t wall_ms = 1'000'000;
  uint64_t next_lsn = 0;  // last LSN assigned (AOF)
  uint64_t durable_lsn = 0;
  NamedVV durable_vv;        // the ops of history up to durable_lsn
  size_t durable_count = 0;  // how many of history's entries durable_vv covers
  uint64_t synced_lsn = 0;   // <= durable_lsn
  NamedVV synced_vv;         // the ops of history up to synced_lsn
  size_t synced_count = 0;   // how many of history's entries synced_vv covers
  int incarnation = 0;
  size_t log_max_ops = 0;
  bool sync_held = false;
  struct Applied {
    v1::Op op;
    uint64_t lsn;
  };
  std::vector<Applied> history;  // every op applied here, in apply order
  std::map<std::pair<std::string, uint64_t>, uint64_t> lsn_of;    // LSN of each applied dot
  std::map<std::pair<std::string, uint64_t>, int> applied_count;  // kApplied per dot
};

class Sim {
 public:
  struct Counters {
    uint64_t local_ops = 0;
    uint64_t batches_delivered = 0;
    uint64_t snapshots_delivered = 0;
    uint64_t duplicates_queued = 0;
    uint64_t breaks = 0;
    uint64_t cuts = 0;
    uint64_t acks = 0;
    uint64_t duplicate_ops_received = 0;  // ops a region already had (e.g. relayed twice)
    uint64_t power_losses = 0;
    uint64_t ops_lost = 0;           // ops a power loss took from the region that had them
    uint64_t multi_op_units = 0;     // local writes of more than one op
    uint64_t unit_checks = 0;        // frontiers checked to sit between units
    uint64_t oversized_batches = 0;  // batches over max_batch_ops (one unit each)
  };

  Sim(uint32_t seed, SimOptions options);

  size_t size() const { return regions_.size(); }
  SimRegion& region(size_t i) { return *regions_[i]; }
  const Counters& counters() const { return counters_; }
  const SimOptions& options() const { return options_; }
  void ResetCounters() { counters_ = Counters(); }

  // One random event (write, poll, delivery, ack, durability, clock, and faults if enabled).
  void RandomStep();
  // A local write at region `r` (random command on a few keys, or a unit of several); returns
  // its last op.
  v1::Op LocalWrite(size_t r);
  // A local write at region `r` built by `make` (a crdt::Make*Op call); returns the op.
  using OpMaker = std::function<void(const crdt::Keyspace&, crdt::Hlc, v1::Op*)>;
  v1::Op LocalOp(size_t r, const OpMaker& make);
  // While held, region `r` fsyncs nothing (its synced_lsn stays put, even in Quiesce).
  void HoldSync(size_t r, bool hold) { regions_[r]->sync_held = hold; }

  void Cut(size_t a, size_t b);
  void Heal(size_t a, size_t b);
  void HealAll();
  // Isolates `r` from every other region (all its streams break).
  void Isolate(size_t r);
  // Region `r` loses every op after its synced_lsn and restarts as a new incarnation.
  void PowerLoss(size_t r);

  // Runs every link that is not cut until nothing moves: durability catches up, broken streams
  // reconnect, every message is delivered and acked; when nothing moves, the clocks advance (100
  // ms a round) so that backoffs, holds and paced acks run out. Settled once 30 such rounds in a
  // row changed nothing. False if it did not settle.
  bool Quiesce(int max_rounds = 100'000);

  // Asserts that `members` hold identical state, each op applied exactly once, counters equal to
  // the increments they hold, and zero lag between every two of them whose link is not cut.
  void ExpectConverged(const std::vector<size_t>& members);
  std::vector<size_t> All() const;

 private:
  friend class SimHost;
  // A full resync's payload: the ops of the sender's durable history, and their version vector.
  struct SnapshotPayload {
    std::vector<v1::Op> ops;
    NamedVV vv;
  };
  struct Down {
    v1::PullResponse response;
    std::shared_ptr<const SnapshotPayload> snapshot;  // every chunk of a snapshot shares it
  };
  struct Stream {
    size_t from = 0;  // sender (serves the Pull)
    size_t to = 0;    // receiver (pulls)
    bool open = false;
    bool hello_delivered = false;
    std::deque<Down> down;
    std::deque<v1::PullRequest> up;  // the hello first
    std::optional<Down> last_batch;  // the last op batch delivered (DUPLICATE)
    NamedVV synced_sent;             // the last sender_synced put on this stream
    int64_t last_sent_ms = 0;        // sender's clock at its last response (heartbeats)
  };
  struct Increment {
    std::string origin;
    uint64_t seq;
    std::string key;
    int64_t delta;
  };

  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  bool Cutoff(const Stream& s) const { return cut_[s.from][s.to]; }
  // A random stream satisfying `pred`, or nullptr.
  template <typename Pred>
  Stream* PickStream(Pred pred);

  // A random op at `r`, applied to its keyspace (a unit's ops are made one after the other).
  v1::Op MakeRandomOp(SimRegion& r);
  // Commits a local unit (ops already applied to r.ks): stamps unit_continues, logs it under
  // one LSN.
  void CommitLocal(SimRegion& r, std::vector<v1::Op> unit);
  // Applies a received op at `r` under `lsn`; appends it to r's log when `log_it`. False on an
  // error. `*applied` is set when it was new.
  bool Receive(SimRegion& r, const v1::Op& op, bool log_it, uint64_t lsn, bool* applied);
  // SimHost: what a delivery hands to the region (the stream is delivering_).
  absl::StatusOr<uint64_t> ApplyBatch(SimRegion& r, std::string_view batch, size_t* ops);
  absl::StatusOr<uint64_t> ApplySnapshot(SimRegion& r, const std::vector<v1::Snapshot>& chunks);
  // Every origin's applied frontier at region `i` is at the end of a unit.
  void ExpectWholeUnits(size_t i, const char* when);
  bool Reconnect(Stream& s);
  void Break(Stream& s);
  // Queues the sender's next response, if it has one (a heartbeat only when one is due).
  bool PollStream(Stream& s);
  // Delivers the next response to the receiver's core; asks it for acks when `ack_now`.
  bool DeliverDown(Stream& s, bool ack_now);
  bool DeliverUp(Stream& s);
  // Queues the ack the receiver's core owes on `s`, if any.
  bool TryAck(Stream& s);
  void TryAckAll(size_t receiver);
  // A response from s.from: the stream's first names the sender; sender_synced when it moved.
  v1::PullResponse NewResponse(Stream& s);
  void Duplicate(Stream& s);
  void SetDurable(SimRegion& r, uint64_t lsn);
  void AdvanceDurability(SimRegion& r);
  void SetSynced(SimRegion& r, uint64_t lsn);
  std::string Describe(const Stream& s) const;

  std::mt19937 rng_;
  SimOptions options_;
  std::vector<std::unique_ptr<SimRegion>> regions_;
  std::vector<Stream> streams_;
  std::vector<std::vector<bool>> cut_;
  std::vector<Increment> increments_;  // every counter increment created
  // Per origin: the seqs of ops that are not the last of their unit.
  std::map<std::string, std::set<uint64_t>, std::less<>> continuing_;
  Counters counters_;
  uint64_t value_counter_ = 0;
  uint64_t changes_ = 0;                // state changes (Quiesce's progress)
  const Stream* delivering_ = nullptr;  // the stream whose response is being delivered
  const Down* delivering_down_ = nullptr;
};

}  // namespace activekv::syncer::testing
