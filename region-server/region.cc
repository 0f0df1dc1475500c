#include "region-server/region.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "crdt/op_builder.h"
#include "google/protobuf/arena.h"
#include "persistence/recovery.h"
#include "region-server/blocking.h"
#include "region-server/watch.h"

namespace activekv::server {

WallClock SystemWallClock(int64_t offset_ms) {
  return [offset_ms] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count() +
           offset_ms;
  };
}

namespace {
constexpr size_t kArenaBlock = size_t{64} * 1024;
// The first block of the arena that snapshot chunks are parsed into at startup (a 1 MiB chunk
// parses into about as much again).
constexpr size_t kReplayArenaBytes = 4 << 20;

Region::Options WithDefaults(Region::Options options) {
  if (options.env == nullptr) options.env = persistence::Env::Default();
  if (!options.wall_clock) options.wall_clock = SystemWallClock();
  return options;
}
}  // namespace

Region::Region(Options options)
    : options_(WithDefaults(std::move(options))),
      ks_(options_.name, options_.all_regions),
      incarnation_(options_.env, options_.data_dir, options_.name) {
  google::protobuf::ArenaOptions arena_options;
  arena_block_ = std::make_unique<char[]>(kArenaBlock);
  arena_options.initial_block = arena_block_.get();
  arena_options.initial_block_size = kArenaBlock;
  arena_ = std::make_unique<google::protobuf::Arena>(arena_options);
  batch_ = google::protobuf::Arena::CreateMessage<v1::OpBatch>(arena_.get());
  if (options_.replication_log_ops > 0) {
    log_ = std::make_unique<syncer::ReplicationLog>(options_.replication_log_ops);
  }
  RefreshClock();
}

absl::Status Region::PickIncarnation() {
  IncarnationStore::Start start;
  start.replicated = replicated();
  absl::StatusOr<uint64_t> size = options_.env->GetFileSize(source_);
  start.has_history = !source_.empty() && size.ok() && *size > 0;
  start.complete = options_.appendonly && source_ == aof_path();
  start.fsync_always = options_.fsync == persistence::FsyncPolicy::kAlways;
  absl::Status s = incarnation_.Pick(start);
  if (!s.ok()) return s;
  ks_.ResetLocal(incarnation_.origin());
  // Peers may hold ops of our dead incarnations that we lack; until the replicator has seen them
  // all (ReceiverCore::SyncedToAnnounce), nothing is stable here either. A single region has none.
  if (!incarnation_.joining() && incarnation_.incarnation() > 0 && replicated()) {
    ks_.HoldStability(true);
  }
  return absl::OkStatus();
}

absl::Status Region::FinishJoin(uint64_t incarnation) {
  if (!incarnation_.joining()) return absl::OkStatus();
  absl::StatusOr<std::string> origin = incarnation_.RecordJoin(incarnation);
  if (!origin.ok()) return origin.status();
  if (*origin != options_.name) {
    if (!ks_.ResetLocal(*origin)) {
      return absl::FailedPreconditionError(absl::StrCat("origin ", *origin, " has ops already"));
    }
    // Until it has every op of the earlier instance that peers hold (ReceiverCore).
    ks_.HoldStability(true);
  }
  return incarnation_.JoinDone();
}

absl::Status Region::MarkCleanShutdown() { return incarnation_.MarkCleanShutdown(); }

absl::Status Region::FinishCatchUp() {
  if (incarnation_.joining() || !incarnation_.catching_up()) return absl::OkStatus();
  return incarnation_.FinishCatchUp();
}

std::string Region::StartFile() {
  for (const std::string& path : {aof_path(), dump_path()}) {
    absl::StatusOr<uint64_t> size = options_.env->GetFileSize(path);
    if (size.ok() && *size > 0) return path;
  }
  return "";
}

absl::Status Region::RetireLeftoverAof() {
  if (!leftover_aof_) return absl::OkStatus();
  absl::Status s = options_.env->RemoveFile(aof_path());
  if (s.ok()) s = options_.env->SyncDir(options_.data_dir);
  if (s.ok()) leftover_aof_ = false;
  return s;
}

