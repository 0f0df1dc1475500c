// Region: snapshots -- merging one (replay, full resync from a peer) and writing one (the AOF
// rewrite, SAVE / BGSAVE). docs/aof-format.md, "Snapshots and rewrite", "Snapshot files".
#include <chrono>
#include <future>
#include <utility>

#include "absl/strings/str_cat.h"
#include "crdt/values/list_packing.h"
#include "persistence/aof_writer.h"
#include "region-server/blocking.h"
#include "region-server/region.h"
#include "region-server/watch.h"

namespace activekv::server {
namespace {

// Snapshot bytes written per rewrite or save step (client commands and replication run between).
constexpr size_t kRewriteStepBytes = 4 << 20;

constexpr char kRewriteSuffix[] = ".rewrite";
constexpr char kSaveSuffix[] = ".tmp";

crdt::Hlc MaxHlc(const v1::Snapshot& chunk) {
  crdt::Hlc max = chunk.db_mapping_hlc();
  for (const v1::FunctionLibraryState& f : chunk.functions()) {
    max = std::max<crdt::Hlc>(max, f.hlc());
  }
  for (const v1::KeyState& k : chunk.keys()) {
    for (const auto& w : k.writes()) max = std::max<crdt::Hlc>(max, w.hlc());
    for (const auto& i : k.increments()) max = std::max<crdt::Hlc>(max, i.hlc());
    for (const auto& e : k.expiries()) max = std::max<crdt::Hlc>(max, e.hlc());
    for (const auto& f : k.hash().fields()) {
      for (const auto& w : f.writes()) max = std::max<crdt::Hlc>(max, w.tag().hlc());
      for (const auto& i : f.increments()) max = std::max<crdt::Hlc>(max, i.tag().hlc());
    }
    for (const auto& m : k.set().members()) {
      for (const auto& t : m.tags()) max = std::max<crdt::Hlc>(max, t.hlc());
    }
    max = std::max(max, crdt::SetValue::MaxPackedHlc(k.set()));
    for (const auto& m : k.zset().members()) {
      for (const auto& w : m.writes()) max = std::max<crdt::Hlc>(max, w.tag().hlc());
      for (const auto& i : m.increments()) max = std::max<crdt::Hlc>(max, i.tag().hlc());
    }
    // A list element's stamp is its last write's (>= its insert's).
    for (const auto& e : k.list().elements()) max = std::max<crdt::Hlc>(max, e.hlc());
    for (crdt::ListPackReader r(k.list().packed()); r.Next();) {
      max = std::max<crdt::Hlc>(max, r.hlc());
    }
    for (const auto& p : k.list().pending()) max = std::max<crdt::Hlc>(max, p.hlc());
    for (const auto& e : k.stream().entries()) {
      for (const auto& i : e.instances()) max = std::max<crdt::Hlc>(max, i.tag().hlc());
    }
    for (const auto& m : k.stream().meta()) max = std::max<crdt::Hlc>(max, m.tag().hlc());
  }
  return max;
}

crdt::Hlc MaxHlc(const std::vector<v1::Snapshot>& chunks) {
  crdt::Hlc max = 0;
  for (const v1::Snapshot& chunk : chunks) max = std::max(max, MaxHlc(chunk));
  return max;
}

}  // namespace

Region::~Region() {
  FailRewrite(absl::CancelledError("shutting down"));
  FailSave(absl::CancelledError("shutting down"));
  if (background_.joinable()) background_.join();
}

void Region::InBackground(absl::AnyInvocable<void() &&> job) {
  if (background_.joinable()) background_.join();  // seconds apart: long done
  background_ = std::thread(std::move(job));
}

uint64_t Region::AppendToAof(std::string_view payload, persistence::aof::RecordType type) {
  const uint64_t lsn = aof_->Append(payload, type);
  if (lsn != 0 && rewrite_ != nullptr) {
    persistence::aof::EncodeRecord(payload, &rewrite_->tail, type);
  }
  return lsn;
}

absl::Status Region::AdoptChunk(const v1::Snapshot& chunk) {
  if (chunk.first()) {
    adopt_hlc_ = 0;
    adopt_version_ = syncer::FromEntries(chunk.version());
  }
  adopt_hlc_ = std::max(adopt_hlc_, MaxHlc(chunk));
  absl::StatusOr<uint64_t> added = ks_.AdoptChunk(chunk);
  if (!added.ok()) return added.status();
  if (chunk.last()) {
    clock_.Observe(adopt_hlc_);
    if (log_) log_->MarkUnavailable(adopt_version_);
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Region::MergeChunks(const std::vector<v1::Snapshot>& chunks) {
  std::vector<const v1::Snapshot*> parts;
  parts.reserve(chunks.size());
  for (const v1::Snapshot& c : chunks) parts.push_back(&c);
  absl::StatusOr<uint64_t> added = ks_.MergeSnapshot(parts);
  if (!added.ok()) return added.status();
  clock_.Observe(MaxHlc(chunks));
  if (log_ && !chunks.empty()) log_->MarkUnavailable(syncer::FromEntries(chunks[0].version()));
  return added;
}

absl::StatusOr<uint64_t> Region::ApplySnapshot(const std::vector<v1::Snapshot>& chunks) {
  for (const v1::Snapshot& chunk : chunks) {
    if (chunk.ByteSizeLong() > persistence::aof::kMaxPayloadSize) {
      return absl::InvalidArgumentError("snapshot chunk larger than an AOF record");
    }
  }
  absl::StatusOr<uint64_t> added = MergeChunks(chunks);
  if (!added.ok()) return added.status();
  // A full resync may change any key: every watching client's EXEC aborts (conservative).
  if (watches_ != nullptr) watches_->TouchAll();
  if (blocking_ != nullptr) blocking_->TouchAll();
  uint64_t lsn = 0;
  std::string payload;
  for (const v1::Snapshot& chunk : chunks) {
    payload.clear();
    chunk.SerializeToString(&payload);
    lsn = AppendToAof(payload, persistence::aof::kSnapshotType);
  }
  lsn += lsn_base_;
  if (options_.on_commit) options_.on_commit();
  if (log_ && !chunks.empty()) {
    // Durable (then synced) once its last record is: acks may then announce its version.
    for (const v1::VersionEntry& e : chunks[0].version()) {
      crdt::RegionId origin;
      if (ks_.regions().Find(e.region(), &origin)) {
        unsynced_.push_back(PendingOp{lsn, origin, e.seq()});
      }
    }
  }
  return lsn;
}

absl::Status Region::StartRewrite() {
  if (rewrite_ != nullptr) {
    return absl::FailedPreconditionError(
        "Background append only file rewriting already in progress");
  }
  if (save_ != nullptr) return absl::FailedPreconditionError("Background save in progress");
  auto rw = std::make_unique<Rewrite>();
  rw->started = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<SnapshotFileWriter>> writer =
      SnapshotFileWriter::Create(options_.env, aof_path() + kRewriteSuffix);
  if (!writer.ok()) {
    rewrite_stats_.last_status = writer.status();
    return writer.status();
  }
  rw->writer = std::move(*writer);
  ks_.BeginSnapshot();
  rewrite_ = std::move(rw);
  rewrite_stats_.in_progress = true;
  rewrite_stats_.started_unix_ms = options_.wall_clock();
  return absl::OkStatus();
}

void Region::FailRewrite(absl::Status status) {
  if (rewrite_ == nullptr) return;
  ks_.AbortSnapshot();
  rewrite_->writer->Discard();
  rewrite_.reset();
  rewrite_stats_.in_progress = false;
  rewrite_stats_.last_status = std::move(status);
}

absl::Status Region::StopRewrite(absl::Status error, bool* running) {
  FailRewrite(std::move(error));
  *running = false;
  return absl::OkStatus();  // the old AOF goes on: not fatal
}

absl::Status Region::RewriteStep(bool* running) {
  *running = false;
  if (rewrite_ == nullptr) return absl::OkStatus();
  Rewrite& rw = *rewrite_;
  *running = true;
  if (rw.phase == Rewrite::Phase::kSnapshot) {
    absl::StatusOr<bool> done = rw.writer->WriteStep(ks_, kRewriteStepBytes);
    if (!done.ok()) return StopRewrite(done.status(), running);
    if (!*done) return absl::OkStatus();
    rw.phase = Rewrite::Phase::kSyncing;
  }
  // kSyncing: the tail follows the snapshot; switch once the snapshot part is fsynced.
  if (!rw.tail.empty()) {
    absl::Status s = rw.writer->Append(rw.tail);
    rw.tail.clear();
    if (!s.ok()) return StopRewrite(s, running);
  }
  if (!rw.writer->synced()) return absl::OkStatus();
  *running = false;
  return FinishRewrite();
}

absl::Status Region::FinishRewrite() {
  Rewrite& rw = *rewrite_;
  // The new file gets the last records and its own fsync: it holds everything appended so far.
  absl::Status s = rw.writer->WaitSynced();
  if (s.ok() && !rw.tail.empty()) s = rw.writer->Append(rw.tail);
  if (s.ok()) s = rw.writer->Finish();
  if (!s.ok()) {
    FailRewrite(s);
    return absl::OkStatus();
  }
  const std::string tmp = rw.writer->path();
  const uint64_t snapshot_bytes = rw.writer->bytes();
  const auto started = rw.started;
  const bool enables_aof = rw.enables_aof;
  rewrite_.reset();
  rewrite_stats_.in_progress = false;

  // Switch: rename the new file over the old AOF, then reopen. Once the rename is durable the
  // old AOF is not needed: it is closed without an fsync, on a helper thread (its close frees
  // its blocks). Else it is synced and kept, as the AOF that goes on.
  if (enables_aof) {
    options_.appendonly = true;
    leftover_aof_ = false;  // replaced by the new file
  }
  absl::Status renamed = options_.env->RenameFile(tmp, aof_path());
  const bool replaced = renamed.ok();
  if (renamed.ok()) renamed = options_.env->SyncDir(options_.data_dir);
  std::unique_ptr<persistence::Aof> old = std::move(aof_);
  lsn_base_ += old->appended_lsn();
  if (renamed.ok()) {
    InBackground([old = std::move(old)]() mutable { old->Abandon(); });
  } else {
    // A rename that is not known durable may be undone by a power loss: the old file must then
    // hold every record, synced, as before the rewrite.
    absl::Status closed = old->Close();
    if (!closed.ok()) renamed = closed;
    if (!replaced) options_.env->RemoveFile(tmp).IgnoreError();
  }
  if (!renamed.ok() && enables_aof) options_.appendonly = false;  // still without a file
  absl::Status reopened = OpenAof();  // the new file, or the old one if the rename failed
  if (!reopened.ok()) return reopened;
  rewrite_stats_.last_status = renamed;
  if (renamed.ok()) {
    ++rewrite_stats_.rewrites;
    rewrite_stats_.snapshot_bytes = snapshot_bytes;
    rewrite_stats_.base_size = aof_->stats().file_size;
    rewrite_stats_.last_duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now() - started)
                                          .count();
  }
  return absl::OkStatus();
}

absl::Status Region::EnableAof() {
  if (options_.appendonly || enabling_aof()) return absl::OkStatus();
  absl::Status s = StartRewrite();
  if (s.ok()) rewrite_->enables_aof = true;
  return s;
}

absl::Status Region::DisableAof() {
  if (!options_.appendonly) {
    if (enabling_aof()) FailRewrite(absl::CancelledError("appendonly turned off"));
    return absl::OkStatus();
  }
  FailRewrite(absl::CancelledError("appendonly turned off"));
  // Close syncs what was appended: replies and acks waiting on it can go.
  absl::Status closed = aof_->Close();
  lsn_base_ += aof_->appended_lsn();
  options_.appendonly = false;
  aof_ = persistence::Aof::OpenWithoutFile(options_.fsync);
  absl::Status removed = options_.env->RemoveFile(aof_path());
  if (removed.ok()) removed = options_.env->SyncDir(options_.data_dir);
  return closed.ok() ? removed : closed;
}

std::string Region::ResyncFile(syncer::NamedVV* covers, bool* complete) {
  if (options_.appendonly) {
    *complete = true;
    return aof_path();
  }
  *complete = false;
  *covers = save_stats_.version;
  if (save_stats_.version.empty() || !options_.env->FileExists(dump_path())) return "";
  return dump_path();
}

// ---- SAVE / BGSAVE ----

absl::Status Region::StartSave() {
  if (save_ != nullptr) return absl::FailedPreconditionError("Background save already in progress");
  if (rewrite_ != nullptr) {
    return absl::FailedPreconditionError("Background append only file rewriting in progress");
  }
  auto sv = std::make_unique<Save>();
  sv->started = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<SnapshotFileWriter>> writer =
      SnapshotFileWriter::Create(options_.env, dump_path() + kSaveSuffix);
  if (!writer.ok()) {
    save_stats_.last_status = writer.status();
    return writer.status();
  }
  sv->writer = std::move(*writer);
  sv->changes = changes_;
  sv->version = syncer::FromKeyspace(ks_);
  ks_.BeginSnapshot();
  save_ = std::move(sv);
  save_stats_.in_progress = true;
  save_stats_.started_unix_ms = options_.wall_clock();
  save_stats_.keys_total = ks_.key_count();
  save_stats_.keys_written = 0;
  return absl::OkStatus();
}

void Region::FailSave(absl::Status status) {
  if (save_ == nullptr) return;
  ks_.AbortSnapshot();
  save_->writer->Discard();
  save_.reset();
  save_stats_.in_progress = false;
  save_stats_.last_status = std::move(status);
}

void Region::SaveStep(bool* running) {
  *running = false;
  if (save_ == nullptr) return;
  Save& sv = *save_;
  *running = true;
  if (ks_.snapshot_active()) {
    absl::StatusOr<bool> done = sv.writer->WriteStep(ks_, kRewriteStepBytes);
    save_stats_.keys_written = sv.writer->keys();
    if (!done.ok()) {
      FailSave(done.status());
      *running = false;
      return;
    }
    if (!*done) return;
  }
  if (!sv.writer->synced()) return;
  *running = false;
  absl::Status s = sv.writer->Finish();
  if (s.ok()) {
    // The previous dump.akv stays open across the rename and is closed on a helper thread: its
    // last close frees its blocks.
    absl::StatusOr<std::unique_ptr<persistence::SequentialFile>> previous =
        options_.env->NewSequentialFile(dump_path());
    s = options_.env->RenameFile(sv.writer->path(), dump_path());
    if (previous.ok()) {
      InBackground([previous = std::move(*previous)]() mutable { previous.reset(); });
    }
  }
  if (s.ok()) s = options_.env->SyncDir(options_.data_dir);
  if (!s.ok()) {
    FailSave(s);
    return;
  }
  changes_at_save_ = sv.changes;
  // The snapshot holds all a leftover AOF held: that one may go (a failure is retried then).
  if (leftover_aof_) RetireLeftoverAof().IgnoreError();
  save_stats_.in_progress = false;
  save_stats_.last_status = absl::OkStatus();
  ++save_stats_.saves;
  save_stats_.bytes = sv.writer->bytes();
  save_stats_.version = std::move(sv.version);
  save_stats_.last_save_unix_s = options_.wall_clock() / 1000;
  save_stats_.last_duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - sv.started)
                                     .count();
  save_.reset();
}

}  // namespace activekv::server
