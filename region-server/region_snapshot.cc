// Region: snapshots in the AOF -- merging one (replay, full resync from a peer) and writing one
// (the AOF rewrite). docs/aof-format.md, "Snapshots and rewrite".
#include <chrono>
#include <future>
#include <utility>

#include "absl/strings/str_cat.h"
#include "persistence/aof_writer.h"
#include "region-server/blocking.h"
#include "region-server/region.h"
#include "region-server/watch.h"

namespace activekv::server {
namespace {

// Snapshot chunk size (keys, serialized bytes) and work per rewrite step.
constexpr size_t kChunkKeys = 1024;
constexpr size_t kChunkBytes = 1 << 20;
constexpr size_t kRewriteStepBytes = 4 << 20;

constexpr char kRewriteSuffix[] = ".rewrite";

crdt::Hlc MaxHlc(const std::vector<v1::Snapshot>& chunks) {
  crdt::Hlc max = 0;
  for (const v1::Snapshot& chunk : chunks) {
    max = std::max<crdt::Hlc>(max, chunk.db_mapping_hlc());
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
      for (const auto& m : k.zset().members()) {
        for (const auto& w : m.writes()) max = std::max<crdt::Hlc>(max, w.tag().hlc());
        for (const auto& i : m.increments()) max = std::max<crdt::Hlc>(max, i.tag().hlc());
      }
      // A list element's stamp is its last write's (>= its insert's).
      for (const auto& e : k.list().elements()) max = std::max<crdt::Hlc>(max, e.hlc());
      for (const auto& p : k.list().pending()) max = std::max<crdt::Hlc>(max, p.hlc());
      for (const auto& e : k.stream().entries()) {
        for (const auto& i : e.instances()) max = std::max<crdt::Hlc>(max, i.tag().hlc());
      }
      for (const auto& m : k.stream().meta()) max = std::max<crdt::Hlc>(max, m.tag().hlc());
    }
  }
  return max;
}

}  // namespace

Region::~Region() { FailRewrite(absl::CancelledError("shutting down")); }

uint64_t Region::AppendToAof(std::string_view payload, persistence::aof::RecordType type) {
  const uint64_t lsn = aof_->Append(payload, type);
  if (lsn != 0 && rewrite_ != nullptr)
    persistence::aof::EncodeRecord(payload, &rewrite_->tail, type);
  return lsn;
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
  auto rw = std::make_unique<Rewrite>();
  rw->path = aof_path() + kRewriteSuffix;
  rw->started = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<persistence::WritableFile>> file =
      options_.env->NewWritableFile(rw->path, /*append=*/false);
  if (!file.ok()) {
    rewrite_stats_.last_status = file.status();
    return file.status();
  }
  rw->file = std::move(*file);
  absl::Status s = rw->file->Append(persistence::aof::FileHeader());
  if (!s.ok()) {
    rw->file.reset();
    options_.env->RemoveFile(rw->path).IgnoreError();
    rewrite_stats_.last_status = s;
    return s;
  }
  rw->snapshot_bytes = persistence::aof::kFileHeaderSize;
  ks_.BeginSnapshot();
  rewrite_ = std::move(rw);
  rewrite_stats_.in_progress = true;
  rewrite_stats_.started_unix_ms = options_.wall_clock();
  return absl::OkStatus();
}

void Region::FailRewrite(absl::Status status) {
  if (rewrite_ == nullptr) return;
  ks_.AbortSnapshot();
  if (rewrite_->sync.valid()) rewrite_->sync.wait();
  rewrite_->file.reset();  // closes (errors ignored)
  options_.env->RemoveFile(rewrite_->path).IgnoreError();
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
    size_t written = 0;
    while (ks_.snapshot_active() && written < kRewriteStepBytes) {
      ks_.NextSnapshotChunk(kChunkKeys, &rw.chunk, kChunkBytes);
      rw.payload.clear();
      rw.chunk.SerializeToString(&rw.payload);
      rw.record.clear();
      persistence::aof::EncodeRecord(rw.payload, &rw.record, persistence::aof::kSnapshotType);
      absl::Status s = rw.file->Append(rw.record);
      if (!s.ok()) return StopRewrite(s, running);
      written += rw.record.size();
      rw.snapshot_bytes += rw.record.size();
    }
    if (ks_.snapshot_active()) return absl::OkStatus();
    absl::Status s = rw.file->Flush();
    if (!s.ok()) return StopRewrite(s, running);
    // The bulk of the fsync off the event loop (WritableFile::Sync may run concurrently with
    // Append/Flush, which the tail uses meanwhile).
    persistence::WritableFile* f = rw.file.get();
    rw.sync = std::async(std::launch::async, [f] { return f->Sync(); });
    rw.phase = Rewrite::Phase::kSyncing;
  }
  // kSyncing: the tail follows the snapshot; switch once the snapshot part is fsynced.
  if (!rw.tail.empty()) {
    absl::Status s = rw.file->Append(rw.tail);
    if (s.ok()) s = rw.file->Flush();
    rw.tail.clear();
    if (!s.ok()) return StopRewrite(s, running);
  }
  if (rw.sync.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    return absl::OkStatus();
  }
  *running = false;
  return FinishRewrite();
}

absl::Status Region::FinishRewrite() {
  Rewrite& rw = *rewrite_;
  absl::Status s = rw.sync.get();
  // Everything appended so far becomes durable in the old AOF (acks and replies go on from
  // there), then the new file gets the last records and its own fsync.
  if (s.ok()) s = aof_->SyncAll();
  if (s.ok() && !rw.tail.empty()) s = rw.file->Append(rw.tail);
  if (s.ok()) s = rw.file->Flush();
  if (s.ok()) s = rw.file->Sync();
  if (s.ok()) s = rw.file->Close();
  if (!s.ok()) {
    FailRewrite(s);
    return absl::OkStatus();
  }
  const std::string tmp = rw.path;
  const uint64_t snapshot_bytes = rw.snapshot_bytes;
  const auto started = rw.started;
  rw.file.reset();
  rewrite_.reset();
  rewrite_stats_.in_progress = false;

  // Switch: close the old AOF (fully synced), rename the new one over it, reopen.
  absl::Status closed = aof_->Close();
  lsn_base_ += aof_->appended_lsn();
  aof_.reset();
  absl::Status renamed = closed.ok() ? options_.env->RenameFile(tmp, aof_path()) : closed;
  if (renamed.ok()) renamed = options_.env->SyncDir(options_.data_dir);
  if (!renamed.ok()) options_.env->RemoveFile(tmp).IgnoreError();
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

}  // namespace activekv::server
