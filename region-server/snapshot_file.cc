#include "region-server/snapshot_file.h"

#include <chrono>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream.h"
#include "persistence/aof_format.h"
#include "persistence/aof_writer.h"
#include "persistence/crc32c.h"

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
    absl::Status s = AppendChunk(&written);
    if (!s.ok()) return s;
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

namespace {

// Hands a message's serialization to `sink` in pieces of at most kBlock bytes, through one
// reused buffer.
class BlockStream final : public google::protobuf::io::ZeroCopyOutputStream {
 public:
  static constexpr int kBlock = 256 << 10;
  explicit BlockStream(absl::FunctionRef<void(std::string_view)> sink)
      : sink_(sink), block_(new char[kBlock]) {}
  bool Next(void** data, int* size) override {
    Drain();
    *data = block_.get();
    *size = kBlock;
    used_ = kBlock;
    return true;
  }
  void BackUp(int count) override { used_ -= count; }
  int64_t ByteCount() const override { return total_ + used_; }
  // After the CodedOutputStream writing into it is gone.
  void Drain() {
    if (used_ > 0) sink_(std::string_view(block_.get(), static_cast<size_t>(used_)));
    total_ += used_;
    used_ = 0;
  }

 private:
  absl::FunctionRef<void(std::string_view)> sink_;
  std::unique_ptr<char[]> block_;
  int used_ = 0;
  int64_t total_ = 0;
};

void SerializeInBlocks(const v1::Snapshot& chunk, absl::FunctionRef<void(std::string_view)> sink) {
  BlockStream stream(sink);
  {
    google::protobuf::io::CodedOutputStream out(&stream);
    chunk.SerializeWithCachedSizes(&out);
  }
  stream.Drain();
}

}  // namespace

absl::Status SnapshotFileWriter::AppendChunk(size_t* written) {
  const size_t size = chunk_.ByteSizeLong();
  if (size > persistence::aof::kMaxPayloadSize) {
    // One key whose state alone exceeds a record: refused rather than written unreadable (the
    // rewrite or save fails, the AOF or the previous snapshot file stays as it was).
    return absl::ResourceExhaustedError(
        absl::StrCat("snapshot chunk of ", size, " bytes exceeds the record maximum of ",
                     persistence::aof::kMaxPayloadSize, " (a key this large cannot be saved)"));
  }
  absl::Status s;
  if (size <= kBufferedChunkBytes) {
    // Serialized straight into the record after its header.
    record_.resize(persistence::aof::kRecordHeaderSize + size);
    char* payload = record_.data() + persistence::aof::kRecordHeaderSize;
    chunk_.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(payload));
    persistence::aof::EncodeRecordHeader(std::string_view(payload, size),
                                         persistence::aof::kSnapshotType, record_.data());
    s = file_->Append(record_);
  } else {
    // A large key (a list of millions of elements): serialized twice through one block, first
    // for the payload's checksum (the header comes first), then into the file, instead of into a
    // buffer of its size: each fresh copy of tens of MiB is page faults and a stall of the event
    // loop.
    uint32_t crc = 0;
    SerializeInBlocks(chunk_, [&](std::string_view block) {
      crc = persistence::crc32c::Extend(crc, block.data(), block.size());
    });
    char header[persistence::aof::kRecordHeaderSize];
    persistence::aof::EncodeRecordHeaderOf(size, crc, persistence::aof::kSnapshotType, header);
    s = file_->Append(std::string_view(header, sizeof(header)));
    if (s.ok()) {
      SerializeInBlocks(chunk_, [&](std::string_view block) {
        if (s.ok()) s = file_->Append(block);
      });
    }
  }
  if (!s.ok()) return s;
  const size_t bytes = persistence::aof::kRecordHeaderSize + size;
  *written += bytes;
  bytes_ += bytes;
  return s;
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