absl::Status Region::Open(persistence::RecoveryResult* recovery) {
  absl::Status s = options_.env->CreateDirs(options_.data_dir);
  if (!s.ok()) return s;
  // A rewrite, a save or a copy that did not finish (the process died): its file was never the
  // AOF or the snapshot file.
  for (const std::string& stale :
       {aof_path() + ".rewrite", dump_path() + ".tmp", aof_path() + ".tmp"}) {
    if (!options_.env->FileExists(stale)) continue;
    s = options_.env->RemoveFile(stale);
    if (!s.ok()) return s;
  }
  source_ = StartFile();
  // appendonly no: a leftover AOF (the mode was aof until this start) holds the newest state:
  // loaded once, then retired (RetireLeftoverAof) so that a stale one is never loaded later.
  leftover_aof_ = !options_.appendonly && source_ == aof_path();
  s = PickIncarnation();
  if (!s.ok()) return s;
  if (options_.appendonly && source_ == dump_path()) {
    // Redis 7 too: appendonly yes with no AOF yet starts from the RDB. The AOF begins with the
    // snapshot, so it holds the whole state from then on. Only after PickIncarnation: a crash
    // after the copy must not make the next start take the copy for a complete history.
    s = persistence::CopyFileDurably(options_.env, dump_path(), aof_path());
    if (!s.ok()) return s;
    source_ = aof_path();
  }
  save_stats_.last_save_unix_s = options_.wall_clock() / 1000;  // Redis: saved at start-up
  if (source_.empty()) {
    durable_vv_ = syncer::FromKeyspace(ks_);
    synced_vv_ = durable_vv_;
    return OpenAof();
  }
  const std::string path = source_;
  // A snapshot file is complete by construction: damage is an error, never cut off.
  const bool snapshot_file = path == dump_path();
  persistence::RecoveryOptions recovery_options = options_.recovery;
  if (snapshot_file) recovery_options.truncate_torn_tail = false;
  v1::OpBatch batch;
  // Snapshot chunks are parsed into an arena, dropped whole after each: a chunk is about a
  // thousand keys of several small messages and strings each, and freeing them one by one cost
  // more than adopting them.
  std::unique_ptr<char[]> arena_block(new char[kReplayArenaBytes]);
  google::protobuf::ArenaOptions arena_options;
  arena_options.initial_block = arena_block.get();
  arena_options.initial_block_size = kReplayArenaBytes;
  google::protobuf::Arena arena(arena_options);
  ks_.BeginBulkLoad();  // the key index is built once at the end (Keyspace::BeginBulkLoad)
  s = persistence::RecoverAof(
      options_.env, path,
      [&](const persistence::AofRecord& record) -> absl::Status {
        std::string_view payload = record.payload;
        if (record.type == persistence::aof::kSnapshotType) {
          absl::Status unit = FinishReplayUnit();  // never open here; if it were, it ends here
          if (!unit.ok()) return unit;
          arena.Reset();
          v1::Snapshot& chunk = *google::protobuf::Arena::CreateMessage<v1::Snapshot>(&arena);
          if (!chunk.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
            return absl::DataLossError(absl::StrCat(path, ": record is not a valid snapshot"));
          }
          if (chunk.first() == (!replay_snapshot_.empty() || ks_.adopting())) {
            return absl::DataLossError(absl::StrCat(
                path, chunk.first() ? ": a snapshot starts inside another one"
                                    : ": snapshot chunk without the chunk that starts it"));
          }
          if (chunk.first()) {
            replay_snapshot_offset_ = record.offset;
            replay_snapshot_chunks_ = 0;
          }
          ++replay_snapshot_chunks_;
          if (ks_.adopting() || (chunk.first() && ks_.HoldsNothing())) {
            // Into nothing (the base of a rewritten AOF, a snapshot file): each chunk goes
            // straight into the keyspace as it is read, none is kept.
            absl::Status adopted = AdoptChunk(chunk);
            if (!adopted.ok()) {
              return absl::DataLossError(absl::StrCat(path, ": ", adopted.message()));
            }
            return absl::OkStatus();
          }
          const bool last = chunk.last();
          replay_snapshot_.push_back(chunk);  // a copy off the arena (rare: a received snapshot)
          if (!last) return absl::OkStatus();
          absl::StatusOr<uint64_t> merged = MergeChunks(replay_snapshot_);
          replay_snapshot_.clear();
          if (!merged.ok()) {
            return absl::DataLossError(absl::StrCat(path, ": ", merged.status().message()));
          }
          return absl::OkStatus();
        }
        if (!replay_snapshot_.empty() || ks_.adopting()) {
          return absl::DataLossError(absl::StrCat(path, ": op record inside a snapshot"));
        }
        if (!batch.ParseFromArray(payload.data(), static_cast<int>(payload.size())) ||
            !syncer::SplitBatch(payload, &op_bytes_) ||
            op_bytes_.size() != static_cast<size_t>(batch.ops_size())) {
          return absl::DataLossError(absl::StrCat(path, ": record is not a valid op batch"));
        }
        return ReplayRecord(batch, record.offset);
      },
      recovery, recovery_options);
  ks_.EndBulkLoad();
  if (!s.ok()) return s;
  const bool in_snapshot = !replay_snapshot_.empty() || ks_.adopting();
  if (snapshot_file && (!replay_unit_.ops.empty() || in_snapshot)) {
    return absl::DataLossError(absl::StrCat(path, ": ends inside a snapshot or a unit"));
  }
  if (!replay_unit_.ops.empty()) {
    // The file ends inside a unit that was split over several records (AppendRecord): its last
    // record never made it to disk, so none of it was acknowledged (a client's reply and a
    // peer's ack wait for the LSN of the unit's last record; peers get a unit only once that
    // is durable). Cut it off like a torn tail: half a unit is never applied.
    s = options_.env->Truncate(path, replay_unit_.offset);
    if (!s.ok()) return s;
    recovery->torn_tail = true;
    recovery->truncated_bytes += recovery->valid_bytes - replay_unit_.offset;
    recovery->valid_bytes = replay_unit_.offset;
    recovery->torn_tail_reason = absl::StrCat("incomplete unit (", replay_unit_.ops.size(),
                                              " ops from ", replay_unit_.ops[0].origin(), ":",
                                              replay_unit_.ops[0].seq(), ", its last op missing)");
    replay_unit_ = ReplayUnit();
  }
  if (in_snapshot) {
    // The process died while appending a snapshot: none of it was acknowledged (a peer's full
    // resync is acked once all of it is durable; a rewrite writes its own file). Cut it off like
    // a torn tail.
    s = options_.env->Truncate(path, replay_snapshot_offset_);
    if (!s.ok()) return s;
    recovery->torn_tail = true;
    recovery->truncated_bytes += recovery->valid_bytes - replay_snapshot_offset_;
    recovery->valid_bytes = replay_snapshot_offset_;
    recovery->torn_tail_reason =
        absl::StrCat("incomplete snapshot (", replay_snapshot_chunks_, " chunks, no last chunk)");
    replay_snapshot_.clear();
    ks_.AbortAdopt();
  }
  rewrite_stats_.base_size = recovery->valid_bytes;
  // Everything replayed is in the AOF (Aof::Open fsyncs it) or in the snapshot file.
  durable_vv_ = syncer::FromKeyspace(ks_);
  synced_vv_ = durable_vv_;
  if (snapshot_file) save_stats_.version = durable_vv_;  // what dump.akv holds (ResyncFile)
  return OpenAof();
}

