#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "google/protobuf/io/coded_stream.h"

namespace activekv::crdt {

// The primitives of a packed snapshot form (a collection's elements in one byte string instead
// of a message each: docs/aof-format.md, "Lists" and "Sets"): protobuf's base-128 varints and
// length-prefixed byte strings. Sets use them directly; lists read with them (list_packing.h)
// and write their elements' fixed-shape headers in one piece.

// Appends to `*out`.
class PackedWriter {
 public:
  explicit PackedWriter(std::string* out) : out_(out) {}
  void Varint(uint64_t v) {
    uint8_t buf[10];
    const uint8_t* end = google::protobuf::io::CodedOutputStream::WriteVarint64ToArray(v, buf);
    out_->append(reinterpret_cast<const char*>(buf), static_cast<size_t>(end - buf));
  }
  // Length, then the bytes.
  void Bytes(std::string_view b) {
    Varint(b.size());
    out_->append(b.data(), b.size());
  }

 private:
  std::string* out_;
};

// Reads what a PackedWriter wrote. Each call returns false when the input ends before the value
// does (or a varint is malformed); the reader is then done.
class PackedReader {
 public:
  // `packed` must be shorter than 2 GiB (a protobuf bytes field is) and outlive the reader.
  explicit PackedReader(std::string_view packed)
      : data_(packed),
        in_(reinterpret_cast<const uint8_t*>(packed.data()), static_cast<int>(packed.size())) {}
  bool done() const { return static_cast<size_t>(in_.CurrentPosition()) == data_.size(); }
  bool Varint64(uint64_t* v) { return in_.ReadVarint64(v); }
  bool Varint32(uint32_t* v) {
    uint64_t wide = 0;
    if (!in_.ReadVarint64(&wide) || wide > UINT32_MAX) return false;
    *v = static_cast<uint32_t>(wide);
    return true;
  }
  // A view into the input.
  bool Bytes(std::string_view* b) {
    uint64_t size = 0;
    if (!in_.ReadVarint64(&size)) return false;
    const size_t at = static_cast<size_t>(in_.CurrentPosition());
    if (size > data_.size() - at) return false;
    *b = data_.substr(at, size);
    return in_.Skip(static_cast<int>(size));
  }

 private:
  std::string_view data_;
  google::protobuf::io::CodedInputStream in_;
};

}  // namespace activekv::crdt
