#pragma once

// A deterministic simulated network of regions, each a crdt::Keyspace + ReplicationLog +
// SyncerCore + HLC, pulling from every peer (full mesh). No threads, clocks or sleeps: a seeded
// scheduler decides every event.
//
// Model of one Pull stream (receiver R pulls from sender S), as gRPC gives it:
//  * two FIFO queues: `down` (S -> R: op batches, snapshots) and `up` (R -> S: the hello that
//    opens the stream, then acks). Messages within a stream are never lost, duplicated or
//    reordered while it lives; different streams interleave arbitrarily (REORDER, DELAY).
//  * DROP = the stream breaks: whatever is queued is lost, S may or may not see OnDisconnect
//    (a superseding stream's OnPullStart replaces it), and R reconnects later with a fresh hello
//    carrying its applied version vector.
//  * DUPLICATE = the last delivered down message is queued again (every op in it is then a
//    duplicate, which the keyspace ignores; it also makes R ack again).
//  * PARTITION = both directions between two regions are cut: queued messages wait (or the
//    streams break), reconnects fail until the link heals.
//  * Acks carry R's applied version vector and what R has fsynced; they may be sent at once,
//    coalesced (one ack after several messages) or unprompted. The fsynced part of each ack and
//    hello feeds Keyspace::ObservePeerApplied (stability).
//  * UNITS (SimOptions::max_unit_ops > 1): a local write is a unit of several ops (a command's
//    ops, Op.unit_continues), logged under one LSN like the real AOF record. A delivered batch
//    is applied and logged under one LSN too (the receiver's one AOF record). After every
//    delivery and restart each region's applied frontier of every origin must sit between two
//    units: a peer only ever observes whole units. Every polled batch must hold whole units.
//  * Durability: a region's ops (local or received) get increasing LSNs; durable_lsn (written to
//    the AOF) follows at once or with a seeded delay, synced_lsn (fsynced) follows durable_lsn
//    with a seeded delay. Only durable ops are sent (SyncerCore's gate).
//  * RELAYING: hellos and acks name the origins the receiver gets straight from their region (its
//    streams from them that are open, heard from and not cut; and its own current origin); the
//    sender skips those
//    (SyncerCore::SetSkip). In Quiesce an ack goes out whenever that set or the receiver's
//    version vector changed since the stream's last hello/ack (as the real transport re-checks
//    on every pump).
//  * POWER LOSS (SimOptions::power_loss): a region loses every op after its synced_lsn, restarts
//    from what it fsynced as a new origin incarnation ("ap~1"), and its streams break. Its dead
//    incarnation may have shipped ops it never fsynced; until it holds every one its peers hold
//    (learnt from each stream's hello reply, which carries the sender's applied vector) it
//    announces nothing as synced.
//  * Full resync: the real transport sends the keyspace state. Here S "sends its state" by
//    shipping every op of its durable history (apply order, so each origin from seq 1, in order);
//    R applies them (duplicates ignored) but does not log them (they came as state, not as ops):
//    it calls ReplicationLog::MarkUnavailable(snapshot version vector).
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
#include <utility>
#include <vector>

#include "crdt/hlc.h"
#include "crdt/keyspace.h"
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
};

struct SimRegion {
  SimRegion(const std::string& region, const std::vector<std::string>& all, size_t log_max_ops,
            SyncerCore::Options options)
      : name(region), ks(region, all), log(log_max_ops), core(&log, options) {}
  SimRegion(const SimRegion&) = delete;
  SimRegion& operator=(const SimRegion&) = delete;

  std::string name;
  crdt::Keyspace ks;
  crdt::HybridClock clock;
  ReplicationLog log;
  SyncerCore core;  // serves the peers that pull from this region
  int64_t wall_ms = 1'000'000;
  uint64_t next_lsn = 0;  // last LSN assigned (AOF)
  uint64_t durable_lsn = 0;
  uint64_t synced_lsn = 0;  // <= durable_lsn
  NamedVV synced_vv;        // the ops of history up to synced_lsn
  size_t synced_count = 0;  // how many of history's entries synced_vv covers
  int incarnation = 0;
  size_t log_max_ops = 0;
  bool sync_held = false;
  // After a power loss: announce nothing as synced until every peer's hello reply arrived and
  // this region holds every op of its dead incarnations they hold (docs: "Stability").
  bool gated = false;
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
  // reconnect, every message is delivered and acked. False if it did not settle.
  bool Quiesce(int max_rounds = 100'000);

  // Asserts that `members` hold identical state, each op applied exactly once, counters equal to
  // the increments they hold, and zero lag between every two of them whose link is not cut.
  void ExpectConverged(const std::vector<size_t>& members);
  std::vector<size_t> All() const;

 private:
  struct Down {
    bool hello_reply = false;  // the sender's first message: what it has applied
    NamedVV sender_applied;
    bool snapshot = false;
    v1::OpBatch batch;
    std::vector<v1::Op> snapshot_ops;
    NamedVV snapshot_vv;
  };
  struct Up {
    bool hello = false;
    NamedVV vv;      // applied (the real transport: durable)
    NamedVV synced;  // fsynced
    std::vector<std::string> direct;
  };
  struct Stream {
    size_t from = 0;  // sender (serves the Pull)
    size_t to = 0;    // receiver (pulls)
    bool open = false;
    bool hello_delivered = false;
    bool ack_owed = false;
    std::deque<Down> down;
    std::deque<Up> up;
    std::optional<Down> last_down;
    std::vector<std::string> last_direct;  // what the last hello/ack said
    NamedVV last_vv;
    bool replied = false;  // the hello reply arrived (since the stream opened)
    NamedVV required;      // the receiver's dead incarnations' ops the sender holds
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
  bool Receive(SimRegion& r, const v1::Op& op, bool log_it, const Stream& from, uint64_t lsn,
               bool* applied);
  // Every origin's applied frontier at region `i` is at the end of a unit.
  void ExpectWholeUnits(size_t i, const char* when);
  bool Reconnect(Stream& s);
  void Break(Stream& s);
  bool PollStream(Stream& s);
  bool DeliverDown(Stream& s, bool ack_now);
  bool DeliverUp(Stream& s);
  void PushAck(Stream& s);
  // The origins s.to receives straight from their region, other than from s.from.
  std::vector<std::string> DirectFor(const Stream& s) const;
  // What region i announces as synced (nothing while gated).
  NamedVV SyncedFor(size_t i);
  void Duplicate(Stream& s);
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
};

}  // namespace activekv::syncer::testing
