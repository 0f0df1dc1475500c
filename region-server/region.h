#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/types/span.h"
#include "activekv/v1/op.pb.h"
#include "activekv/v1/snapshot.pb.h"
#include "crdt/hlc.h"
#include "crdt/keyspace.h"
#include "google/protobuf/arena.h"
#include "persistence/aof.h"
#include "persistence/env.h"
#include "persistence/recovery.h"
#include "region-server/incarnation.h"
#include "region-server/notify.h"
#include "region-server/snapshot_file.h"
#include "syncer/replicator.h"
#include "syncer/syncer_core.h"

namespace activekv::server {

class BlockingKeys;
class WatchRegistry;

// Wall clock in unix milliseconds; injectable for tests (and a test-only clock offset).
using WallClock = std::function<int64_t()>;
WallClock SystemWallClock(int64_t offset_ms = 0);

// One region's data and its write path (DESIGN.md §1): a command emits CRDT ops, each is applied
// to the keyspace at once and collected into the command's batch; Commit() appends the batch to
// the AOF as one record and returns its LSN, which gates the reply (Connection).
//
// Event-loop thread only.
class Region final : public syncer::ReplicaHost {
 public:
  struct Options {
    std::string name;
    std::vector<std::string> all_regions;
    std::string data_dir;
    persistence::FsyncPolicy fsync = persistence::FsyncPolicy::kEverysec;
    persistence::Env* env = nullptr;           // Env::Default() when null
    WallClock wall_clock;                      // SystemWallClock() when empty
    std::function<void(uint64_t)> on_durable;  // from the AOF sync thread
    std::function<void()> on_commit;           // an AOF record was appended (schedule a flush)
    // Ops kept in memory for peers (0: no replication log, e.g. a single-region topology).
    size_t replication_log_ops = 0;
    // Open's AOF replay: live progress / cancellation for other threads, test-only delay.
    persistence::RecoveryOptions recovery;
    // appendonly (docs/operations.md, "Persistence options"); false for the modes snapshot and
    // none: nothing is written per op (Aof::OpenWithoutFile), and Open starts from dump.akv.
    bool appendonly = true;
  };

  explicit Region(Options options);
  ~Region();
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;

  // Picks the origin incarnation, replays the AOF (truncating a torn tail) and opens it for
  // appending. Fills `recovery`.
  //
  // Incarnations (docs/replication-protocol.md): peers only receive durable ops, so with
  // appendfsync always a restarted region never lacks an op of its own that a peer holds. With
  // everysec / no, a power loss can lose written-but-unsynced ops peers already have; so after an
  // unclean shutdown (no clean-shutdown marker) the region writes as a new origin "name~N" and
  // never reuses a dot.
  absl::Status Open(persistence::RecoveryResult* recovery);
  // After the final AOF sync of a clean shutdown: the next start keeps the incarnation.
  absl::Status MarkCleanShutdown();
  uint64_t incarnation() const { return incarnation_.incarnation(); }

  // A replicated region whose data directory is new (no AOF, no incarnation file) cannot tell a
  // first start from a replacement whose predecessor's ops its peers hold: until its peers said
  // which ops of its origins they hold, it refuses writes (-TRYAGAIN) and makes no op at all
  // (no expiry deletes). FinishJoin then picks the origin: the region's name when no peer holds
  // an op of it, else incarnation `incarnation` (> every one peers know), written durably.
  bool joining() const override { return incarnation_.joining(); }
  absl::Status FinishJoin(uint64_t incarnation) override;
  // A replicated region that starts without every op it had announced as synced -- a joining
  // one, or one starting from a snapshot after an unclean stop (appendonly no) -- refuses
  // writes and makes no op until the replicator saw it hold every op each peer held when that
  // peer first answered (FinishCatchUp). A write made earlier could miss an op its peers
  // already treat as stable, and they would then read it differently (docs/operations.md,
  // "Persistence options").
  // The obligation survives a crash: `<data_dir>/catching-up` until FinishCatchUp.
  bool catching_up() const override { return incarnation_.catching_up(); }
  absl::Status FinishCatchUp() override;
  // joining() or catching_up(): writes get -TRYAGAIN and no op is made.
  bool rejoining() const { return joining() || catching_up(); }
  std::string ResyncFile(syncer::NamedVV* covers, bool* complete) override;
  // Ignored while a save or rewrite runs: its file may serve the peer, and the replicator asks
  // again on its next pump if it does not (asking meanwhile made a second, needless save follow
  // every resync snapshot).
  void RequestResyncSnapshot() override {
    if (!snapshot_busy()) resync_snapshot_wanted_ = true;
  }
  // RequestResyncSnapshot was called since the last take (the server starts a BGSAVE).
  bool TakeResyncSnapshotRequest() { return std::exchange(resync_snapshot_wanted_, false); }

