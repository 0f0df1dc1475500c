#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "crdt/values/packing.h"

namespace activekv::crdt {

// The packed form of a list's elements in a snapshot (`ListState.packed`, docs/aof-format.md,
// "Lists"): one byte string instead of a message per element and per level, so that writing or
// reading a list of millions of elements allocates a few buffers instead of millions of objects.
// Per element, in list order, all integers base-128 varints (protobuf's encoding):
//
//   depth            levels before the element's own
//   depth + 1 levels each: zigzag(digit), region (dictionary index), seq, idx
//   hlc, writer      the value's last-writer-wins stamp (writer: dictionary index)
//   length, bytes    the value
//
// Regions are indexes into the chunk's region dictionary (Snapshot.regions), as in the message
// form. The codec checks the encoding only; what the values mean (a known region, a nonzero seq,
// position order) is the list's to check.

// One level as written: the region is still a dictionary index.
struct PackedListLevel {
  int64_t digit = 0;
  uint32_t region = 0;
  uint64_t seq = 0;
  uint32_t idx = 0;
};

// Appends elements to `*out`.
class ListPackWriter {
 public:
  explicit ListPackWriter(std::string* out) : out_(out) {}
  // At least the bytes Add writes for an element of `count` levels and a `value_size`-byte
  // value (to reserve the output once).
  static size_t MaxSize(uint32_t count, size_t value_size);
  // `levels` = the prefix then the element's own level (at least one).
  void Add(const PackedListLevel* levels, uint32_t count, uint64_t hlc, uint32_t writer,
           std::string_view value);

 private:
  std::string* out_;
};

// Reads elements back. Next() fills the accessors; it returns false at the end or when the bytes
// are malformed (status() says which; OK at a clean end).
class ListPackReader {
 public:
  explicit ListPackReader(std::string_view packed) : in_(packed) {}
  bool Next();
  const absl::Status& status() const { return status_; }

  // The current element: its levels (prefix then own), stamp and value (a view into the input).
  const std::vector<PackedListLevel>& levels() const { return levels_; }
  uint64_t hlc() const { return hlc_; }
  uint32_t writer() const { return writer_; }
  std::string_view value() const { return value_; }

 private:
  bool Fail(const std::string& what);

  PackedReader in_;
  bool failed_ = false;
  absl::Status status_;
  std::vector<PackedListLevel> levels_;
  uint64_t hlc_ = 0;
  uint32_t writer_ = 0;
  std::string_view value_;
};

}  // namespace activekv::crdt
