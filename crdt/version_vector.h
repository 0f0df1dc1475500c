#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "crdt/region_table.h"
#include "crdt/types.h"

namespace activekv::crdt {

// A version vector indexed by RegionId: entry r = highest seq of region r covered (0 = none).
// Dense (regions are few); missing trailing entries are 0.
class VersionVector {
 public:
  uint64_t Get(RegionId r) const { return r < seqs_.size() ? seqs_[r] : 0; }
  void Set(RegionId r, uint64_t seq) {
    if (r >= seqs_.size()) seqs_.resize(r + 1, 0);
    seqs_[r] = seq;
  }
  bool Covers(const Dot& d) const { return d.seq <= Get(d.region); }
  // Pointwise max.
  void Merge(const VersionVector& other) {
    for (RegionId r = 0; r < other.seqs_.size(); ++r) {
      if (other.seqs_[r] > Get(r)) Set(r, other.seqs_[r]);
    }
  }
  // True when every entry is <= other's.
  bool LessOrEqual(const VersionVector& other) const {
    for (RegionId r = 0; r < seqs_.size(); ++r) {
      if (seqs_[r] > other.Get(r)) return false;
    }
    return true;
  }
  // Drops every entry already covered by `applied` (it can no longer matter for ops still to
  // arrive, which all have seq > applied). Returns true when nothing is left.
  bool PruneCoveredBy(const VersionVector& applied) {
    bool empty = true;
    for (RegionId r = 0; r < seqs_.size(); ++r) {
      if (seqs_[r] <= applied.Get(r)) seqs_[r] = 0;
      if (seqs_[r] != 0) empty = false;
    }
    if (empty) seqs_.clear();
    return empty;
  }
  bool empty() const {
    for (uint64_t s : seqs_) {
      if (s != 0) return false;
    }
    return true;
  }
  size_t size() const { return seqs_.size(); }
  // "name:seq,name:seq" in name order, zero entries omitted.
  std::string ToString(const RegionTable& regions) const;

 private:
  std::vector<uint64_t> seqs_;
};

}  // namespace activekv::crdt
