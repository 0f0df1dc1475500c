#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace activekv::crdt {

// Stable 64-bit hash (same value in every process and on every little-endian platform): words
// mixed with multiply-rotate steps, then a SplitMix64 finaliser. Not for adversarial inputs.
uint64_t StableHash64(std::string_view bytes, uint64_t seed);

// Order-independent digest of a set of keys: the sum (mod 2^64) of two independently seeded
// per-key hashes, printed as 32 hex digits. Equal sets give equal digests whatever the order.
class DigestAccumulator {
 public:
  void AddKey(std::string_view key, std::string_view value, int64_t deadline_ms);
  std::string Hex() const;

 private:
  uint64_t a_ = 0;
  uint64_t b_ = 0;
};

}  // namespace activekv::crdt
