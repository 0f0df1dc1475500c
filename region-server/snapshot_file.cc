#include "region-server/snapshot_file.h"

#include <chrono>
#include <utility>

#include "persistence/aof_format.h"
#include "persistence/aof_writer.h"

namespace activekv::server {

absl::StatusOr<std::unique_ptr<SnapshotFileWriter>> SnapshotFileWriter::Create(
    persistence::Env* env, std::string path) {
  absl::StatusOr<std::unique_ptr<persistence::WritableFile>> file =
      env->NewWritableFile(path, /*append=*/false);
  if (!file.ok()) return file.status();
  std::unique_ptr<SnapshotFileWriter> w(
      new SnapshotFileWriter(env, std::move(path), std::move(*file)));
  absl::Status s = w->file_->Append(persistence::aof::FileHeader());
  if (!s.ok()) {
    w->Discard();
    return s;
  }
  w->bytes_ = persistence::aof::kFileHeaderSize;
  return w;
}

SnapshotFileWriter::SnapshotFileWriter(persistence::Env* env, std::string path,
                                       std::unique_ptr<persistence::WritableFile> file)
    : env_(env), path_(std::move(path)), file_(std::move(file)) {}

SnapshotFileWriter::~SnapshotFileWriter() {
  if (sync_.valid()) sync_.wait();
}

absl::StatusOr<bool> SnapshotFileWriter::WriteStep(crdt::Keyspace& ks, size_t budget) {
  size_t written = 0;
  while (ks.snapshot_active() && written < budget) {
    ks.NextSnapshotChunk(kChunkKeys, &chunk_, kChunkBytes);
    keys_ += static_cast<uint64_t>(chunk_.keys_size());
    // Serialized straight into the record after its header: a chunk can be one large key of
    // tens of MiB, and each copy of it is a stall on the event loop.
    const size_t size = chunk_.ByteSizeLong();
    record_.resize(persistence::aof::kRecordHeaderSize + size);
    char* payload = record_.data() + persistence::aof::kRecordHeaderSize;
    chunk_.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(payload));
    persistence::aof::EncodeRecordHeader(std::string_view(payload, size),
                                         persistence::aof::kSnapshotType, record_.data());
    absl::Status s = file_->Append(record_);
    if (!s.ok()) return s;
    written += record_.size();
    bytes_ += record_.size();
  }
  if (ks.snapshot_active()) return false;
  absl::Status s = file_->Flush();
  if (!s.ok()) return s;
  // The bulk of the fsync off the event loop (WritableFile::Sync may run concurrently with
  // Append/Flush).
  persistence::WritableFile* f = file_.get();
  sync_ = std::async(std::launch::async, [f] { return f->Sync(); });
  return true;
}

absl::Status SnapshotFileWriter::Append(std::string_view bytes) {
  absl::Status s = file_->Append(bytes);
  if (s.ok()) s = file_->Flush();
  return s;
}

bool SnapshotFileWriter::synced() const {
  return sync_.valid() && sync_.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

absl::Status SnapshotFileWriter::WaitSynced() {
  if (sync_.valid()) sync_status_ = sync_.get();
  return sync_status_;
}

absl::Status SnapshotFileWriter::Finish() {
  absl::Status s = WaitSynced();
  if (s.ok()) s = file_->Flush();
  if (s.ok()) s = file_->Sync();
  if (s.ok()) s = file_->Close();
  return s;
}

void SnapshotFileWriter::Discard() {
  if (sync_.valid()) sync_.wait();
  file_.reset();  // closes (errors ignored)
  env_->RemoveFile(path_).IgnoreError();
}

}  // namespace activekv::server
