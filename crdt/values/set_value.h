#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "activekv/v1/snapshot.pb.h"
#include "crdt/digest.h"
#include "crdt/values/element_frontiers.h"
#include "crdt/values/element_table.h"
#include "crdt/values/packing.h"
#include "crdt/values/tag.h"
#include "crdt/values/value_type.h"
#include "crdt/version_vector.h"

namespace activekv::crdt {

// A set: an add-wins observed-remove set (docs/crdt-semantics.md, "Sets"). SADD adds a new
// instance of a member and removes the instances it observed; SREM removes only the observed
// instances, so a concurrent SADD of the member survives. A member is present while it has an
// instance. Not thread-safe.
class SetValue {
 public:
  struct Instance {
    Tag tag;
    Hlc hlc;
  };
  struct Member {
    CompactString name;
    absl::InlinedVector<Instance, 1> instances;
  };

  SetValue() { members_.set_unordered(); }
  SetValue(const SetValue&) = delete;
  SetValue& operator=(const SetValue&) = delete;

  // SADD of one member (instance `tag`), after removing the instances of it that the op's
  // context `observed` covers.
  void Add(std::string_view name, const Tag& tag, Hlc hlc, const VersionVector& observed,
           const ValueContext& ctx);
  // SREM of one member: removes the instances of it that `observed` covers.
  void Remove(std::string_view name, const VersionVector& observed, const ValueContext& ctx);
  // Whole-key removal: every instance whose dot `observed` covers.
  void RemoveObserved(const VersionVector& observed, const ValueContext& ctx);
  // Drops element frontiers whose ops have all been applied. Only between ops: an op may add
  // two instances of one element, and a frontier must outlive the first.
  void PruneFrontiers(const VersionVector& applied) { frontiers_.Prune(applied); }

  size_t size() const { return members_.size(); }
  bool empty() const { return members_.empty(); }
  // No member and no removal knowledge left.
  bool Empty() const { return members_.empty() && frontiers_.empty(); }
  const Member* Find(std::string_view name) const { return members_.Find(name); }
  const Member& at(size_t i) const { return members_.at(i); }
  // Redis 7.0's encoding this set would have: intset while every member is an integer and there
  // are at most 512 (then SMEMBERS is in numeric order), else hashtable (it never goes back).
  bool intset() const { return intset_; }
  void set_hashtable() { intset_ = false; }
  // Member indices in the order Redis replies them (numeric for an intset, else storage order).
  std::vector<uint32_t> ReplyOrder() const;
  Stamp Newest(const RegionTable& regions) const;
  // Sum of ElementDigest(member, "") over the members.
  const Digest128& digest() const { return digest_; }

  // Snapshot form; `out` is cleared first.
  void ToState(v1::SetState* out) const;
  static absl::Status FromState(const v1::SetState& in, const std::vector<RegionId>& dict,
                                const RegionTable& regions, SetValue* out);
  // The largest instance HLC in `in.packed` (0 when empty; stops at the first malformed byte:
  // FromState is what validates).
  static Hlc MaxPackedHlc(const v1::SetState& in);

  // One instance as a state holds it: the tag (region by dictionary index) and HLC.
  struct PackedTag {
    uint32_t region = 0;
    uint64_t seq = 0;
    uint32_t idx = 0;
    uint64_t hlc = 0;
  };
  // Reads SetState.packed (docs/aof-format.md, "Sets") member by member. Next() fills name()
  // and tags() and returns false at the end or when the bytes are malformed (ok() tells).
  class PackReader {
   public:
    explicit PackReader(std::string_view packed) : in_(packed) {}
    bool Next();
    bool ok() const { return ok_; }
    std::string_view name() const { return name_; }  // a view into the input
    const std::vector<PackedTag>& tags() const { return tags_; }

   private:
    PackedReader in_;
    bool ok_ = true;
    std::string_view name_;
    std::vector<PackedTag> tags_;
  };
  // State merge (JoinSide): instances survive unless the other side removed them.
  void Join(const SetValue& remote, const JoinSide& here, const JoinSide& there,
            const ValueContext& ctx);

 private:
  void AddInstance(std::string_view name, const Instance& inst);
  // FromState: a member read from a state, either form; InvalidArgument when malformed.
  absl::Status AddDecodedMember(std::string_view name, const std::vector<PackedTag>& tags,
                                const std::vector<RegionId>& dict);
  void RemoveCovered(Member* m, const VersionVector& observed);
  void EraseIfEmpty(Member* m);
  void NoteNewMember(std::string_view name);

  ElementTable<Member> members_;
  ElementFrontiers frontiers_;
  Digest128 digest_;
  bool intset_ = true;
};

template <>
struct ValueTraits<SetValue> {
  using State = v1::SetState;
  using Element = SetValue::Member;
  static constexpr auto kAdd = &SetValue::Add;
  static constexpr auto kSmallEncoding = &SetValue::intset;
  static constexpr auto kSetLargeEncoding = &SetValue::set_hashtable;
};
static_assert(CheckCollectionValue<SetValue>());

}  // namespace activekv::crdt
