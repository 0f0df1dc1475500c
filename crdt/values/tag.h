#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "activekv/v1/op.pb.h"
#include "activekv/v1/snapshot.pb.h"
#include "crdt/region_table.h"
#include "crdt/types.h"
#include "crdt/version_vector.h"

namespace activekv::crdt {

// The identity of one element instance (a hash field's value or increment, a set member's add):
// the dot of the op that added it and its index among the elements that op added. 16 bytes.
struct Tag {
  RegionId region = 0;
  uint32_t idx = 0;
  uint64_t seq = 0;

  Dot dot() const { return Dot{region, seq}; }
  friend bool operator==(const Tag& a, const Tag& b) {
    return a.seq == b.seq && a.region == b.region && a.idx == b.idx;
  }
  friend bool operator!=(const Tag& a, const Tag& b) { return !(a == b); }
  template <typename H>
  friend H AbslHashValue(H h, const Tag& t) {
    return H::combine(std::move(h), t.region, t.idx, t.seq);
  }
};
static_assert(sizeof(Tag) == 16, "a Tag per element instance: keep it small");

// Last-writer-wins order, the one every type uses: (HLC, region name); names break ties, so the
// order is total and the same in every process.
inline bool LwwBefore(Hlc a_hlc, RegionId a_region, Hlc b_hlc, RegionId b_region,
                      const RegionTable& regions) {
  if (a_hlc != b_hlc) return a_hlc < b_hlc;
  return regions.Name(a_region) < regions.Name(b_region);
}

// A point in the LWW order (an element's HLC and origin); `set` is false for "none".
struct Stamp {
  bool set = false;
  Hlc hlc = 0;
  RegionId region = 0;
  // Raises this stamp to (hlc, region) when that is later.
  void Raise(Hlc h, RegionId r, const RegionTable& regions) {
    if (!set || LwwBefore(hlc, region, h, r, regions)) *this = Stamp{true, h, r};
  }
  void Raise(const Stamp& s, const RegionTable& regions) {
    if (s.set) Raise(s.hlc, s.region, regions);
  }
};

// What one side of a state merge knows had been removed (docs/crdt-semantics.md, "Snapshots and
// state merge"): an element instance survives the merge when both sides have it, or when one has
// it and the other never removed it. The other side removed it when its ops cover the tag's dot
// (it had seen the add: the element is gone there), or its FLUSHALL frontier, the key's removal
// frontier or the type's tombstones do (it had seen an op that removes it). This is the one join
// rule every type uses.
struct JoinSide {
  const VersionVector* version;   // ops the side reflects
  const VersionVector* flush;     // its FLUSHALL frontier
  const VersionVector* frontier;  // the key's whole-value removal frontier there
  bool Removed(const Dot& d) const {
    return version->Covers(d) || flush->Covers(d) || frontier->Covers(d);
  }
};

// Snapshot forms: regions by index into the chunk's dictionary (Snapshot.regions), which is the
// keyspace's region table in id order.
void ToTagState(const Tag& tag, Hlc hlc, v1::TagState* out);
// `dict` maps a dictionary index to a local region id. False when malformed.
bool FromTagState(const v1::TagState& in, const std::vector<RegionId>& dict, Tag* tag, Hlc* hlc);
// The same check for a tag read field by field (the packed forms).
bool TagFromState(uint32_t region, uint64_t seq, uint32_t idx, const std::vector<RegionId>& dict,
                  Tag* tag);

}  // namespace activekv::crdt