  // appendonly no: Open loaded an appendonly.aof left by a run that had it (the newest state).
  // It must not be loaded again once stale: RetireLeftoverAof removes it, done by the next
  // successful save (SaveStep) or by the server when no save will come (mode none).
  bool leftover_aof() const { return leftover_aof_; }
  absl::Status RetireLeftoverAof();
  // CONFIG SET appendonly no: syncs and closes the AOF, then removes the file (it would be
  // stale from now on). What was appended stays durable until then.
  absl::Status DisableAof();
  // CONFIG SET appendonly yes: starts a rewrite whose file becomes the live AOF when it
  // finishes (FailedPrecondition while a save or rewrite runs: retry later).
  absl::Status EnableAof();
  bool appendonly() const { return options_.appendonly; }
  // EnableAof's rewrite is running.
  bool enabling_aof() const { return rewrite_ != nullptr && rewrite_->enables_aof; }

  crdt::Keyspace& ks() { return ks_; }
  // ReplicaHost (the replicator's view of this region).
  crdt::Keyspace& keyspace() override { return ks_; }
  const syncer::ReplicationLog& log() override { return *log_; }
  absl::StatusOr<uint64_t> ApplyRemote(std::string_view batch, size_t* ops) override;
  absl::StatusOr<uint64_t> ApplySnapshot(const std::vector<v1::Snapshot>& chunks) override;
  uint64_t durable_lsn() override { return lsn_base_ + aof_->durable_lsn(); }
  const syncer::NamedVV& durable_applied() override;
  uint64_t synced_lsn() { return lsn_base_ + aof_->synced_lsn(); }
  const syncer::NamedVV& synced_applied() override;
  int64_t NowMs() override { return clock_.NowMs(wall_ms_); }
  persistence::Env* env() override { return options_.env; }
  std::string aof_path() override { return options_.data_dir + "/appendonly.aof"; }
  bool replicated() const { return log_ != nullptr; }
  const crdt::Keyspace& ks() const { return ks_; }
  persistence::Aof* aof() { return aof_.get(); }
  const Options& options() const { return options_; }

