// CRC32C (Castagnoli polynomial 0x1EDC6F41, reflected 0x82F63B78), as used by iSCSI, ext4 and
// LevelDB. Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at runtime), a
// slicing-by-8 table otherwise. Thread-safe, no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace activekv::persistence::crc32c {

// The CRC32C of data[0, n) appended to a stream whose CRC32C is `init_crc`:
// Extend(Value(A), B) == Value(A + B).
uint32_t Extend(uint32_t init_crc, const char* data, size_t n);

inline uint32_t Value(const char* data, size_t n) { return Extend(0, data, n); }
inline uint32_t Value(std::string_view data) { return Extend(0, data.data(), data.size()); }

// A CRC stored next to the data it covers is masked: computing the CRC of a string that contains
// embedded CRCs is then not degenerate (LevelDB's scheme: rotate right by 15, add a constant).
inline constexpr uint32_t kMaskDelta = 0xa282ead8u;
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
inline uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

namespace internal {
// Exposed so tests can check both implementations agree.
uint32_t ExtendPortable(uint32_t init_crc, const char* data, size_t n);
bool CanUseSse42();
// Only valid when CanUseSse42().
uint32_t ExtendSse42(uint32_t init_crc, const char* data, size_t n);
}  // namespace internal

}  // namespace activekv::persistence::crc32c
