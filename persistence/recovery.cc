#include "persistence/recovery.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "persistence/aof_reader.h"

namespace activekv::persistence {

absl::Status RecoverAof(Env* env, const std::string& path,
                        const std::function<absl::Status(std::string_view payload)>& apply,
                        RecoveryResult* result) {
  return RecoverAof(env, path, apply, result, RecoveryOptions());
}

absl::Status RecoverAof(Env* env, const std::string& path,
                        const std::function<absl::Status(std::string_view payload)>& apply,
                        RecoveryResult* result, const RecoveryOptions& options) {
  return RecoverAof(
      env, path, [&](const AofRecord& record) { return apply(record.payload); }, result, options);
}

absl::Status RecoverAof(Env* env, const std::string& path,
                        const std::function<absl::Status(const AofRecord& record)>& apply,
                        RecoveryResult* result, const RecoveryOptions& options) {
  *result = RecoveryResult();
  RecoveryProgress* progress = options.progress;
  if (!env->FileExists(path)) return absl::OkStatus();
  absl::StatusOr<uint64_t> size = env->GetFileSize(path);
  if (!size.ok()) return size.status();
  result->file_size = *size;
  if (progress != nullptr) progress->total_bytes.store(*size, std::memory_order_relaxed);
  absl::StatusOr<std::unique_ptr<SequentialFile>> file = env->NewSequentialFile(path);
  if (!file.ok()) return file.status();

  aof::Reader reader(file->get(), /*reporter=*/nullptr);
  std::string payload;
  while (true) {
    if (progress != nullptr && progress->cancel.load(std::memory_order_relaxed)) {
      return absl::CancelledError(absl::StrCat(path, ": replay cancelled at byte offset ",
                                               result->valid_bytes, " of ", result->file_size));
    }
    aof::Reader::Result read = reader.ReadRecord(&payload);
    result->valid_bytes = reader.end_offset();
    switch (read) {
      case aof::Reader::Result::kRecord: {
        absl::Status status =
            apply(AofRecord{reader.record_type(), payload, reader.record_offset()});
        if (!status.ok()) {
          return absl::Status(status.code(),
                              absl::StrCat(path, ": replaying the record at byte offset ",
                                           reader.record_offset(), ": ", status.message()));
        }
        ++result->records_applied;
        if (progress != nullptr) {
          progress->loaded_bytes.store(result->valid_bytes, std::memory_order_relaxed);
          progress->records_applied.store(result->records_applied, std::memory_order_relaxed);
        }
        if (options.record_delay > absl::ZeroDuration()) absl::SleepFor(options.record_delay);
        continue;
      }
      case aof::Reader::Result::kEof:
        if (progress != nullptr) {
          progress->loaded_bytes.store(result->valid_bytes, std::memory_order_relaxed);
        }
        return absl::OkStatus();
      case aof::Reader::Result::kTornTail: {
        uint64_t cut = reader.damage_offset();
        if (!options.truncate_torn_tail) {
          return absl::DataLossError(absl::StrCat(path, ": damaged or incomplete at byte offset ",
                                                  cut, " (", reader.damage().message(), ")"));
        }
        absl::Status status = env->Truncate(path, cut);
        if (!status.ok()) return status;
        result->valid_bytes = cut;
        if (progress != nullptr) progress->loaded_bytes.store(cut, std::memory_order_relaxed);
        result->torn_tail = true;
        result->truncated_bytes = result->file_size - cut;
        result->torn_tail_reason = std::string(reader.damage().message());
        return absl::OkStatus();
      }
      case aof::Reader::Result::kCorruption:
        return absl::DataLossError(absl::StrCat(
            path, ": corrupt AOF record at byte offset ", reader.damage_offset(), " (",
            reader.damage().message(), "; ", reader.damage_bytes(),
            " damaged bytes followed by valid records). Refusing to start: inspect with "
            "`activekv-check-aof ",
            path, "`, repair with `activekv-check-aof --fix ", path,
            "` (drops everything from that offset on)"));
      case aof::Reader::Result::kBadFileHeader:
        return absl::Status(
            reader.damage().code(),
            absl::StrCat(path, ": ", reader.damage().message(),
                         " at byte offset 0. Refusing to start: check the file with "
                         "`activekv-check-aof ",
                         path, "`"));
      case aof::Reader::Result::kIoError:
        return reader.io_status();
    }
  }
}

}  // namespace activekv::persistence