  // WATCH (region-server/watch.h): while `watches` is not empty, every op applied here -- local,
  // from a peer, or a state merge -- is reported to it. Null: none (the loader's region).
  void set_watches(WatchRegistry* watches) { watches_ = watches; }
  // Blocking commands (region-server/blocking.h): while a client is blocked, every op applied
  // here is reported to `blocking` too, so a push from any client or region wakes it.
  void set_blocking(BlockingKeys* blocking) { blocking_ = blocking; }
  // Keyspace notifications (region-server/notify.h; docs/messaging.md, "Keyspace
  // notifications"): while `notifier` is on, every key op applied here -- a local command's or a
  // peer's -- fires the events Redis names it by ("new" when it creates the key, the op's event,
  // "expire" for a deadline it sets, "del" when it empties a collection). A command whose events
  // Redis names otherwise renames them (NameEvents) or mutes them and notifies itself
  // (MuteEvents, Notify). Null or off: one test per op.
  void set_notifier(Notifier* notifier) { notifier_ = notifier; }
  bool notifying() const { return notifier_ != nullptr && notifier_->on(); }
  // Before each command (Server::Call, also inside MULTI and scripts): forgets the previous
  // command's NameEvents / MuteEvents. `read`: a read-only command, whose lookups of missing
  // keys fire "keymiss" (Redis's lookupKeyRead).
  void BeginCommand(bool read) {
    read_command_ = read;
    event_name_ = {};
    events_muted_ = false;
  }
  // The following key ops of this command fire `event` (a string literal; empty: their own)
  // instead of the op's event, of class `type` (0: the op's class); "new", "expire" and "del"
  // are unchanged. E.g. a stream family: NameEvents("xadd", kNotifyStream) before its op (Redis
  // fires "new" then "xadd"), or MuteEvents + Notify(kNotifyStream, "xtrim", key).
  void NameEvents(std::string_view event, uint32_t type = 0) {
    event_name_ = event;
    event_type_ = type;
  }
  // The following key ops of this command fire nothing (the command calls Notify itself).
  void MuteEvents(bool muted) { events_muted_ = muted; }
  // notifyKeyspaceEvent on the selected database (a no-op when notifications are off).
  void Notify(uint32_t type, std::string_view event, std::string_view key) {
    if (notifying()) notifier_->Notify(type, event, key, db_);
  }
  // Lookup fires "keymiss" for a missing key when the command is a read (BeginCommand). A write
  // command that reads a key as Redis's lookupKeyRead does (SINTERSTORE's sources, GETDEL...)
  // calls this when it found the key missing (a no-op in a read command: Lookup fired it).
  void NotifyKeyMiss(std::string_view key) {
    if (!read_command_) Notify(kNotifyKeyMiss, "keymiss", key);
  }

  // The next op emitted changes nothing Redis would call a modification (where Redis does not
  // call signalModifiedKey), though the CRDT needs it: an SADD of members all present re-adds
  // them so that a concurrent SREM elsewhere does not remove them. WATCH ignores that op.
  void NextOpUnsignalled() { unsignalled_ = true; }
  // Whether such a re-add is needed at all: only where another region may remove the element
  // concurrently. A lone region's ops all happen after each other, so a re-add of what is
  // present changes nothing; it writes nothing, as Redis does (docs/crdt-semantics.md, "Sets").
  bool NeedsReAdds() const { return replicated(); }

  // Switches the fsync policy at run time (CONFIG SET appendfsync): syncs and reopens the AOF.
  absl::Status SetFsyncPolicy(persistence::FsyncPolicy policy);

  // Reads the wall clock once; NowMs() and op timestamps use that reading until the next call.
  // The event loop calls it before each batch of work (a connection's input, a cron tick), as
  // Redis caches its clock per command.
  void RefreshClock() { wall_ms_ = options_.wall_clock(); }
  // Milliseconds "now" for expiry decisions (wall clock, never behind the HLC): NowMs() above.

  // The database lookups, Find and every key op work on (docs/crdt-semantics.md, "Databases"):
  // SelectDb(d) resolves logical database d (a client's SELECT) through the keyspace's database
  // mapping now, and key ops name the physical namespace it gives. The server selects the
  // client's database before each command (and after a SWAPDB, which changes the mapping).
  void SelectDb(uint32_t db) {
    db_ = db;
    ns_ = ks_.NamespaceOf(db);
  }
  uint32_t db() const { return db_; }
  // The physical namespace of the selected database.
  uint32_t ns() const { return ns_; }
  // The selected database's CRDT entry of `key` (expired or not; null when it has no state).
  const crdt::Entry* Find(std::string_view key) const { return ks_.Find(key, ns_); }

  // The key's entry if it exists and has not expired. An expired key is deleted on the spot
  // (a DEL op joins the current batch), as Redis's lazy expiry does.
  const crdt::Entry* Lookup(std::string_view key);
  // Visible value of an existing entry.
  std::string_view ValueOf(const crdt::Entry& e) { return e.Value(ks_.regions()); }
  crdt::ValueType TypeOf(const crdt::Entry& e) const { return e.Type(ks_.regions()); }

