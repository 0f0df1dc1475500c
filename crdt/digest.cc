#include "crdt/digest.h"

#include <cstdio>
#include <cstring>

namespace activekv::crdt {
namespace {
uint64_t Mix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
uint64_t Load64(const unsigned char* p) {
  uint64_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}
}  // namespace

uint64_t StableHash64(std::string_view bytes, uint64_t seed) {
  // 8 bytes at a time, each word mixed in with a multiply-rotate; the tail zero-padded.
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  uint64_t h = Mix(seed ^ 0xcbf29ce484222325ULL) ^ (n * 0x9e3779b97f4a7c15ULL);
  while (n >= 8) {
    uint64_t w = Load64(p) * 0x87c37b91114253d5ULL;
    h = (h ^ ((w << 31) | (w >> 33))) * 0x4cf5ad432745937fULL;
    h = (h << 27) | (h >> 37);
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    unsigned char tail[8] = {0};
    memcpy(tail, p, n);
    uint64_t w = Load64(tail) * 0x87c37b91114253d5ULL;
    h ^= (w << 31) | (w >> 33);
  }
  return Mix(h);
}

Digest128 ElementDigest(std::string_view name, std::string_view value) {
  // One hash per string; the two halves mix them differently.
  const uint64_t n = StableHash64(name, 0x656c61ULL);
  const uint64_t v = StableHash64(value, 0x76616c61ULL);
  return Digest128{Mix(n ^ v), Mix(n * 0x9e3779b97f4a7c15ULL + v * 3)};
}

uint64_t KeyDigestSeed(std::string_view key) {
  return StableHash64(key, 0x6b6579ULL + kDigestFormat * 0x1000ULL);
}

uint64_t KeyDigestSeed(std::string_view key, uint32_t ns) {
  if (ns == 0) return KeyDigestSeed(key);
  return StableHash64(key, (0x6b6579ULL + kDigestFormat * 0x1000ULL) ^ (uint64_t{ns} << 40));
}

Digest128 KeyDigest(uint64_t key_seed, int type, int64_t deadline_ms, const Digest128& value) {
  const uint64_t t = static_cast<uint64_t>(type);
  const uint64_t d = static_cast<uint64_t>(deadline_ms);
  return Digest128{Mix(Mix(Mix(key_seed ^ t) ^ value.a) ^ d),
                   Mix(Mix(Mix(key_seed * 0xbf58476d1ce4e5b9ULL + t) ^ value.b) + d)};
}

std::string DigestHex(const Digest128& d) {
  char buf[40];
  snprintf(buf, sizeof(buf), "%02x%016llx%016llx", kDigestFormat,
           static_cast<unsigned long long>(d.a), static_cast<unsigned long long>(d.b));
  return buf;
}

}  // namespace activekv::crdt
