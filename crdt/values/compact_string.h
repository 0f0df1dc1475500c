#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <string_view>

namespace activekv::crdt {

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "CompactString tags the pointer's low byte: little-endian only"
#endif

// A byte string the CRDT state holds per element (a register write's value; a hash field's, set
// member's or zset member's name) in 16 bytes instead of std::string's 32: up to 15 bytes inline
// (a counter, a flag, a short word), a longer one in one heap block of exactly its bytes. The
// header is a large share of the bytes per element (docs/operations.md, "Memory").
//
// Representation: when the first byte's low bit is 1 the string is inline, that byte holding
// (size << 1) | 1 and the next fifteen the bytes; otherwise the first word is a pointer
// (malloc's alignment keeps its low bit 0) and the second the size. Copyable, movable (a
// moved-from string is empty), not thread-safe.
class CompactString {
 public:
  static constexpr size_t kInline = 15;

  CompactString() noexcept { SetInline({}); }
  explicit CompactString(std::string_view s) { Assign(s); }
  CompactString(const CompactString& other) { Assign(other.view()); }
  CompactString(CompactString&& other) noexcept {
    std::memcpy(raw_, other.raw_, sizeof(raw_));
    other.SetInline({});
  }
  CompactString& operator=(const CompactString& other) {
    if (this != &other) {
      Free();
      Assign(other.view());
    }
    return *this;
  }
  CompactString& operator=(CompactString&& other) noexcept {
    if (this != &other) {
      Free();
      std::memcpy(raw_, other.raw_, sizeof(raw_));
      other.SetInline({});
    }
    return *this;
  }
  // `s` may point into this string.
  CompactString& operator=(std::string_view s) {
    CompactString copy(s);
    *this = std::move(copy);
    return *this;
  }
  ~CompactString() { Free(); }

  std::string_view view() const {
    if (is_inline()) return std::string_view(raw_ + 1, static_cast<unsigned char>(raw_[0]) >> 1);
    uint64_t size;
    std::memcpy(&size, raw_ + sizeof(char*), sizeof(size));
    return std::string_view(heap(), size);
  }
  operator std::string_view() const { return view(); }  // NOLINT: a string is its bytes
  const char* data() const { return view().data(); }
  size_t size() const { return view().size(); }
  bool empty() const { return size() == 0; }

  friend bool operator==(const CompactString& a, const CompactString& b) {
    return a.view() == b.view();
  }
  friend bool operator!=(const CompactString& a, const CompactString& b) { return !(a == b); }
  friend std::ostream& operator<<(std::ostream& os, const CompactString& s) {
    return os << s.view();
  }

 private:
  bool is_inline() const { return (static_cast<unsigned char>(raw_[0]) & 1) != 0; }
  char* heap() const {
    char* p;
    std::memcpy(&p, raw_, sizeof(p));
    return p;
  }
  void SetInline(std::string_view s) {
    std::memset(raw_, 0, sizeof(raw_));
    raw_[0] = static_cast<char>((s.size() << 1) | 1);
    if (!s.empty()) std::memcpy(raw_ + 1, s.data(), s.size());
  }
  void Assign(std::string_view s) {
    if (s.size() <= kInline) {
      SetInline(s);
      return;
    }
    char* block = static_cast<char*>(std::malloc(s.size()));
    if (block == nullptr) std::abort();  // as operator new would fail
    std::memcpy(block, s.data(), s.size());
    const uint64_t size = s.size();
    std::memcpy(raw_, &block, sizeof(block));
    std::memcpy(raw_ + sizeof(block), &size, sizeof(size));
  }
  void Free() {
    if (!is_inline()) std::free(heap());
  }

  alignas(8) char raw_[16];
};

}  // namespace activekv::crdt