  // Before creating `key` from nothing (the caller's Lookup found no visible key) with an op
  // that keeps the expiry (SET KEEPTTL, APPEND, SETRANGE, increments): a key that is invisible
  // but still holds CRDT state (an EXPIRE that raced with a DEL elsewhere) is cleared first, so
  // the new key starts without expiry, as in Redis.
  void PrepareCreate(std::string_view key);

  // Ops of the current command. Each is applied at once.
  void EmitSet(std::string_view key, std::string_view value, v1::ExpiryChange::Kind expiry,
               int64_t deadline_ms = 0);
  void EmitDelete(std::string_view key);
  void EmitIncrement(std::string_view key, int64_t delta);
  void EmitFloatIncrement(std::string_view key, std::string_view delta_text);
  void EmitExpire(std::string_view key, v1::ExpiryChange::Kind kind, int64_t deadline_ms = 0);
  // FLUSHALL (every database).
  void EmitFlush();
  // FLUSHDB: the selected database only.
  void EmitFlushDb();
  // SWAPDB a b (a != b, both < kDatabases): one op carrying the whole new mapping.
  void EmitSwapDb(uint32_t a, uint32_t b);
  // FUNCTION LOAD (the library's code) / DELETE (empty code): one op of the library map.
  void EmitFunctionLibrary(std::string_view name, std::string_view code);
  // Element ops (one op each, whatever the number of elements): every element replaces or
  // removes the instances of it the key holds now (crdt/op_builder.h).
  // `hashtable`: the key takes Redis's hashtable encoding (a copy of a hash that has it).
  void EmitHashSet(std::string_view key,
                   absl::Span<const std::pair<std::string_view, std::string_view>> fields,
                   bool hashtable = false);
  void EmitHashDel(std::string_view key, absl::Span<const std::string_view> fields);
  // `delta_text` empty: HINCRBY by `delta`; else HINCRBYFLOAT by that text.
  void EmitHashIncrement(std::string_view key, std::string_view field, int64_t delta,
                         std::string_view delta_text);
  void EmitSetAdd(std::string_view key, absl::Span<const std::string_view> members,
                  bool hashtable = false);
  void EmitSetRemove(std::string_view key, absl::Span<const std::string_view> members);
  // `skiplist`: the key takes Redis's skiplist encoding.
  void EmitZsetAdd(std::string_view key,
                   absl::Span<const std::pair<std::string_view, double>> members,
                   bool skiplist = false);
  void EmitZsetRemove(std::string_view key, absl::Span<const std::string_view> members);
  void EmitZsetIncrement(std::string_view key, std::string_view member, double delta,
                         bool skiplist = false);

  // Lists (docs/crdt-semantics.md, "Lists"): `values` in the order the command pushes them
  // (LPUSH a b c pushes a first, so the list reads c b a), at the head (`left`) or the tail of
  // the key's list in the selected database.
  void EmitListPush(std::string_view key, absl::Span<const std::string_view> values, bool left);
  // LINSERT: `value` before element i of the key's list (i == its size: after the tail). False,
  // and no op, in the practically unreachable case that no position is left there.
  bool EmitListInsert(std::string_view key, size_t i, std::string_view value);
  // Removes elements of the key's list, named by their indices in it as it is now.
  void EmitListRemove(std::string_view key, absl::Span<const size_t> indices);
  // Removes the `n` elements at one end (a pop).
  void EmitListPop(std::string_view key, size_t n, bool left);
  void EmitListSet(std::string_view key, size_t i, std::string_view value);

  // Streams (docs/crdt-semantics.md, "Streams"): one op on the key's stream whose body `fill`
  // writes (v1::Op::mutable_xadd / xdel / xmeta); `fill` gets the op's HLC.
  void EmitStreamOp(std::string_view key, const std::function<void(crdt::Hlc, v1::Op*)>& fill);
  // This region's slot in auto-generated stream ids: its 1-based position in the topology's
  // region list (1 for a lone region).
  uint64_t stream_slot() const;
  // The wall clock reading of the current command (unix ms).
  int64_t wall_ms() const { return wall_ms_; }

