#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace activekv::crdt {

// Stable 64-bit hash (same value in every process and on every little-endian platform): words
// mixed with multiply-rotate steps, then a SplitMix64 finaliser. Not for adversarial inputs.
uint64_t StableHash64(std::string_view bytes, uint64_t seed);

// Order-independent 128-bit digests (docs/crdt-semantics.md, "Digests"): a set of items digests
// to the sum (mod 2^64, per half) of two independently seeded hashes of each item, so equal sets
// give equal digests whatever the order, and an item's contribution can be added or taken away
// (digests are kept up to date as the state changes, never recomputed by a walk).
struct Digest128 {
  uint64_t a = 0;
  uint64_t b = 0;
  void Add(const Digest128& d) {
    a += d.a;
    b += d.b;
  }
  void Sub(const Digest128& d) {
    a -= d.a;
    b -= d.b;
  }
  friend bool operator==(const Digest128& x, const Digest128& y) {
    return x.a == y.a && x.b == y.b;
  }
};

// Bumped whenever what a digest covers or how it hashes changes, so that digests of two formats
// never compare equal by accident. Mixed into every key's contribution and printed first.
inline constexpr uint8_t kDigestFormat = 2;

// One element of a collection: a hash field and its visible value, a set member (value empty).
Digest128 ElementDigest(std::string_view name, std::string_view value);
// One existing key: its name (as KeyDigestSeed(name), computed once for every change of the key),
// type code, visible expiry deadline and the digest of its visible value (a string:
// ElementDigest(value, ""); a collection: the sum of its elements').
uint64_t KeyDigestSeed(std::string_view key);
// The same for a key of physical namespace `ns` (docs/crdt-semantics.md, "Databases"): namespace
// 0's seed is KeyDigestSeed(key), so a keyspace that only uses database 0 digests as before.
uint64_t KeyDigestSeed(std::string_view key, uint32_t ns);
Digest128 KeyDigest(uint64_t key_seed, int type, int64_t deadline_ms, const Digest128& value);
// "<format:2 hex><32 hex>".
std::string DigestHex(const Digest128& d);

}  // namespace activekv::crdt
