#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "activekv/v1/snapshot.pb.h"
#include "crdt/region_table.h"
#include "crdt/types.h"
#include "crdt/version_vector.h"

namespace activekv::crdt {

// No expiry.
constexpr int64_t kNoDeadline = 0;

// Appends `vv`'s non-zero entries to `out` as (region name, seq), in region id order.
void AppendVersionEntries(const VersionVector& vv, const RegionTable& regions,
                          google::protobuf::RepeatedPtrField<v1::VersionEntry>* out);

// The CRDT state of one string key (docs/crdt-semantics.md is the specification):
//
//  * Value: an observed-remove multi-value register. A write removes every write and pending
//    increment its context observed, then adds itself; concurrent surviving writes are resolved
//    at read time by last-writer-wins on (HLC, region name).
//  * Counter: pending increments (INCR & co) not observed by any write. The visible value is the
//    winning write (or 0) with the pending increments added on top in (HLC, region name) order,
//    each step rounded through Redis's text form exactly as redis-server does. Increments that
//    are causally stable (every region has seen them, and the base write too) are folded into
//    the base, so a single-region keyspace stores exactly what redis-server stores.
//  * Expiry: an observed-remove register of deadlines; among concurrent survivors PERSIST wins,
//    otherwise the latest deadline.
//
// Removal knowledge that matters for ops still to arrive (their dots are covered by an applied
// context but they have not been applied yet) is kept in per-key frontiers and pruned as soon
// as the keyspace has applied everything they cover.
//
// Not thread-safe; owned by a Keyspace.
class Entry {
 public:
  struct Context {
    const RegionTable* regions;
    const VersionVector* applied;  // ops applied by the keyspace, including the current one
    const VersionVector*
        stable;  // ops every region has seen before creating any op not applied yet
  };

  void ApplyWrite(const Dot& dot, Hlc hlc, std::string value, const VersionVector& observed,
                  const Context& ctx);
  void ApplyIncrement(const Dot& dot, Hlc hlc, int64_t delta, const Context& ctx);
  void ApplyFloatIncrement(const Dot& dot, Hlc hlc, long double delta, const Context& ctx);
  // deadline_ms == kNoDeadline means PERSIST.
  void ApplyExpiry(const Dot& dot, Hlc hlc, int64_t deadline_ms, const VersionVector& observed,
                   const Context& ctx);
  // Observed-remove of value, increments and expiries.
  void ApplyDelete(const VersionVector& observed, const Context& ctx);

  // True when the key has a value (a surviving write or a pending increment).
  bool Exists() const { return !writes_.empty() || (extra_ && !extra_->increments.empty()); }
  // Visible value; only meaningful when Exists(). A view of the stored bytes, or of the cached
  // value with pending increments added on top; valid until the entry changes.
  std::string_view Value(const RegionTable& regions) const;
  // Visible expiry deadline (unix ms), kNoDeadline when none.
  int64_t DeadlineMs() const;
  // Nothing left, not even removal knowledge: the keyspace may erase the entry.
  bool Empty() const;

  // Snapshot form (v1::KeyState, without the key): every element with its dot, folded-increment
  // count and the removal frontiers. Region ids become names through `regions`.
  void ToState(const RegionTable& regions, v1::KeyState* out) const;
  // The entry a KeyState describes, its region names interned in `regions`. InvalidArgument
  // (and `*out` unspecified) when the state is malformed: an element without a dot, an empty
  // region name, a float increment whose text is not an exact hexadecimal float.
  static absl::Status FromState(const v1::KeyState& state, RegionTable* regions, Entry* out);

  // State merge (docs/crdt-semantics.md, "Snapshots and state merge"): joins `remote`, this key's
  // state in a snapshot that covers exactly the ops `remote_version` covers, into this entry,
  // which reflects exactly the ops `local_applied` covers. The result is the state that applying
  // the ops of both would give (visible value, expiry and every later op's effect).
  struct JoinContext {
    const VersionVector* local_applied;
    const VersionVector* local_flush;  // the local keyspace's FLUSHALL frontier
    const VersionVector* remote_version;
    const VersionVector* remote_flush;
  };
  // `ctx.applied` is already the union of both; `remote` is not needed afterwards.
  void Join(const Entry& remote, const JoinContext& join, const Context& ctx);

 private:
  struct ValueWrite {
    Dot dot;
    Hlc hlc;
    std::string value;
    // Stable increments folded into `value` (a prefix of the key's increments in (hlc, region)
    // order; a write created by folding with no base carries the first one's dot, so the dot
    // does not depend on how the folds were batched). Two states of
    // one write differ only in this prefix: the one that folded more is the newer.
    uint32_t folds = 0;
  };
  struct Increment {
    Dot dot;
    Hlc hlc;
    bool is_float;
    int64_t delta;
    long double float_delta;
  };
  struct ExpiryWrite {
    Dot dot;
    Hlc hlc;
    int64_t deadline_ms;
  };
  // Rarely needed state, allocated on demand.
  struct Extra {
    std::deque<Increment> increments;  // sorted by (hlc, region name)
    // Visible value while increments are pending (they can be thousands on a hot counter until
    // peers acknowledge them): kept up to date when an increment lands at the end of the order,
    // recomputed after anything else.
    mutable std::string cached_value;
    mutable bool cache_valid = false;
    std::vector<ExpiryWrite> expiries;
    VersionVector value_frontier;
    VersionVector expiry_frontier;
  };

  Extra& extra();
  void RemoveObservedValue(const VersionVector& observed, const Context& ctx);
  void RemoveObservedExpiry(const VersionVector& observed, const Context& ctx);
  bool ValueRemoved(const Dot& dot) const;
  void InsertIncrement(Increment inc, const Context& ctx);
  const ValueWrite* Winner(const RegionTable& regions) const;
  void Compact(const Context& ctx);
  void MaybeFreeExtra();
  bool HasWrite(const Dot& dot) const;
  bool HasIncrement(const Dot& dot) const;

  absl::InlinedVector<ValueWrite, 1> writes_;
  std::unique_ptr<Extra> extra_;
};

}  // namespace activekv::crdt