  // Appends the current batch (if any) to the AOF; returns its LSN, or 0 when the command wrote
  // nothing. LSNs keep increasing across AOF reopens (SetFsyncPolicy).
  uint64_t Commit();

  // Active expiry: deletes up to `max_keys` keys whose deadline has passed. Returns how many.
  size_t ExpireSome(size_t max_keys);

  uint64_t expired_keys() const { return expired_keys_; }

  // --- AOF rewrite (docs/aof-format.md, "Rewrite") ---
  // BGREWRITEAOF without a fork: the keyspace's copy-on-write snapshot (Keyspace::BeginSnapshot)
  // is written as snapshot records to appendonly.aof.rewrite, a step at a time, while records
  // appended meanwhile are also kept in memory (the tail). The snapshot part is fsynced on a
  // helper thread; then the tail follows it, and the switch (fsync the old AOF and the new
  // file's last bytes, rename over appendonly.aof, reopen) happens in one step. A failure leaves
  // the old AOF in place and is reported in rewrite_stats().
  struct RewriteStats {
    bool in_progress = false;
    uint64_t rewrites = 0;  // completed since start
    absl::Status last_status;
    int64_t last_duration_ms = -1;
    int64_t started_unix_ms = 0;  // of the one in progress
    // AOF size right after the last rewrite (or at startup): auto-aof-rewrite-percentage's base.
    uint64_t base_size = 0;
    uint64_t snapshot_bytes = 0;  // of the last completed rewrite
  };
  // FailedPrecondition when one is running already.
  absl::Status StartRewrite();
  // Advances a running rewrite by a bounded amount of work (about kRewriteStepBytes of snapshot);
  // `*running` says whether it goes on. A non-OK status means the AOF could not be reopened
  // after the switch: the region can no longer persist anything (fatal).
  absl::Status RewriteStep(bool* running);
  const RewriteStats& rewrite_stats() const { return rewrite_stats_; }

  // --- SAVE / BGSAVE (docs/aof-format.md, "Snapshot files") ---
  // A snapshot file, <data_dir>/dump.akv, written like the rewrite's snapshot part (same
  // copy-on-write snapshot, same steps) to dump.akv.tmp, fsynced, renamed over dump.akv and the
  // folder fsynced. One snapshot of the keyspace at a time: a save and a rewrite never overlap.
  struct SaveStats {
    bool in_progress = false;
    uint64_t saves = 0;  // completed since start
    absl::Status last_status;
    int64_t last_duration_ms = -1;
    int64_t started_unix_ms = 0;   // of the one in progress
    int64_t last_save_unix_s = 0;  // LASTSAVE: the last success (the start-up time until then)
    uint64_t keys_total = 0;       // of the one in progress: the keyspace's size at its moment
    uint64_t keys_written = 0;     // of the one in progress, so far
    uint64_t bytes = 0;            // of the last completed one
    syncer::NamedVV version;       // of the last completed one: the ops its snapshot reflects
  };
  std::string dump_path() const { return options_.data_dir + "/dump.akv"; }
  // The file a start replays: the AOF if it is not empty, else dump.akv if that is not empty
  // (appendonly yes copies it into a new AOF first), else "" (nothing to load).
  std::string StartFile();
  // Changes (ops applied here, local or from peers; not replayed ones) since start-up, and since
  // the moment of the last successful save (INFO's rdb_changes_since_last_save).
  uint64_t changes() const { return changes_; }
  uint64_t changes_since_save() const { return changes_ - changes_at_save_; }
  // Whether a save or a rewrite holds the keyspace's snapshot.
  bool snapshot_busy() const { return rewrite_ != nullptr || save_ != nullptr; }
  // FailedPrecondition while snapshot_busy(); an I/O error when the file cannot be created.
  absl::Status StartSave();
  // Advances a running save by about kRewriteStepBytes; `*running` says whether it goes on. Its
  // outcome is in save_stats().
  void SaveStep(bool* running);
  const SaveStats& save_stats() const { return save_stats_; }
  // Redis's stop-writes-on-bgsave-error with save rules configured (the server keeps it set):
  // while the last save failed, writes get -MISCONF (WriteRefusal).
  void set_stop_writes_on_save_error(bool on) { stop_writes_on_save_error_ = on; }
  bool stop_writes_on_save_error() const { return stop_writes_on_save_error_; }

