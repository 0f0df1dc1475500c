#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "activekv/v1/snapshot.pb.h"
#include "crdt/digest.h"
#include "crdt/values/element_frontiers.h"
#include "crdt/values/element_table.h"
#include "crdt/values/register.h"
#include "crdt/values/score_index.h"
#include "crdt/values/tag.h"
#include "crdt/values/value_type.h"

namespace activekv::crdt {

// A sorted set (docs/crdt-semantics.md, "Sorted sets"): an add-wins map from member to a score
// register (ScoreRegister). ZADD writes a new instance of a member's score, replacing the
// instances it observed; concurrent ZADDs resolve by last-writer-wins; ZINCRBY is a counter
// increment on the score, so concurrent increments all count; ZREM (and ZPOP*, ZREMRANGEBY*)
// removes only the observed instances: a concurrent ZADD or ZINCRBY survives (a ZREM concurrent
// with a ZINCRBY leaves the member with the increment it did not observe, on top of 0).
//
// Two views of the members: an ElementTable (lookup by name, O(1) random picks, ZSCAN cursors
// that never skip) and a ScoreIndex ordered by (visible score, member) for ranks and ranges in
// O(log n + m). Both are kept in step with every change, as is the digest. Not thread-safe.
class ZsetValue {
 public:
  struct Member {
    CompactString name;
    ScoreRegister reg;
  };

  ZsetValue() { members_.set_unordered(); }
  ZsetValue(const ZsetValue&) = delete;
  ZsetValue& operator=(const ZsetValue&) = delete;

  // ZADD of one member (instance `tag`), after removing the instances of it that the op's
  // context `observed` covers.
  void Add(std::string_view name, double score, const Tag& tag, Hlc hlc,
           const VersionVector& observed, const ValueContext& ctx);
  // ZINCRBY / ZADD INCR of one member.
  void Increment(std::string_view name, const ScoreRegister::Increment& inc,
                 const ValueContext& ctx);
  // ZREM of one member: removes the instances of it that `observed` covers.
  void Remove(std::string_view name, const VersionVector& observed, const ValueContext& ctx);
  // Whole-key removal: every instance whose dot `observed` covers.
  void RemoveObserved(const VersionVector& observed, const ValueContext& ctx);
  // Drops element frontiers whose ops have all been applied (only between ops).
  void PruneFrontiers(const VersionVector& applied) { frontiers_.Prune(applied); }

  size_t size() const { return members_.size(); }
  bool empty() const { return members_.empty(); }
  bool Empty() const { return members_.empty() && frontiers_.empty(); }
  const Member* Find(std::string_view name) const { return members_.Find(name); }
  // Storage order (ZSCAN of a skiplist zset, random picks).
  const Member& at(size_t i) const { return members_.at(i); }
  double Score(const Member& m, const RegionTable& regions) const { return m.reg.Value(regions); }
  // Members by (score, member): ranks and ranges.
  const ScoreIndex& index() const { return index_; }
  // Redis 7.0's encoding: listpack while at most 128 members and no member longer than 64 bytes
  // was added (zset-max-listpack-entries / -value), else skiplist (it never goes back).
  bool listpack() const { return listpack_; }
  void set_skiplist() { listpack_ = false; }
  Stamp Newest(const RegionTable& regions) const;
  // Sum of ElementDigest(member, the 8 bytes of its visible score) over the members.
  const Digest128& digest() const { return digest_; }

  void ToState(v1::ZsetState* out) const;
  static absl::Status FromState(const v1::ZsetState& in, const std::vector<RegionId>& dict,
                                const RegionTable& regions, ZsetValue* out);
  // State merge (JoinSide): instances survive unless the other side removed them.
  void Join(const ZsetValue& remote, const JoinSide& here, const JoinSide& there,
            const ValueContext& ctx);

 private:
  // Brackets a change of a member for the digest and the index: Before() notes the member (null:
  // absent) and its score; After() moves it in both when its score changed, adds it, or drops it
  // when nothing is left of it.
  struct Change {
    Member* member = nullptr;
    bool had = false;
    double old_score = 0;
  };
  Change Before(std::string_view name, const RegionTable& regions);
  void After(const Change& c, Member* m, const RegionTable& regions);
  Member* GetOrAdd(std::string_view name);

  ElementTable<Member> members_;
  ScoreIndex index_;
  ElementFrontiers frontiers_;
  Digest128 digest_;
  bool listpack_ = true;
};

template <>
struct ValueTraits<ZsetValue> {
  using State = v1::ZsetState;
  using Element = ZsetValue::Member;
  static constexpr auto kAdd = &ZsetValue::Add;
  static constexpr auto kSmallEncoding = &ZsetValue::listpack;
  static constexpr auto kSetLargeEncoding = &ZsetValue::set_skiplist;
};
static_assert(CheckCollectionValue<ZsetValue>());

}  // namespace activekv::crdt
