#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "crdt/region_table.h"
#include "crdt/types.h"
#include "crdt/values/compact_string.h"
#include "crdt/values/tag.h"
#include "crdt/version_vector.h"

namespace activekv::crdt {

// The arithmetic of a register (BasicRegister below): what a write holds, what an increment adds,
// and how a sequence of increments is applied on top of a base.
//
// A string key's value and a hash field: the value is bytes; increments are INCRBY (integer) or
// INCRBYFLOAT (long double) steps, each rounded through Redis's text form exactly as
// redis-server does; a non-numeric base wins over increments as it is.
struct StringArith {
  using Value = CompactString;
  using View = std::string_view;
  struct Increment {
    Tag tag;
    Hlc hlc = 0;
    bool is_float = false;
    int64_t delta = 0;
    long double float_delta = 0;
  };
};

// A sorted-set member's score: a double; ZINCRBY adds in double arithmetic as redis-server does
// (a member without a score takes the first increment as it is, so -0 stays -0). A step whose
// result would be NaN (+inf and -inf from two regions) is skipped: redis-server refuses it at the
// origin, and the order of steps is the same everywhere.
struct ScoreArith {
  using Value = double;
  using View = double;
  struct Increment {
    Tag tag;
    Hlc hlc = 0;
    double delta = 0;
  };
};

// An observed-remove multi-value register with a counter on top: a string key's value, each
// field of a hash, each member's score in a sorted set (docs/crdt-semantics.md, "Strings",
// "Counters", "Sorted sets").
//
//  * Writes: a write is added after the op removed the instances it observed (the caller does
//    that through RemoveIf); concurrent surviving writes are resolved at read time by
//    last-writer-wins on (HLC, region name).
//  * Increments not removed by any write: the visible value is the winning write (or 0) with the
//    pending increments added on top in (HLC, region name) order (Arith's steps). Increments
//    that are causally stable (in `stable`, with their base write) are folded into the base, so
//    a single region stores exactly what redis-server stores.
//
// Every instance has a Tag; writes and increments share one tag space. Not thread-safe.
template <typename Arith>
class BasicRegister {
 public:
  using Stored = typename Arith::Value;
  using View = typename Arith::View;
  struct Write {
    Tag tag;
    Hlc hlc = 0;
    Stored value{};
    // Stable increments folded into `value` (a prefix of the increments in (hlc, region) order;
    // a write created by folding with no base carries the first one's tag, so the tag does not
    // depend on how the folds were batched). Of two states of one write, the one that folded
    // more is the newer.
    uint32_t folds = 0;
  };
  using Increment = typename Arith::Increment;

  BasicRegister() = default;
  BasicRegister(BasicRegister&&) noexcept = default;
  BasicRegister& operator=(BasicRegister&&) noexcept = default;
  BasicRegister(const BasicRegister& other) { *this = other; }
  BasicRegister& operator=(const BasicRegister& other);

  // A write (its observed instances removed already).
  void AddWrite(Write w, const VersionVector& stable);
  // An increment; `stable` decides folding.
  void AddIncrement(const Increment& inc, const VersionVector& stable, const RegionTable& regions);
  // Removes every instance `removed(tag)` is true for. Returns true when something went.
  template <typename Pred>
  bool RemoveIf(Pred removed);
  // Folds stable increments into a stable base write.
  void Compact(const VersionVector& stable);

  // A surviving write or a pending increment.
  bool Exists() const { return !writes_.empty() || (pending_ && !pending_->incs.empty()); }
  // Visible value (only meaningful when Exists()): a view valid until the register changes.
  View Value(const RegionTable& regions) const;
  // The newest write in the LWW order, or the first pending increment when there is no write
  // (for type conflicts; independent of folding).
  Stamp Newest(const RegionTable& regions) const;
  bool HasWrite(const Tag& tag) const;
  bool HasIncrement(const Tag& tag) const;
  // A counter (only meaningful when Exists()): the visible value came from increments (INCR,
  // HINCRBY, ZINCRBY ...), pending or folded into the winning write, not from a plain write.
  bool Counted(const RegionTable& regions) const {
    if (pending_ && !pending_->incs.empty()) return true;
    const Write* w = Winner(regions);
    return w != nullptr && w->folds > 0;
  }