absl::Status Region::ReplayOp(const v1::Op& op, std::string_view bytes) {
  clock_.Observe(op.hlc());
  absl::StatusOr<crdt::Keyspace::Outcome> r = ks_.Apply(op);
  if (!r.ok()) {
    return absl::DataLossError(
        absl::StrCat(aof_path(), ": op ", op.origin(), ":", op.seq(), ": ", r.status().message()));
  }
  // The AOF is this region's history: the newest ops serve peers after a restart.
  if (log_ && *r == crdt::Keyspace::Outcome::kApplied) {
    log_->Append(op.origin(), op.seq(), op.hlc(), bytes, 0, op.unit_continues());
  }
  return absl::OkStatus();
}

absl::Status Region::FinishReplayUnit() {
  ReplayUnit unit = std::move(replay_unit_);
  replay_unit_ = ReplayUnit();
  for (size_t i = 0; i < unit.ops.size(); ++i) {
    absl::Status s = ReplayOp(unit.ops[i], unit.bytes[i]);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Region::ReplayRecord(const v1::OpBatch& batch, uint64_t offset) {
  const int n = batch.ops_size();
  // Ops from `open` on belong to a unit that goes on in the next record (AppendRecord wrote it
  // one op per record); they are applied once its last op is read.
  int open = n;
  if (n > 0 && batch.ops(n - 1).unit_continues()) {
    open = n - 1;
    while (open > 0 && batch.ops(open - 1).unit_continues()) --open;
  }
  for (int i = 0; i < n; ++i) {
    const v1::Op& op = batch.ops(i);
    const std::string_view bytes = op_bytes_[static_cast<size_t>(i)];
    if (!replay_unit_.ops.empty()) {
      const v1::Op& last = replay_unit_.ops.back();
      if (op.origin() == last.origin() && op.seq() == last.seq() + 1) {
        replay_unit_.ops.push_back(op);
        replay_unit_.bytes.emplace_back(bytes);
        if (op.unit_continues()) continue;
        absl::Status s = FinishReplayUnit();  // its last op
        if (!s.ok()) return s;
        continue;
      }
      // An op of another unit: the open one was never finished (never written so). What was
      // read of it is applied, as it was live.
      absl::Status s = FinishReplayUnit();
      if (!s.ok()) return s;
    }
    if (i >= open) {
      if (replay_unit_.ops.empty()) replay_unit_.offset = offset;
      replay_unit_.ops.push_back(op);
      replay_unit_.bytes.emplace_back(bytes);
      continue;
    }
    absl::Status s = ReplayOp(op, bytes);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Region::OpenAof() {
  if (!options_.appendonly) {
    aof_ = persistence::Aof::OpenWithoutFile(options_.fsync);
    return absl::OkStatus();
  }
  persistence::Aof::Options aof_options;
  aof_options.env = options_.env;
  aof_options.path = options_.data_dir + "/appendonly.aof";
  aof_options.policy = options_.fsync;
  aof_options.on_durable = options_.on_durable;
  // Peers fold counters only once every region has fsynced the increments (Stability in
  // docs/replication-protocol.md), so a replicated region fsyncs in the background even with
  // appendfsync no; the write path never waits for it.
  if (replicated()) aof_options.no_sync_interval = absl::Seconds(1);
  absl::StatusOr<std::unique_ptr<persistence::Aof>> aof = persistence::Aof::Open(aof_options);
  if (!aof.ok()) return aof.status();
  aof_ = std::move(*aof);
  return absl::OkStatus();
}

absl::Status Region::SetFsyncPolicy(persistence::FsyncPolicy policy) {
  if (policy == options_.fsync) return absl::OkStatus();
  if (!options_.appendonly) {  // reported only until the AOF is on again
    lsn_base_ += aof_->appended_lsn();
    options_.fsync = policy;
    aof_ = persistence::Aof::OpenWithoutFile(policy);
    return absl::OkStatus();
  }
  absl::Status s = aof_->Close();
  if (!s.ok()) return s;
  lsn_base_ += aof_->appended_lsn();
  aof_.reset();
  options_.fsync = policy;
  return OpenAof();
}

const crdt::Entry* Region::Lookup(std::string_view key) {
  const crdt::Entry* e = ks_.Find(key, ns_);
  if (e == nullptr || !e->Exists()) {
    if (read_command_) Notify(kNotifyKeyMiss, "keymiss", key);
    return nullptr;
  }
  int64_t deadline = e->DeadlineMs();
  if (deadline != crdt::kNoDeadline && deadline <= NowMs()) {
    if (rejoining()) return nullptr;  // no op before the join; the delete comes later
    expiring_ = true;
    EmitDelete(key);
    expiring_ = false;
    ++expired_keys_;
    if (read_command_) Notify(kNotifyKeyMiss, "keymiss", key);
    return nullptr;
  }
  return e;
}

v1::Op* Region::NewOp() {
  v1::Op* op = batch_->add_ops();
  if (ns_ != 0) op->set_db(ns_);
  return op;
}

absl::StatusOr<crdt::Keyspace::Outcome> Region::ApplyOp(const v1::Op& op) {
  absl::StatusOr<crdt::Keyspace::Outcome> r =
      notifier_ != nullptr && notifier_->on() ? ApplyNotified(op) : ApplyPlain(op);
  if (r.ok() && *r == crdt::Keyspace::Outcome::kApplied) ++changes_;
  return r;
}

absl::StatusOr<crdt::Keyspace::Outcome> Region::ApplyPlain(const v1::Op& op) {
  absl::StatusOr<crdt::Keyspace::Outcome> r =
      watches_ == nullptr || watches_->empty() ? ks_.Apply(op) : ApplyWatched(op);
  if (blocking_ != nullptr && !blocking_->empty() && r.ok() &&
      *r == crdt::Keyspace::Outcome::kApplied) {
    blocking_->AfterOp(op, ks_);
  }
  return r;
}

absl::StatusOr<crdt::Keyspace::Outcome> Region::ApplyWatched(const v1::Op& op) {
  if (op.has_flush()) {
    // Which watched keys a flush removes is known before it is applied (a duplicate from a
    // relay touches them too: conservative, an EXEC aborts that need not have).
    watches_->BeforeFlush(op, ks_);
    return ks_.Apply(op);
  }
  if (op.has_swapdb()) {
    const crdt::DbMapping before = ks_.db_mapping();
    absl::StatusOr<crdt::Keyspace::Outcome> r = ks_.Apply(op);
    if (r.ok()) watches_->AfterMappingChange(before, ks_, NowMs());
    return r;
  }
  absl::StatusOr<crdt::Keyspace::Outcome> r = ks_.Apply(op);
  if (r.ok() && *r == crdt::Keyspace::Outcome::kApplied && !unsignalled_) {
    watches_->AfterKeyOp(op, ks_, NowMs());
  }
  return r;
}

void Region::Emit(v1::Op* op) {
  absl::StatusOr<crdt::Keyspace::Outcome> r = ApplyOp(*op);
  unsignalled_ = false;
  op_event_ = {};
  // A local op is well formed and next in sequence by construction.
  assert(r.ok() && *r == crdt::Keyspace::Outcome::kApplied);
  (void)r;
}

void Region::PrepareCreate(std::string_view key) {
  const crdt::Entry* e = ks_.Find(key, ns_);
  if (e != nullptr && !e->Exists()) EmitDelete(key);
}

void Region::EmitSet(std::string_view key, std::string_view value, v1::ExpiryChange::Kind expiry,
                     int64_t deadline_ms) {
  v1::Op* op = NewOp();
  crdt::MakeSetOp(ks_, Tick(), key, value, expiry, deadline_ms, op);
  Emit(op);
}
void Region::EmitDelete(std::string_view key) {
  v1::Op* op = NewOp();
  crdt::MakeDeleteOp(ks_, Tick(), key, op);
  Emit(op);
}
void Region::EmitIncrement(std::string_view key, int64_t delta) {
  v1::Op* op = NewOp();
  crdt::MakeIncrementOp(ks_, Tick(), key, delta, op);
  Emit(op);
}
void Region::EmitFloatIncrement(std::string_view key, std::string_view delta_text) {
  v1::Op* op = NewOp();
  crdt::MakeFloatIncrementOp(ks_, Tick(), key, delta_text, op);
  Emit(op);
}
void Region::EmitExpire(std::string_view key, v1::ExpiryChange::Kind kind, int64_t deadline_ms) {
  v1::Op* op = NewOp();
  crdt::MakeExpireOp(ks_, Tick(), key, kind, deadline_ms, op);
  Emit(op);
}
void Region::EmitFlush() {
  v1::Op* op = batch_->add_ops();  // every namespace: no db
  crdt::MakeFlushOp(ks_, Tick(), op);
  Emit(op);
}
void Region::EmitFlushDb() {
  v1::Op* op = batch_->add_ops();
  crdt::MakeFlushDbOp(ks_, Tick(), ns_, op);
  Emit(op);
}
void Region::EmitSwapDb(uint32_t a, uint32_t b) {
  crdt::DbMapping mapping = ks_.db_mapping();
  std::swap(mapping[a], mapping[b]);
  v1::Op* op = batch_->add_ops();
  crdt::MakeSwapDbOp(ks_, Tick(), mapping, op);
  Emit(op);
  SelectDb(db_);  // the selected database may now live in another namespace
}

void Region::EmitFunctionLibrary(std::string_view name, std::string_view code) {
  v1::Op* op = batch_->add_ops();  // no key, no db
  crdt::MakeFunctionOp(ks_, Tick(), name, code, op);
  Emit(op);
}

void Region::EmitHashSet(std::string_view key,
                         absl::Span<const std::pair<std::string_view, std::string_view>> fields,
                         bool hashtable) {
  v1::Op* op = NewOp();
  crdt::MakeHashSetOp(ks_, Tick(), key, op);
  if (hashtable) op->mutable_hset()->set_hashtable(true);
  for (const auto& [field, value] : fields) crdt::AddHashElement(field, value, op);
  Emit(op);
}
void Region::EmitHashDel(std::string_view key, absl::Span<const std::string_view> fields) {
  v1::Op* op = NewOp();
  crdt::MakeHashDelOp(ks_, Tick(), key, op);
  for (std::string_view field : fields) crdt::AddHashElement(field, "", op);
  Emit(op);
}
void Region::EmitHashIncrement(std::string_view key, std::string_view field, int64_t delta,
                               std::string_view delta_text) {
  v1::Op* op = NewOp();
  crdt::MakeHashIncrementOp(ks_, Tick(), key, field, delta, delta_text, op);
  Emit(op);
}
void Region::EmitSetAdd(std::string_view key, absl::Span<const std::string_view> members,
                        bool hashtable) {
  v1::Op* op = NewOp();
  crdt::MakeSetAddOp(ks_, Tick(), key, op);
  if (hashtable) op->mutable_sadd()->set_hashtable(true);
  for (std::string_view m : members) crdt::AddSetElement(m, op);
  Emit(op);
}
void Region::EmitSetRemove(std::string_view key, absl::Span<const std::string_view> members) {
  v1::Op* op = NewOp();
  crdt::MakeSetRemoveOp(ks_, Tick(), key, op);
  for (std::string_view m : members) crdt::AddSetElement(m, op);
  Emit(op);
}
namespace {

const crdt::ListValue& ListOf(const crdt::Entry* e) {
  static const crdt::ListValue kEmpty;
  return e != nullptr && e->list() != nullptr ? *e->list() : kEmpty;
}

}  // namespace

void Region::EmitListPush(std::string_view key, absl::Span<const std::string_view> values,
                          bool left) {
  const crdt::ListValue& list = ListOf(ks_.Find(key, ns_));
  const crdt::Hlc hlc = Tick();
  v1::Op* op = NewOp();
  crdt::MakeListInsertOp(ks_, hlc, key, left ? list.PlaceAtHead(hlc) : list.PlaceAtTail(hlc), op);
  if (left) {
    for (size_t i = values.size(); i-- > 0;) crdt::AddListValue(values[i], op);
  } else {
    for (std::string_view v : values) crdt::AddListValue(v, op);
  }
  op_event_ = left ? "lpush" : "rpush";
  Emit(op);
}

bool Region::EmitListInsert(std::string_view key, size_t i, std::string_view value) {
  const crdt::ListValue& list = ListOf(ks_.Find(key, ns_));
  crdt::ListValue::Placement placement;
  if (!list.PlaceBefore(i, &placement).ok()) return false;
  v1::Op* op = NewOp();
  crdt::MakeListInsertOp(ks_, Tick(), key, placement, op);
  crdt::AddListValue(value, op);
  op_event_ = "linsert";
  Emit(op);
  return true;
}

void Region::EmitListRemove(std::string_view key, absl::Span<const size_t> indices) {
  const crdt::ListValue& list = ListOf(ks_.Find(key, ns_));
  v1::Op* op = NewOp();
  crdt::MakeListRemoveOp(ks_, Tick(), key, op);
  for (size_t i : indices) crdt::AddListRef(ks_, list.at(i), op);
  Emit(op);
}

void Region::EmitListPop(std::string_view key, size_t n, bool left) {
  const size_t size = ListOf(ks_.Find(key, ns_)).size();
  absl::InlinedVector<size_t, 8> indices;
  for (size_t k = 0; k < n && k < size; ++k) indices.push_back(left ? k : size - 1 - k);
  op_event_ = left ? "lpop" : "rpop";
  EmitListRemove(key, indices);
}

void Region::EmitListSet(std::string_view key, size_t i, std::string_view value) {
  const crdt::ListValue& list = ListOf(ks_.Find(key, ns_));
  v1::Op* op = NewOp();
  crdt::MakeListSetOp(ks_, Tick(), key, list.at(i), value, op);
  Emit(op);
}

void Region::EmitStreamOp(std::string_view key,
                          const std::function<void(crdt::Hlc, v1::Op*)>& fill) {
  const crdt::Hlc hlc = Tick();
  v1::Op* op = NewOp();
  crdt::MakeStreamOp(ks_, hlc, key, op);
  fill(hlc, op);
  Emit(op);
}

uint64_t Region::stream_slot() const {
  const auto& all = options_.all_regions;
  auto it = std::find(all.begin(), all.end(), options_.name);
  return it == all.end() ? 1 : static_cast<uint64_t>(it - all.begin()) + 1;
}

void Region::EmitZsetAdd(std::string_view key,
                         absl::Span<const std::pair<std::string_view, double>> members,
                         bool skiplist) {
  v1::Op* op = NewOp();
  crdt::MakeZsetAddOp(ks_, Tick(), key, op);
  if (skiplist) op->mutable_zadd()->set_skiplist(true);
  for (const auto& [m, score] : members) crdt::AddZsetElement(m, score, op);
  Emit(op);
}
void Region::EmitZsetRemove(std::string_view key, absl::Span<const std::string_view> members) {
  v1::Op* op = NewOp();
  crdt::MakeZsetRemoveOp(ks_, Tick(), key, op);
  for (std::string_view m : members) crdt::AddZsetElement(m, 0, op);
  Emit(op);
}
void Region::EmitZsetIncrement(std::string_view key, std::string_view member, double delta,
                               bool skiplist) {
  v1::Op* op = NewOp();
  crdt::MakeZsetIncrementOp(ks_, Tick(), key, member, delta, op);
  if (skiplist) op->mutable_zincr()->set_skiplist(true);
  Emit(op);
}

uint64_t Region::Commit() {
  unsignalled_ = false;  // never carried over to another command
  if (batch_->ops_size() == 0) return 0;
  // The command's ops are one unit (docs/replication-protocol.md, "Units").
  for (int i = 0; i + 1 < batch_->ops_size(); ++i) batch_->mutable_ops(i)->set_unit_continues(true);
  payload_.clear();
  batch_->SerializeToString(&payload_);
  op_bytes_.clear();
  if (log_) {
    // The log keeps each op's bytes: slices of the record, not a second encoding.
    const bool split = syncer::SplitBatch(payload_, &op_bytes_);
    assert(split && op_bytes_.size() == static_cast<size_t>(batch_->ops_size()));
    (void)split;
  }
  const uint64_t lsn = AppendRecord(payload_);
  for (size_t i = 0; i < op_bytes_.size(); ++i) {
    Logged(batch_->ops(static_cast<int>(i)), op_bytes_[i], lsn);
  }
  arena_->Reset();
  batch_ = google::protobuf::Arena::CreateMessage<v1::OpBatch>(arena_.get());
  return lsn;
}

uint64_t Region::AppendRecord(std::string_view payload) {
  uint64_t lsn = AppendToAof(payload, persistence::aof::kOpBatchType);
  if (lsn == 0) {
    // Larger than one AOF record may be (an MSET of several huge values): one record per op.
    // Each op alone fits, since values are capped by proto-max-bulk-len.
    std::vector<std::string_view> ops;
    syncer::SplitBatch(payload, &ops);
    for (std::string_view op : ops) {
      single_.clear();
      syncer::AppendOpToBatch(op, &single_);
      lsn = AppendToAof(single_, persistence::aof::kOpBatchType);
    }
  }
  if (options_.on_commit) options_.on_commit();
  return lsn == 0 ? 0 : lsn_base_ + lsn;
}

void Region::Logged(const v1::Op& op, std::string_view bytes, uint64_t lsn) {
  log_->Append(op.origin(), op.seq(), op.hlc(), bytes, lsn, op.unit_continues());
  crdt::RegionId origin;
  if (ks_.regions().Find(op.origin(), &origin)) {
    unsynced_.push_back(PendingOp{lsn, origin, op.seq()});
  }
}

const syncer::NamedVV& Region::durable_applied() {
  const uint64_t durable = durable_lsn();
  Advancer durable_vv(this, &durable_vv_);
  while (unsynced_durable_ < unsynced_.size() && unsynced_[unsynced_durable_].lsn <= durable) {
    durable_vv.Add(unsynced_[unsynced_durable_++]);
  }
  return durable_vv_;
}

const syncer::NamedVV& Region::synced_applied() {
  const uint64_t synced = synced_lsn();
  Advancer durable_vv(this, &durable_vv_);
  Advancer synced_vv(this, &synced_vv_);
  while (!unsynced_.empty() && unsynced_.front().lsn <= synced) {
    if (unsynced_durable_ == 0) {
      durable_vv.Add(unsynced_.front());  // synced implies durable
    } else {
      --unsynced_durable_;
    }
    synced_vv.Add(unsynced_.front());
    unsynced_.pop_front();
  }
  return synced_vv_;
}

void Region::Advancer::Add(const PendingOp& op) {
  if (op.origin != origin_ || slot_ == nullptr) {
    origin_ = op.origin;
    slot_ = &(*vv_)[region_->ks_.regions().Name(op.origin)];
  }
  if (op.seq > *slot_) *slot_ = op.seq;
}

absl::StatusOr<uint64_t> Region::ApplyRemote(std::string_view bytes, size_t* ops) {
  *ops = 0;
  if (!remote_.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      !syncer::SplitBatch(bytes, &op_bytes_) ||
      op_bytes_.size() != static_cast<size_t>(remote_.ops_size())) {
    return absl::InvalidArgumentError("undecodable op batch");
  }
  *ops = op_bytes_.size();
  // Whole units only (SyncerCore never cuts one): a unit is applied in this one step.
  for (int i = 0; i < remote_.ops_size(); ++i) {
    const v1::Op& op = remote_.ops(i);
    if (!op.unit_continues()) continue;
    if (i + 1 == remote_.ops_size() || remote_.ops(i + 1).origin() != op.origin() ||
        remote_.ops(i + 1).seq() != op.seq() + 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("op batch cuts a unit after op ", op.origin(), ":", op.seq()));
    }
  }
  absl::Status error;
  applied_.clear();
  for (int i = 0; i < remote_.ops_size(); ++i) {
    const v1::Op& op = remote_.ops(i);
    clock_.Observe(op.hlc());
    absl::StatusOr<crdt::Keyspace::Outcome> r = ApplyOp(op);
    if (!r.ok()) {
      error = r.status();
      break;
    }
    if (*r == crdt::Keyspace::Outcome::kApplied) applied_.push_back(i);
  }
  // What was applied is persisted (as the peer's bytes, not re-encoded) even when a later op of
  // the batch was refused.
  uint64_t lsn = 0;
  std::string closed;
  if (!error.ok() && !applied_.empty() && remote_.ops(applied_.back()).unit_continues()) {
    // Refused inside a unit (a malformed op): the part applied is closed as a unit of its own,
    // as it was applied, so the AOF and the log never hold an unfinished unit.
    v1::Op* last = remote_.mutable_ops(applied_.back());
    last->clear_unit_continues();
    last->SerializeToString(&closed);
    op_bytes_[static_cast<size_t>(applied_.back())] = closed;
  }
  if (!applied_.empty()) {
    std::string_view payload = bytes;
    if (applied_.size() != op_bytes_.size()) {
      payload_.clear();
      for (int i : applied_) syncer::AppendOpToBatch(op_bytes_[static_cast<size_t>(i)], &payload_);
      payload = payload_;
    }
    lsn = AppendRecord(payload);
    for (int i : applied_) Logged(remote_.ops(i), op_bytes_[static_cast<size_t>(i)], lsn);
  }
  if (!error.ok()) return error;
  return lsn;
}

uint32_t Region::DbOfNamespace(uint32_t ns) const {
  const crdt::DbMapping& mapping = ks_.db_mapping();
  for (uint32_t db = 0; db < crdt::kDatabases; ++db) {
    if (mapping[db] == ns) return db;
  }
  return ns;
}

namespace {

// The event a key op fires when no command names it (a peer's op; a local op whose name is
// Redis's): its class and name; an empty name fires nothing.
std::pair<uint32_t, std::string_view> OpEvent(const v1::Op& op) {
  switch (op.body_case()) {
    case v1::Op::kSet:
      return {kNotifyString, "set"};
    case v1::Op::kAdd:
      return {kNotifyString, op.add().float_delta().empty() ? "incrby" : "incrbyfloat"};
    case v1::Op::kExpire:
      switch (op.expire().expiry().kind()) {
        case v1::ExpiryChange::DEADLINE:
          return {kNotifyGeneric, "expire"};
        case v1::ExpiryChange::PERSIST:
          return {kNotifyGeneric, "persist"};
        default:
          return {0, {}};
      }
    case v1::Op::kHset:
      return {kNotifyHash, "hset"};
    case v1::Op::kHdel:
      return {kNotifyHash, "hdel"};
    case v1::Op::kHincr:
      return {kNotifyHash, op.hincr().float_delta().empty() ? "hincrby" : "hincrbyfloat"};
    case v1::Op::kSadd:
      return {kNotifySet, "sadd"};
    case v1::Op::kSrem:
      return {kNotifySet, "srem"};
    case v1::Op::kZadd:
      return {kNotifyZset, "zadd"};
    case v1::Op::kZrem:
      return {kNotifyZset, "zrem"};
    case v1::Op::kZincr:
      return {kNotifyZset, "zincr"};
    case v1::Op::kLinsert:
      return {kNotifyList, "linsert"};
    case v1::Op::kLrem:
      return {kNotifyList, "lrem"};
    case v1::Op::kLset:
      return {kNotifyList, "lset"};
    case v1::Op::kXadd:
      return {kNotifyStream, "xadd"};
    case v1::Op::kXdel:
      return {kNotifyStream, "xdel"};
    default:  // del (below), flush, swapdb, function: no key event; nor a stream's metadata or
              // group op, whose events depend on the command (stream_family.cc names them).
      return {0, {}};
  }
}

}  // namespace

absl::StatusOr<crdt::Keyspace::Outcome> Region::ApplyNotified(const v1::Op& op) {
  const bool keyed = op.body_case() != v1::Op::kFlush && op.body_case() != v1::Op::kSwapdb &&
                     op.body_case() != v1::Op::kFunction && op.body_case() != v1::Op::BODY_NOT_SET;
  const bool quiet = unsignalled_ || events_muted_;
  const std::string_view key = op.key();
  const uint32_t ns = op.db();
  bool existed = false;
  bool past_deadline = false;
  if (keyed && !quiet) {
    if (const crdt::Entry* e = ks_.Find(key, ns); e != nullptr && e->Exists()) {
      existed = true;
      const int64_t deadline = e->DeadlineMs();
      past_deadline = deadline != crdt::kNoDeadline && deadline <= NowMs();
    }
  }
  absl::StatusOr<crdt::Keyspace::Outcome> r = ApplyPlain(op);
  if (!keyed || quiet || !r.ok() || *r != crdt::Keyspace::Outcome::kApplied) return r;
  const uint32_t db = DbOfNamespace(ns);
  if (op.body_case() == v1::Op::kDel) {
    // A delete of a key whose deadline has passed is its expiry: this region's own (lazy or
    // active), or a peer's that arrived before this region expired the key itself.
    if (!existed) return r;
    if (expiring_ || past_deadline) {
      notifier_->Notify(kNotifyExpired, "expired", key, db);
    } else {
      notifier_->Notify(kNotifyGeneric, "del", key, db);
    }
    return r;
  }
  const crdt::Entry* e = ks_.Find(key, ns);
  const bool exists = e != nullptr && e->Exists();
  if (!existed && exists) notifier_->Notify(kNotifyNew, "new", key, db);
  auto [type, name] = OpEvent(op);
  if (!event_name_.empty()) {
    name = event_name_;
    if (event_type_ != 0) type = event_type_;
  } else if (!op_event_.empty()) {
    name = op_event_;
  } else if (op.body_case() == v1::Op::kLinsert) {
    // A peer's insert: "lpush" when its values landed at the head, "rpush" at the tail.
    const crdt::ListValue* list = e != nullptr ? e->list() : nullptr;
    const auto& values = op.linsert().values();
    if (list != nullptr && !list->empty() && !values.empty()) {
      const bool head = list->at(0).value.view() == values[0];
      const bool tail = list->at(list->size() - 1).value.view() == values[values.size() - 1];
      if (head && tail) {
        // Only these values (a new list): a head placement has a negative digit.
        name = op.linsert().digit() < 0 ? "lpush" : "rpush";
      } else if (head) {
        name = "lpush";
      } else if (tail) {
        name = "rpush";
      }
    }
  }
  if (!name.empty()) notifier_->Notify(type, name, key, db);
  if (op.body_case() == v1::Op::kSet && op.set().expiry().kind() == v1::ExpiryChange::DEADLINE) {
    notifier_->Notify(kNotifyGeneric, "expire", key, db);
  }
  if (existed && !exists) notifier_->Notify(kNotifyGeneric, "del", key, db);
  return r;
}

size_t Region::ExpireSome(size_t max_keys) {
  if (rejoining()) return 0;
  int64_t now = NowMs();
  std::vector<std::pair<uint32_t, std::string>> expired;
  for (uint32_t ns = 0; ns < crdt::kDatabases; ++ns) {
    for (const auto& [deadline, key] : ks_.deadlines(ns)) {
      if (deadline > now || expired.size() >= max_keys) break;
      expired.emplace_back(ns, key);
    }
  }
  const uint32_t selected = ns_;
  expiring_ = true;
  for (const auto& [ns, key] : expired) {
    ns_ = ns;
    EmitDelete(key);
  }
  expiring_ = false;
  ns_ = selected;
  expired_keys_ += expired.size();
  return expired.size();
}

}  // namespace activekv::server
