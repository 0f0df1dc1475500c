#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "activekv/v1/snapshot.pb.h"
#include "crdt/digest.h"
#include "crdt/values/element_table.h"
#include "crdt/values/tag.h"
#include "crdt/version_vector.h"

namespace activekv::crdt {

// What a typed value's ops need from the keyspace and the key.
struct ValueContext {
  const RegionTable* regions;
  const VersionVector* applied;   // ops applied, including the current one
  const VersionVector* stable;    // causally stable ops (Keyspace::stable)
  const VersionVector* frontier;  // the key's whole-value removal knowledge (DEL, SET, ...)
};

// Removal knowledge about element instances whose adding op has not been applied yet (an
// element removal that arrived before the add it observed: delivery is not causal). An instance
// named here is dropped on arrival, and its entry with it; entries whose dot is applied are
// pruned. Shared by every collection type.
class Tombstones {
 public:
  bool empty() const { return by_name_.empty(); }
  // Records `tag` of element `name` unless its dot is applied already (then it is gone for good).
  void Add(std::string_view name, const Tag& tag, const VersionVector& applied);
  // True (and forgets it) when `tag` of `name` was removed before it arrived.
  bool Consume(std::string_view name, const Tag& tag);
  bool Contains(std::string_view name, const Tag& tag) const;
  void Prune(const VersionVector& applied);
  // The union of both, pruned by `applied`.
  void Merge(const Tombstones& other, const VersionVector& applied);
  void ToState(google::protobuf::RepeatedPtrField<v1::Tombstone>* out) const;
  bool FromState(const google::protobuf::RepeatedPtrField<v1::Tombstone>& in,
                 const std::vector<RegionId>& dict);

 private:
  absl::flat_hash_map<std::string, TagList> by_name_;
};

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
    std::string name;
    absl::InlinedVector<Instance, 1> instances;
  };

  SetValue() { members_.set_unordered(); }
  SetValue(const SetValue&) = delete;
  SetValue& operator=(const SetValue&) = delete;

  // SADD of one member (instance `tag`), after removing the instances `observed`.
  void Add(std::string_view name, const Tag& tag, Hlc hlc, const TagList& observed,
           const ValueContext& ctx);
  // SREM of one member: removes the instances `observed`.
  void Remove(std::string_view name, const TagList& observed, const ValueContext& ctx);
  // Whole-key removal: every instance whose dot `observed` covers.
  void RemoveObserved(const VersionVector& observed);
  // Drops tombstones whose add has been applied. Only between ops: an op may add two instances
  // of one element, and a tombstone of the second must outlive the first.
  void PruneTombstones(const VersionVector& applied) { tombstones_.Prune(applied); }

  size_t size() const { return members_.size(); }
  bool empty() const { return members_.empty(); }
  // No member and no removal knowledge left.
  bool Empty() const { return members_.empty() && tombstones_.empty(); }
  const Member* Find(std::string_view name) const { return members_.Find(name); }
  const Member& at(size_t i) const { return members_.at(i); }
  // The tags of every instance of `name` (what an SREM observes).
  TagList TagsOf(std::string_view name) const;
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
                                SetValue* out);
  // State merge (JoinSide): instances survive unless the other side removed them.
  void Join(const SetValue& remote, const JoinSide& here, const JoinSide& there,
            const VersionVector& applied);

 private:
  void AddInstance(std::string_view name, const Instance& inst);
  void RemoveTags(Member* m, const TagList& tags, const VersionVector& applied);
  void EraseIfEmpty(Member* m);
  void NoteNewMember(std::string_view name);

  ElementTable<Member> members_;
  Tombstones tombstones_;
  Digest128 digest_;
  bool intset_ = true;
};

}  // namespace activekv::crdt