  const absl::InlinedVector<Write, 1>& writes() const { return writes_; }
  // Sorted by (hlc, region name, seq, idx).
  const std::deque<Increment>* increments() const { return pending_ ? &pending_->incs : nullptr; }

  // A snapshot's elements hold each instance once: no two writes, no two increments and no write
  // and increment share a tag (a write with an increment's tag is that increment folded: the join
  // drops the increment, so a state holding both would change when merged again). FromState
  // refuses a state for which this is false.
  static bool DistinctTags(const absl::InlinedVector<Write, 1>& writes,
                           const std::vector<Increment>& incs);
  // Rebuilds from snapshot elements (any order). `regions` orders increments. (A vector: most
  // registers have no increment, and an empty std::deque allocates.)
  void Assign(absl::InlinedVector<Write, 1> writes, std::vector<Increment> incs,
              const RegionTable& regions);
  // State merge: the instances that survive (JoinSide), a write one side holds as a pending
  // increment on the other being the other's fold of it.
  // `removed_here(tag)` / `removed_there(tag)`: that side removed the instance (JoinSide::Removed
  // plus the element's frontier in the type).
  void Join(const BasicRegister& remote, absl::FunctionRef<bool(const Tag&)> removed_here,
            absl::FunctionRef<bool(const Tag&)> removed_there, const RegionTable& regions,
            const VersionVector& stable);

 private:
  struct Pending {
    std::deque<Increment> incs;  // sorted by (hlc, region name, seq, idx)
    // Visible value while increments are pending: kept up to date when an increment lands at the
    // end of the order (and, for integer counters, anywhere: CachedAddAnywhere), recomputed after
    // anything else.
    mutable Stored cached{};
    mutable bool cache_valid = false;
    // Of `incs` (integer string increments only; see CachedAddAnywhere): how many are floats,
    // and the sum of the integer deltas' magnitudes (saturating at UINT64_MAX).
    size_t floats = 0;
    uint64_t abs_sum = 0;
    void Count(const Increment& inc, bool add);
    void Recount();
  };
  // An increment that lands before the end of the order can still update the cached value in
  // O(1) when it is exact: integer steps that cannot overflow in any order (|base| + the deltas'
  // magnitudes fit in an int64) add up to the same integer whatever the order. StringArith only.
  bool CachedAddAnywhere(const Increment& inc, const RegionTable& regions);
  const Write* Winner(const RegionTable& regions) const;
  void Invalidate() {
    if (pending_) pending_->cache_valid = false;
  }

  absl::InlinedVector<Write, 1> writes_;
  std::unique_ptr<Pending> pending_;
};

using Register = BasicRegister<StringArith>;
using ScoreRegister = BasicRegister<ScoreArith>;
extern template class BasicRegister<StringArith>;
extern template class BasicRegister<ScoreArith>;

template <typename Arith>
template <typename Pred>
bool BasicRegister<Arith>::RemoveIf(Pred removed) {
  bool any = false;
  for (size_t i = 0; i < writes_.size();) {
    if (removed(writes_[i].tag)) {
      writes_.erase(writes_.begin() + static_cast<std::ptrdiff_t>(i));
      any = true;
    } else {
      ++i;
    }
  }
  if (pending_) {
    auto& incs = pending_->incs;
    const size_t before = incs.size();
    for (auto it = incs.begin(); it != incs.end();) {
      it = removed(it->tag) ? incs.erase(it) : it + 1;
    }
    if (incs.size() != before) {
      any = true;
      pending_->Recount();
    }
    if (incs.empty()) {
      pending_.reset();
    } else if (any) {
      pending_->cache_valid = false;
    }
  }
  return any;
}

// The exact long double as hexadecimal floating text ("%La"), and back (finite "%La" text only).
std::string HexFloat(long double v);
bool ParseHexFloat(const std::string& text, long double* out);

}  // namespace activekv::crdt
