// Shared by the libFuzzer targets in tests/fuzz/ (docs/fuzzing.md): FUZZ_CHECK, which aborts
// (libFuzzer then saves the input as a crash) when an invariant fails, and FuzzInput, a reader
// that turns the fuzzer's bytes into choices and payloads without ever reading past the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

// Unlike assert, never compiled out; prints the failed condition before aborting.
#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

namespace activekv::fuzz {

// `s` cut at every `sep`, empty pieces kept (std::string_view: Debian's absl::StrSplit yields
// absl::string_view, a type of its own there).
inline std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (size_t from = 0;;) {
    const size_t at = s.find(sep, from);
    out.push_back(
        s.substr(from, at == std::string_view::npos ? std::string_view::npos : at - from));
    if (at == std::string_view::npos) return out;
    from = at + 1;
  }
}

// Reads the input front to back. Past the end every number reads as 0 and every byte string as
// empty, so a truncated input is still a valid (shorter) program.
class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : in_(reinterpret_cast<const char*>(data), size) {}
  explicit FuzzInput(std::string_view in) : in_(in) {}

  bool empty() const { return pos_ >= in_.size(); }
  size_t remaining() const { return in_.size() - pos_; }

  uint8_t Byte() { return empty() ? 0 : static_cast<uint8_t>(in_[pos_++]); }
  uint16_t U16() {
    const uint16_t lo = Byte();
    return static_cast<uint16_t>(lo | (Byte() << 8));
  }
  // A number in [0, n) (n > 0), from one byte.
  size_t Pick(size_t n) { return Byte() % n; }
  // Up to `n` bytes (fewer at the end).
  std::string_view Take(size_t n) {
    const std::string_view out = in_.substr(pos_, n);
    pos_ += out.size();
    return out;
  }
  // A payload framed by a 2-byte little-endian length.
  std::string_view Framed() { return Take(U16()); }
  // A short payload framed by a 1-byte length.
  std::string_view Short() { return Take(Byte()); }
  std::string_view Rest() { return Take(remaining()); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace activekv::fuzz
