// Frames payloads as AOF records (docs/aof-format.md) and appends them to a WritableFile.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "persistence/aof_format.h"
#include "persistence/env.h"

namespace activekv::persistence::aof {

// The 8-byte file header: magic + format version.
std::string FileHeader();

// Appends the framed record (header + payload) to `*dst`. Requires
// payload.size() <= kMaxPayloadSize.
void EncodeRecord(std::string_view payload, std::string* dst, RecordType type = kOpBatchType);
// The record's header alone (kRecordHeaderSize bytes into `header`); the payload follows it.
void EncodeRecordHeader(std::string_view payload, RecordType type, char* header);
// The same for a payload of `size` bytes whose crc32c::Value (unmasked) is `crc`, for a payload
// produced in pieces and never held whole.
void EncodeRecordHeaderOf(size_t size, uint32_t crc, RecordType type, char* header);

// Appends records to a file. Does not sync: durability is the caller's (see aof.h).
// Not thread-safe.
class Writer {
 public:
  // `dest` must remain live while this Writer is in use. The file must be empty (call
  // WriteFileHeader first) or end with a complete record or file header.
  explicit Writer(WritableFile* dest);
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  absl::Status WriteFileHeader();
  // Appends and flushes one record. InvalidArgument if the payload exceeds kMaxPayloadSize.
  // On an I/O error the file may end with part of the record (a torn tail).
  absl::Status AddRecord(std::string_view payload, RecordType type = kOpBatchType);

 private:
  WritableFile* const dest_;
  std::string scratch_;
};

}  // namespace activekv::persistence::aof
