#pragma once

#include <cstdint>

namespace activekv::crdt {

// Index of a region in a Keyspace's RegionTable. Local to one process: never persisted, never
// compared for ordering (region *names* order ties).
using RegionId = uint16_t;

// The identity of an op: (origin region, seq), seq >= 1 and contiguous per origin.
struct Dot {
  RegionId region = 0;
  uint64_t seq = 0;
};

// Hybrid logical clock timestamp: (physical unix ms << 16) | logical counter.
using Hlc = uint64_t;

constexpr int kHlcLogicalBits = 16;
constexpr Hlc HlcFromMs(int64_t ms) { return static_cast<Hlc>(ms) << kHlcLogicalBits; }
constexpr int64_t HlcPhysicalMs(Hlc t) { return static_cast<int64_t>(t >> kHlcLogicalBits); }

}  // namespace activekv::crdt