 private:
  absl::Status OpenAof();
  void Emit(v1::Op* op);
  // Keyspace::Apply, reported to watches_ (one empty() check when nobody watches).
  absl::StatusOr<crdt::Keyspace::Outcome> ApplyOp(const v1::Op& op);
  absl::StatusOr<crdt::Keyspace::Outcome> ApplyWatched(const v1::Op& op);
  // With notifications on: applies `op` and fires its events.
  absl::StatusOr<crdt::Keyspace::Outcome> ApplyNotified(const v1::Op& op);
  absl::StatusOr<crdt::Keyspace::Outcome> ApplyPlain(const v1::Op& op);
  // The logical database whose namespace is `ns` now.
  uint32_t DbOfNamespace(uint32_t ns) const;
  Notifier* notifier_ = nullptr;
  bool read_command_ = false;    // BeginCommand
  bool events_muted_ = false;    // MuteEvents
  bool expiring_ = false;        // the deletes being emitted are expiries
  std::string_view event_name_;  // NameEvents
  uint32_t event_type_ = 0;      // NameEvents
  std::string_view op_event_;    // the event the Emit* helper names its op by (lpush, rpop...)
  WatchRegistry* watches_ = nullptr;
  BlockingKeys* blocking_ = nullptr;
  bool unsignalled_ = false;  // NextOpUnsignalled
  crdt::Hlc Tick() { return clock_.Now(wall_ms_); }
  // A new op in the current batch (on the arena), naming the selected namespace.
  v1::Op* NewOp();

