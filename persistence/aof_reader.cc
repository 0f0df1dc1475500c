#include "persistence/aof_reader.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "persistence/aof_writer.h"
#include "persistence/crc32c.h"

namespace activekv::persistence::aof {
namespace {

constexpr size_t kReadChunk = size_t{64} << 10;
constexpr size_t kMaxReadChunk = size_t{4} << 20;

uint32_t GetFixed32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint32_t>(u[0]) | (static_cast<uint32_t>(u[1]) << 8) |
         (static_cast<uint32_t>(u[2]) << 16) | (static_cast<uint32_t>(u[3]) << 24);
}

}  // namespace

Reader::Reader(SequentialFile* file, Reporter* reporter) : file_(file), reporter_(reporter) {}
Reader::~Reader() = default;

bool Reader::Fill(size_t n) {
  if (Available() >= n) return true;
  if (eof_ || !io_status_.ok()) return false;
  // Drop the consumed bytes before pos_ once they are half the buffer (amortized O(1) per byte).
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(0, pos_);
    buf_offset_ += pos_;
    pos_ = 0;
  }
  while (Available() < n) {
    // Bounded reads: a (corrupt but checksum-passing) huge length costs memory only for the bytes
    // that really exist.
    size_t want = std::min(std::max(kReadChunk, n - Available()), kMaxReadChunk);
    size_t old_size = buf_.size();
    buf_.resize(old_size + want);
    std::string_view got;
    absl::Status status = file_->Read(want, &got, buf_.data() + old_size);
    if (!status.ok()) {
      buf_.resize(old_size);
      io_status_ = std::move(status);
      return false;
    }
    if (got.data() != buf_.data() + old_size) {
      std::memmove(buf_.data() + old_size, got.data(), got.size());
    }
    buf_.resize(old_size + got.size());
    if (got.empty()) {
      eof_ = true;
      break;
    }
  }
  return Available() >= n;
}

Reader::Parse Reader::ParseAt(uint32_t* length, absl::Status* problem) {
  if (!Fill(kRecordHeaderSize)) {
    *problem = absl::DataLossError(absl::StrCat("incomplete record header (", Available(), " of ",
                                                kRecordHeaderSize, " bytes before end of file)"));
    return Parse::kIncomplete;
  }
  const char* header = buf_.data() + pos_;
  uint32_t expected = crc32c::Unmask(GetFixed32(header + kHeaderCrcOffset));
  if (crc32c::Value(header + kLengthOffset, kRecordHeaderSize - kLengthOffset) != expected) {
    *problem = absl::DataLossError("record header checksum mismatch");
    return Parse::kBadHeader;
  }
  *length = GetFixed32(header + kLengthOffset);
  auto type = static_cast<uint8_t>(header[kTypeOffset]);
  if (*length > kMaxPayloadSize) {
    *problem = absl::DataLossError(
        absl::StrCat("bad record length ", *length, " (maximum ", kMaxPayloadSize, ")"));
    return Parse::kBadHeader;  // the length cannot be trusted to skip the record
  }
  if (type == kZeroType || type > kMaxRecordType) {
    *problem = absl::DataLossError(absl::StrCat("unknown record type ", type));
    return Parse::kBadRecord;
  }
  if (!Fill(kRecordHeaderSize + *length)) {
    if (!io_status_.ok()) return Parse::kIncomplete;
    *problem = absl::DataLossError(absl::StrCat("incomplete record (", *length, "-byte payload, ",
                                                Available() - kRecordHeaderSize,
                                                " bytes before end of file)"));
    return Parse::kIncomplete;
  }
  header = buf_.data() + pos_;  // Fill may have moved the buffer
  expected = crc32c::Unmask(GetFixed32(header + kPayloadCrcOffset));
  if (crc32c::Value(header + kRecordHeaderSize, *length) != expected) {
    *problem = absl::DataLossError("record payload checksum mismatch");
    return Parse::kBadRecord;
  }
  return Parse::kValid;
}

void Reader::ReportDamage(uint64_t offset, uint64_t bytes, absl::Status reason) {
  damage_offset_ = offset;
  damage_bytes_ = bytes;
  damage_ = std::move(reason);
  if (reporter_ != nullptr) reporter_->Corruption(offset, bytes, damage_);
}

Reader::Result Reader::Terminal(Result result) {
  terminal_ = true;
  terminal_result_ = result;
  return result;
}

