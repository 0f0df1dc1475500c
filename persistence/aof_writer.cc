#include "persistence/aof_writer.h"

#include <cassert>

#include "absl/strings/str_cat.h"
#include "persistence/crc32c.h"

namespace activekv::persistence::aof {
namespace {

void PutFixed32(char* dst, uint32_t v) {
  dst[0] = static_cast<char>(v & 0xff);
  dst[1] = static_cast<char>((v >> 8) & 0xff);
  dst[2] = static_cast<char>((v >> 16) & 0xff);
  dst[3] = static_cast<char>((v >> 24) & 0xff);
}

}  // namespace

std::string FileHeader() {
  std::string header(kMagic, sizeof(kMagic));
  header.push_back(static_cast<char>(kFormatVersion & 0xff));
  header.push_back(static_cast<char>(kFormatVersion >> 8));
  return header;
}

void EncodeRecordHeader(std::string_view payload, RecordType type, char* header) {
  EncodeRecordHeaderOf(payload.size(), crc32c::Value(payload), type, header);
}

void EncodeRecordHeaderOf(size_t size, uint32_t crc, RecordType type, char* header) {
  assert(size <= kMaxPayloadSize);
  PutFixed32(header + kLengthOffset, static_cast<uint32_t>(size));
  header[kTypeOffset] = static_cast<char>(type);
  PutFixed32(header + kPayloadCrcOffset, crc32c::Mask(crc));
  PutFixed32(
      header + kHeaderCrcOffset,
      crc32c::Mask(crc32c::Value(header + kLengthOffset, kRecordHeaderSize - kLengthOffset)));
}

void EncodeRecord(std::string_view payload, std::string* dst, RecordType type) {
  char header[kRecordHeaderSize];
  EncodeRecordHeader(payload, type, header);
  dst->append(header, kRecordHeaderSize);
  dst->append(payload);
}

Writer::Writer(WritableFile* dest) : dest_(dest) {}

absl::Status Writer::WriteFileHeader() {
  absl::Status status = dest_->Append(FileHeader());
  return status.ok() ? dest_->Flush() : status;
}

absl::Status Writer::AddRecord(std::string_view payload, RecordType type) {
  if (payload.size() > kMaxPayloadSize) {
    return absl::InvalidArgumentError(absl::StrCat("AOF record payload of ", payload.size(),
                                                   " bytes exceeds the maximum of ",
                                                   kMaxPayloadSize));
  }
  scratch_.clear();
  EncodeRecord(payload, &scratch_, type);
  absl::Status status = dest_->Append(scratch_);
  return status.ok() ? dest_->Flush() : status;
}

}  // namespace activekv::persistence::aof
