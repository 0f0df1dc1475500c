#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "activekv/v1/snapshot.pb.h"
#include "crdt/digest.h"
#include "crdt/region_table.h"
#include "crdt/types.h"
#include "crdt/values/hash_value.h"
#include "crdt/values/list_value.h"
#include "crdt/values/register.h"
#include "crdt/values/set_value.h"
#include "crdt/values/stream_value.h"
#include "crdt/values/zset_value.h"
#include "crdt/version_vector.h"

namespace activekv::crdt {

// No expiry.
constexpr int64_t kNoDeadline = 0;

// Appends `vv`'s non-zero entries to `out` as (region name, seq), in region id order.
void AppendVersionEntries(const VersionVector& vv, const RegionTable& regions,
                          google::protobuf::RepeatedPtrField<v1::VersionEntry>* out);

// The type a key shows (TYPE): a code that is also part of the digest format.
enum class ValueType : uint8_t {
  kNone = 0,
  kString = 1,
  kHash = 2,
  kSet = 3,
  kZset = 4,
  kList = 5,
  kStream = 6
};

// The CRDT state of one key (docs/crdt-semantics.md is the specification): key-level state plus
// typed values.
//
//  * Key level: an observed-remove register of expiry deadlines (among concurrent survivors
//    PERSIST wins, otherwise the latest deadline), and the key's removal frontiers: what
//    whole-key removals (DEL, a type-changing SET, FLUSHALL) observed of ops not applied yet.
//  * Values: the string register (with its counter), a hash, a set, a sorted set, a list. A key
//    normally holds one of them; concurrent writes of different types leave more than one until a
//    removal observes the loser, and the type shown is the one whose newest element is latest in
//    the LWW order
//    ("Type conflicts").
//
// Every removal carries its op's version-vector context: a whole-key removal applies it to every
// instance of every type, an element removal (HDEL, SREM) only to its elements' instances
// (values/element_frontiers.h).
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

  Entry() = default;
  Entry(Entry&&) = default;
  Entry& operator=(Entry&&) = default;

  // A SET: the write and, when `set_expiry`, its expiry (deadline_ms == kNoDeadline: PERSIST),
  // as one change.
  void ApplySet(const Dot& dot, Hlc hlc, std::string_view value, bool set_expiry,
                int64_t deadline_ms, const VersionVector& observed, const Context& ctx);
  void ApplyIncrement(const Dot& dot, Hlc hlc, int64_t delta, const Context& ctx);
  void ApplyFloatIncrement(const Dot& dot, Hlc hlc, long double delta, const Context& ctx);
  // deadline_ms == kNoDeadline means PERSIST.
  void ApplyExpiry(const Dot& dot, Hlc hlc, int64_t deadline_ms, const VersionVector& observed,
                   const Context& ctx);
  // Observed-remove of every value instance and expiry.
  void ApplyDelete(const VersionVector& observed, const Context& ctx) {
    ApplyRemoval(observed, true, true, ctx);
  }
  // Observed-remove of the value instances (`value`) and/or the expiries (`expiry`): what a
  // SET, DEL or EXPIRE removes, without what it adds.
  void ApplyRemoval(const VersionVector& observed, bool value, bool expiry, const Context& ctx);

  // Typed values for element ops: created on demand. Call Compact(ctx) after the ops.
  HashValue* mutable_hash();
  SetValue* mutable_set();
  ZsetValue* mutable_zset();
  ListValue* mutable_list();
  StreamValue* mutable_stream();
  ValueContext value_context(const Context& ctx) const;

  // True when the key has a value of any type.
  bool Exists() const {
    return str_.Exists() ||
           (extra_ &&
            ((extra_->hash && !extra_->hash->empty()) || (extra_->set && !extra_->set->empty()) ||
             (extra_->zset && !extra_->zset->empty()) || (extra_->list && !extra_->list->empty()) ||
             (extra_->stream && !extra_->stream->empty())));
  }
  ValueType Type(const RegionTable& regions) const;
  // Visible string value; only meaningful when Type() is kString. A view of the stored bytes, or
  // of the cached value with pending increments added on top; valid until the entry changes.
  std::string_view Value(const RegionTable& regions) const { return str_.Value(regions); }
  // The string value is a counter (Register::Counted); only meaningful when Type() is kString.
  bool Counted(const RegionTable& regions) const { return str_.Counted(regions); }
  // The typed values (null when the key never had one); meaningful when Type() says so.
  const HashValue* hash() const { return extra_ ? extra_->hash.get() : nullptr; }
  const SetValue* set() const { return extra_ ? extra_->set.get() : nullptr; }
  const ZsetValue* zset() const { return extra_ ? extra_->zset.get() : nullptr; }
  const ListValue* list() const { return extra_ ? extra_->list.get() : nullptr; }
  const StreamValue* stream() const { return extra_ ? extra_->stream.get() : nullptr; }
  // Visible expiry deadline (unix ms), kNoDeadline when none.
  int64_t DeadlineMs() const;
  // Nothing left, not even removal knowledge: the keyspace may erase the entry.
  bool Empty() const { return !str_.Exists() && !extra_; }
  // This key's contribution to the keyspace digest (zero when it does not exist); `key_seed` is
  // KeyDigestSeed(the key).
  Digest128 Digest(uint64_t key_seed, const RegionTable& regions) const;

  // Drops what became redundant (folds stable increments, a stable lone PERSIST, empty values).
  void Compact(const Context& ctx);

  // Snapshot form (v1::KeyState, without the key): every element with its dot, folded-increment
  // count and the removal frontiers. Region ids become names through `regions` (string part) or
  // stay ids (typed parts: the chunk's dictionary is the region table in id order).
  void ToState(const RegionTable& regions, v1::KeyState* out) const;
  // The entry a KeyState describes, its region names interned in `regions`; `dict` maps the
  // chunk's dictionary indices to ids of `regions`. InvalidArgument (and `*out` unspecified)
  // when the state is malformed: an element without a dot, an empty region name, a float
  // increment whose text is not an exact hexadecimal float, a bad dictionary index.
  static absl::Status FromState(const v1::KeyState& state, const std::vector<RegionId>& dict,
                                RegionTable* regions, Entry* out);

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
  struct ExpiryWrite {
    Dot dot;
    Hlc hlc;
    int64_t deadline_ms;
  };
  // Rarely needed state (and collections), allocated on demand.
  struct Extra {
    std::vector<ExpiryWrite> expiries;
    VersionVector value_frontier;
    VersionVector expiry_frontier;
    std::unique_ptr<HashValue> hash;
    std::unique_ptr<SetValue> set;
    std::unique_ptr<ZsetValue> zset;
    std::unique_ptr<ListValue> list;
    std::unique_ptr<StreamValue> stream;
  };

  Extra& extra();
  // The halves of ApplySet / ApplyExpiry, without Compact.
  void AddWrite(const Dot& dot, Hlc hlc, std::string_view value, const VersionVector& observed,
                const Context& ctx);
  void AddExpiry(const Dot& dot, Hlc hlc, int64_t deadline_ms, const VersionVector& observed,
                 const Context& ctx);
  void RemoveObservedValue(const VersionVector& observed, const Context& ctx);
  void RemoveObservedExpiry(const VersionVector& observed, const Context& ctx);
  bool ValueRemoved(const Dot& dot) const;
  void MaybeFreeExtra();

  Register str_;
  std::unique_ptr<Extra> extra_;
};

}  // namespace activekv::crdt
