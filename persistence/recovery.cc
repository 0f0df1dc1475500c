#include "persistence/recovery.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "persistence/aof_reader.h"

namespace activekv::persistence {

absl::Status RecoverAof(Env* env, const std::string& path,
                        const std::function<absl::Status(std::string_view payload)>& apply,
                        RecoveryResult* result) {
  *result = RecoveryResult();
  if (!env->FileExists(path)) return absl::OkStatus();
  absl::StatusOr<uint64_t> size = env->GetFileSize(path);
  if (!size.ok()) return size.status();
  result->file_size = *size;
  absl::StatusOr<std::unique_ptr<SequentialFile>> file = env->NewSequentialFile(path);
  if (!file.ok()) return file.status();

  aof::Reader reader(file->get(), /*reporter=*/nullptr);
  std::string payload;
  while (true) {
    aof::Reader::Result read = reader.ReadRecord(&payload);
    result->valid_bytes = reader.end_offset();
    switch (read) {
      case aof::Reader::Result::kRecord: {
        absl::Status status = apply(payload);
        if (!status.ok()) {
          return absl::Status(status.code(),
                              absl::StrCat(path, ": replaying the record at byte offset ",
                                           reader.record_offset(), ": ", status.message()));
        }
        ++result->records_applied;
        continue;
      }
      case aof::Reader::Result::kEof:
        return absl::OkStatus();
      case aof::Reader::Result::kTornTail: {
        uint64_t cut = reader.damage_offset();
        absl::Status status = env->Truncate(path, cut);
        if (!status.ok()) return status;
        result->valid_bytes = cut;
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
