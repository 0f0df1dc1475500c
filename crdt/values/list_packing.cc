#include "crdt/values/list_packing.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace activekv::crdt {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedOutputStream;

constexpr size_t kMaxVarint = 10;
// The deepest position a list makes is far below this (a level is added only when an insert
// finds no room between two neighbours); the bound keeps a hostile depth from allocating.
constexpr uint64_t kMaxDepth = 1 << 16;

}  // namespace

size_t ListPackWriter::MaxSize(uint32_t count, size_t value_size) {
  return kMaxVarint * (1 + 4 * size_t{count} + 3) + value_size;
}

void ListPackWriter::Add(const PackedListLevel* levels, uint32_t count, uint64_t hlc,
                         uint32_t writer, std::string_view value) {
  // The header is encoded into a buffer and appended with the value: growing `out_` by a bound
  // and shrinking it back would zero-fill bytes that are then overwritten.
  const size_t header = MaxSize(count, 0);
  uint8_t small[kMaxVarint * (1 + 4 * 4 + 3)];
  std::unique_ptr<uint8_t[]> large;
  uint8_t* start = small;
  if (header > sizeof(small)) {
    large = std::make_unique<uint8_t[]>(header);
    start = large.get();
  }
  uint8_t* p = start;
  p = CodedOutputStream::WriteVarint32ToArray(count - 1, p);
  for (uint32_t i = 0; i < count; ++i) {
    p = CodedOutputStream::WriteVarint64ToArray(WireFormatLite::ZigZagEncode64(levels[i].digit), p);
    p = CodedOutputStream::WriteVarint32ToArray(levels[i].region, p);
    p = CodedOutputStream::WriteVarint64ToArray(levels[i].seq, p);
    p = CodedOutputStream::WriteVarint32ToArray(levels[i].idx, p);
  }
  p = CodedOutputStream::WriteVarint64ToArray(hlc, p);
  p = CodedOutputStream::WriteVarint32ToArray(writer, p);
  p = CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(value.size()), p);
  out_->append(reinterpret_cast<const char*>(start), static_cast<size_t>(p - start));
  out_->append(value.data(), value.size());
}

bool ListPackReader::Fail(const std::string& what) {
  status_ = absl::InvalidArgumentError(absl::StrCat("packed list elements: ", what));
  failed_ = true;
  return false;
}

bool ListPackReader::Next() {
  if (failed_ || in_.done()) return false;
  uint32_t depth = 0;
  if (!in_.Varint32(&depth)) return Fail("truncated depth");
  if (depth >= kMaxDepth) return Fail(absl::StrCat("depth ", depth, " too large"));
  levels_.resize(depth + 1);
  for (PackedListLevel& l : levels_) {
    uint64_t digit = 0;
    if (!in_.Varint64(&digit) || !in_.Varint32(&l.region) || !in_.Varint64(&l.seq) ||
        !in_.Varint32(&l.idx)) {
      return Fail("truncated level");
    }
    l.digit = WireFormatLite::ZigZagDecode64(digit);
  }
  if (!in_.Varint64(&hlc_) || !in_.Varint32(&writer_)) return Fail("truncated stamp");
  if (!in_.Bytes(&value_)) return Fail("truncated value");
  return true;
}

}  // namespace activekv::crdt
