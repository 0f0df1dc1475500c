#include "crdt/digest.h"

#include <cstdio>

namespace activekv::crdt {
namespace {
uint64_t Mix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
uint64_t Fnv(std::string_view bytes, uint64_t h) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}
}  // namespace

uint64_t StableHash64(std::string_view bytes, uint64_t seed) {
  return Mix(Fnv(bytes, 0xcbf29ce484222325ULL ^ Mix(seed)) ^ bytes.size());
}

void DigestAccumulator::AddKey(std::string_view key, std::string_view value, int64_t deadline_ms) {
  for (int i = 0; i < 2; ++i) {
    uint64_t seed = i == 0 ? 0x6b6579ULL : 0x76616cULL;
    uint64_t h = StableHash64(key, seed);
    h = Mix(h ^ StableHash64(value, seed + 1));
    h = Mix(h ^ static_cast<uint64_t>(deadline_ms));
    (i == 0 ? a_ : b_) += h;
  }
}

std::string DigestAccumulator::Hex() const {
  char buf[33];
  snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(a_),
           static_cast<unsigned long long>(b_));
  return buf;
}

}  // namespace activekv::crdt