  Options options_;
  crdt::Keyspace ks_;
  // The data directory's origin and markers (after options_, which it reads).
  IncarnationStore incarnation_;
  crdt::HybridClock clock_;
  std::unique_ptr<persistence::Aof> aof_;
  // The current command's ops live on an arena that is reset after each Commit, so the write
  // path does not allocate in steady state.
  std::unique_ptr<char[]> arena_block_;
  std::unique_ptr<google::protobuf::Arena> arena_;
  v1::OpBatch* batch_ = nullptr;
  int64_t wall_ms_ = 0;
  uint32_t db_ = 0;  // SelectDb
  uint32_t ns_ = 0;
  std::string payload_;
  uint64_t expired_keys_ = 0;
  uint64_t lsn_base_ = 0;  // LSNs of AOF instances closed before the current one
  bool resync_snapshot_wanted_ = false;
  // The file Open replays (StartFile).
  std::string source_;
  bool leftover_aof_ = false;
  // Decides this start's origin (incarnation_.Pick) and applies it to the keyspace.
  absl::Status PickIncarnation();
  // Runs `job` on a helper thread, after the previous job ended: the last close of a file that a
  // rename replaced frees its blocks (tens of ms for a large AOF or dump.akv on ext4), which the
  // event loop must not wait for -- Redis's background close job. Joined by ~Region.
  void InBackground(absl::AnyInvocable<void() &&> job);
  std::thread background_;
  // Appends one record to the AOF (and to a running rewrite's tail); returns the AOF-local LSN.
  uint64_t AppendToAof(std::string_view payload, persistence::aof::RecordType type);
  // Merges a complete snapshot into the keyspace (replay or full resync): the clock observes its
  // timestamps; the replication log can no longer serve what it covers.
  absl::StatusOr<uint64_t> MergeChunks(const std::vector<v1::Snapshot>& chunks);
  // Replay: snapshot chunks read so far (a snapshot is merged once its last chunk is read).
  std::vector<v1::Snapshot> replay_snapshot_;
  uint64_t replay_snapshot_offset_ = 0;
  size_t replay_snapshot_chunks_ = 0;  // chunks of the snapshot being replayed, so far
  // Replay of a snapshot into an empty keyspace, a chunk at a time (Keyspace::AdoptChunk): the
  // largest HLC seen and the snapshot's version, applied at its last chunk.
  absl::Status AdoptChunk(const v1::Snapshot& chunk);
  crdt::Hlc adopt_hlc_ = 0;
  syncer::NamedVV adopt_version_;
  // Replay: a unit that AppendRecord split over several records is applied once its last op is
  // read (its ops so far, copied, and its first record's offset); one still open at the end of
  // the file is cut off like a torn tail (docs/aof-format.md, "Units").
  struct ReplayUnit {
    std::vector<v1::Op> ops;
    std::vector<std::string> bytes;
    uint64_t offset = 0;
  };
  ReplayUnit replay_unit_;
  // Replays one op record (parsed as `batch`, its ops' bytes in op_bytes_).
  absl::Status ReplayRecord(const v1::OpBatch& batch, uint64_t offset);
  absl::Status ReplayOp(const v1::Op& op, std::string_view bytes);
  // Applies the open unit's ops (its last was read, or it was never finished) and empties it.
  absl::Status FinishReplayUnit();
  struct Rewrite {
    enum class Phase { kSnapshot, kSyncing };
    Phase phase = Phase::kSnapshot;
    std::unique_ptr<SnapshotFileWriter> writer;  // appendonly.aof.rewrite
    // Records appended to the live AOF since the snapshot's moment, framed, not yet written.
    std::string tail;
    std::chrono::steady_clock::time_point started;
    bool enables_aof = false;  // EnableAof: the new file is the live AOF from then on
  };
  std::unique_ptr<Rewrite> rewrite_;
  RewriteStats rewrite_stats_;
  struct Save {
    std::unique_ptr<SnapshotFileWriter> writer;  // dump.akv.tmp
    uint64_t changes = 0;                        // changes_ at the snapshot's moment
    syncer::NamedVV version;                     // the keyspace's at that moment
    std::chrono::steady_clock::time_point started;
  };
  std::unique_ptr<Save> save_;
  SaveStats save_stats_;
  bool stop_writes_on_save_error_ = false;
  uint64_t changes_ = 0;
  uint64_t changes_at_save_ = 0;
  void FailSave(absl::Status status);
  void FailRewrite(absl::Status status);
  // RewriteStep's exit after a failed step: FailRewrite, not running, OK.
  absl::Status StopRewrite(absl::Status error, bool* running);
  absl::Status FinishRewrite();
  std::unique_ptr<syncer::ReplicationLog> log_;
  // Replicated regions: ops applied but maybe not fsynced yet, by LSN (the first
  // unsynced_durable_ of them are durable already), and what is durable and synced.
  struct PendingOp {
    uint64_t lsn;
    crdt::RegionId origin;
    uint64_t seq;
  };
  // Raises a version vector by pending ops; runs of one origin cost one map lookup.
  class Advancer {
   public:
    Advancer(const Region* region, syncer::NamedVV* vv) : region_(region), vv_(vv) {}
    void Add(const PendingOp& op);

   private:
    const Region* region_;
    syncer::NamedVV* vv_;
    crdt::RegionId origin_ = 0;
    uint64_t* slot_ = nullptr;
  };
  // Appends a record (one per op when too large for one) and returns its global LSN (of the
  // last record: what covers the whole unit).
  uint64_t AppendRecord(std::string_view payload);
  // Replicated regions: `op`, serialized as `bytes`, was persisted under `lsn`.
  void Logged(const v1::Op& op, std::string_view bytes, uint64_t lsn);
  v1::OpBatch remote_;                      // ApplyRemote's parsed batch (reused)
  std::vector<std::string_view> op_bytes_;  // the serialized ops of the batch at hand
  std::vector<int> applied_;                // ApplyRemote: indices of the ops applied
  std::string single_;                      // a one-op record
  std::deque<PendingOp> unsynced_;
  size_t unsynced_durable_ = 0;
  syncer::NamedVV durable_vv_;
  syncer::NamedVV synced_vv_;
};

}  // namespace activekv::server
