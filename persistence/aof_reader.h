// Reads AOF records (docs/aof-format.md) and classifies damage.
//
// ReadRecord returns the records in order. When it meets bytes that are not a valid record it
// looks ahead for the next valid one and tells the caller which of three cases it is:
//   kEof         clean end: the file ends exactly after the last record (or is empty).
//   kTornTail    the damaged bytes run to the end of the file and contain no valid record: an
//                interrupted write (crash, full disk). Truncating at damage_offset() loses nothing
//                that was ever complete.
//   kCorruption  damaged bytes followed by at least one valid record: mid-file corruption. Calling
//                ReadRecord again resumes at that next valid record, so a checker can keep
//                counting; recovery must stop here.
// Every damaged range is also passed to the Reporter. Policy (truncate, refuse, repair) is the
// caller's: see recovery.h and tools/check_aof.cc.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "persistence/aof_format.h"
#include "persistence/env.h"

namespace activekv::persistence::aof {

class Reader {
 public:
  class Reporter {
   public:
    virtual ~Reporter() = default;
    // `bytes` bytes starting at file offset `offset` are damaged; `reason` says how (the first
    // problem found in the range).
    virtual void Corruption(uint64_t offset, uint64_t bytes, const absl::Status& reason) = 0;
  };

  enum class Result {
    kRecord,         // *payload holds the next record
    kEof,            // clean end of file (terminal)
    kTornTail,       // damaged tail, nothing valid after it (terminal)
    kCorruption,     // damaged range followed by a valid record; call again to continue
    kBadFileHeader,  // not an AOF file, or an unsupported format version (terminal)
    kIoError,        // the file could not be read: io_status() (terminal)
  };

  // `file` must remain live while this Reader is in use and be positioned at the start of the
  // file. `reporter` may be null; if not, it must outlive the Reader. Not thread-safe.
  Reader(SequentialFile* file, Reporter* reporter);
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;
  ~Reader();

  // Terminal results repeat on every later call.
  Result ReadRecord(std::string* payload);

  // After kRecord: the file offset of the record's first header byte, and its type.
  uint64_t record_offset() const { return record_offset_; }
  RecordType record_type() const { return record_type_; }
  // The offset just past the last valid record returned (or past the file header, or 0): where a
  // torn tail starts and where --fix truncates.
  uint64_t end_offset() const { return end_offset_; }
  // After kTornTail / kCorruption / kBadFileHeader: the damaged range and the first problem in it.
  uint64_t damage_offset() const { return damage_offset_; }
  uint64_t damage_bytes() const { return damage_bytes_; }
  const absl::Status& damage() const { return damage_; }
  // After kIoError.
  const absl::Status& io_status() const { return io_status_; }

 private:
  enum class Parse { kValid, kIncomplete, kBadHeader, kBadRecord };

  Result ReadFileHeader();
  // Examines the bytes at pos_. kValid: a complete record of `*length` payload bytes. kBadHeader:
  // the record's extent is unknown. kBadRecord: the header checksum holds and the length is sane
  // (so `*length` is trustworthy) but the record is not valid.
  // `*problem` explains anything but kValid.
  Parse ParseAt(uint32_t* length, absl::Status* problem);
  // Makes at least `n` bytes from pos_ available. False at end of file or on an I/O error (then
  // io_status_ is set). May drop the bytes before pos_ (buffer positions before it become
  // invalid; file offsets stay valid).
  bool Fill(size_t n);
  size_t Available() const { return buf_.size() - pos_; }
  uint64_t OffsetOf(size_t pos) const { return buf_offset_ + pos; }
  // Looks for the next valid record from pos_ on; the damage started at file offset
  // `damage_start` with `problem`.
  Result Resync(uint64_t damage_start, const absl::Status& problem);
  Result Terminal(Result result);
  void ReportDamage(uint64_t offset, uint64_t bytes, absl::Status reason);

  SequentialFile* const file_;
  Reporter* const reporter_;
  std::string buf_;          // file bytes [buf_offset_, buf_offset_ + buf_.size())
  uint64_t buf_offset_ = 0;  // file offset of buf_[0]
  size_t pos_ = 0;           // buffer position of the next record
  bool eof_ = false;         // the file returned a short read
  bool header_done_ = false;
  bool terminal_ = false;
  Result terminal_result_ = Result::kEof;
  uint64_t record_offset_ = 0;
  RecordType record_type_ = kOpBatchType;
  uint64_t end_offset_ = 0;
  uint64_t damage_offset_ = 0;
  uint64_t damage_bytes_ = 0;
  absl::Status damage_;
  absl::Status io_status_;
};

}  // namespace activekv::persistence::aof