Reader::Result Reader::ReadFileHeader() {
  header_done_ = true;
  const std::string expected = FileHeader();
  bool complete = Fill(kFileHeaderSize);
  if (!io_status_.ok()) return Terminal(Result::kIoError);
  std::string_view got(buf_.data(), std::min(buf_.size(), kFileHeaderSize));
  if (got.empty()) return Terminal(Result::kEof);  // an empty file is an empty log
  if (!complete) {
    if (std::string_view(expected).substr(0, got.size()) == got) {
      ReportDamage(0, got.size(), absl::DataLossError("incomplete file header"));
      return Terminal(Result::kTornTail);
    }
    ReportDamage(0, got.size(), absl::DataLossError("not an activekv AOF file (bad magic)"));
    return Terminal(Result::kBadFileHeader);
  }
  if (got.substr(0, sizeof(kMagic)) != std::string_view(kMagic, sizeof(kMagic))) {
    ReportDamage(0, got.size(), absl::DataLossError("not an activekv AOF file (bad magic)"));
    return Terminal(Result::kBadFileHeader);
  }
  uint32_t version = static_cast<unsigned char>(got[6]) |
                     (static_cast<uint32_t>(static_cast<unsigned char>(got[7])) << 8);
  if (version != kFormatVersion) {
    ReportDamage(0, got.size(),
                 absl::FailedPreconditionError(absl::StrCat("unsupported AOF format version ",
                                                            version, " (this build reads version ",
                                                            kFormatVersion, ")")));
    return Terminal(Result::kBadFileHeader);
  }
  pos_ = kFileHeaderSize;
  end_offset_ = kFileHeaderSize;
  return Result::kRecord;  // not returned to the caller: means "go on"
}

Reader::Result Reader::ReadRecord(std::string* payload) {
  if (terminal_) return terminal_result_;
  if (!header_done_) {
    Result result = ReadFileHeader();
    if (result != Result::kRecord) return result;
  }
  uint32_t length = 0;
  absl::Status problem;
  switch (ParseAt(&length, &problem)) {
    case Parse::kValid:
      payload->assign(buf_.data() + pos_ + kRecordHeaderSize, length);
      record_offset_ = OffsetOf(pos_);
      record_type_ = static_cast<RecordType>(static_cast<uint8_t>(buf_[pos_ + kTypeOffset]));
      pos_ += kRecordHeaderSize + length;
      end_offset_ = OffsetOf(pos_);
      return Result::kRecord;
    case Parse::kIncomplete:
      if (!io_status_.ok()) return Terminal(Result::kIoError);
      if (Available() == 0) return Terminal(Result::kEof);
      ReportDamage(OffsetOf(pos_), Available(), std::move(problem));
      return Terminal(Result::kTornTail);
    case Parse::kBadHeader: {
      uint64_t start = OffsetOf(pos_);
      pos_ += 1;
      return Resync(start, problem);
    }
    case Parse::kBadRecord: {
      // The header checksum holds, so the record's extent is trustworthy: look past it.
      uint64_t start = OffsetOf(pos_);
      if (!Fill(kRecordHeaderSize + length)) {
        if (!io_status_.ok()) return Terminal(Result::kIoError);
        ReportDamage(start, Available(), std::move(problem));
        return Terminal(Result::kTornTail);
      }
      pos_ += kRecordHeaderSize + length;
      return Resync(start, problem);
    }
  }
  return Terminal(Result::kIoError);  // unreachable
}

Reader::Result Reader::Resync(uint64_t damage_start, const absl::Status& problem) {
  // Scan byte by byte from pos_: the header checksum makes a false match a 2^-32 event per
  // position, and the payload checksum another 2^-32.
  for (;; ++pos_) {
    uint32_t length = 0;
    absl::Status ignored;
    Parse parse = ParseAt(&length, &ignored);
    if (!io_status_.ok()) return Terminal(Result::kIoError);
    if (parse == Parse::kValid) {
      ReportDamage(damage_start, OffsetOf(pos_) - damage_start, problem);
      return Result::kCorruption;  // pos_ is at the valid record: the next call returns it
    }
    if (parse == Parse::kIncomplete && Available() < kRecordHeaderSize) {
      // No room for another record: everything from damage_start is a torn tail.
      pos_ = buf_.size();
      ReportDamage(damage_start, OffsetOf(pos_) - damage_start, problem);
      return Terminal(Result::kTornTail);
    }
  }
}

}  // namespace activekv::persistence::aof
