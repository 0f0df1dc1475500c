#pragma once

#include <cstdint>

namespace activekv::crdt {

// Index of a region in a Keyspace's RegionTable. Local to one process: never persisted, never
// compared for ordering (region *names* order ties). 32 bits: every name a peer sends is interned
// (incarnations and relayed origins included), so a 16-bit id could wrap after 65,536 names from
// a hostile or buggy peer; 2^32 names would exhaust memory first. The structures that hold one
// (Dot, Tag, Stamp, list elements) keep their size: it fills what was padding.
using RegionId = uint32_t;

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
