#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "activekv/v1/snapshot.pb.h"
#include "crdt/region_table.h"
#include "crdt/types.h"
#include "crdt/version_vector.h"

namespace activekv::crdt {

// What a typed value's ops need from the keyspace and the key.
struct ValueContext {
  const RegionTable* regions;
  const VersionVector* applied;   // ops applied, including the current one
  const VersionVector* stable;    // causally stable ops (Keyspace::stable)
  const VersionVector* frontier;  // the key's whole-value removal knowledge (DEL, SET, ...)
};

// Removal knowledge about element instances whose adding op has not been applied yet: an
// element removal (HDEL, SREM, an HSET or SADD replacing the element) removes the instances of
// that element its context covers, and delivery is not causal, so it may arrive before an add it
// observed. Its context is then kept for that element (a per-element frontier): an instance of
// the element whose dot it covers is dropped on arrival. Entries whose ops have all been applied
// are pruned. Per element, not per key: a late add of another element is never dropped. Shared
// by every collection type.
class ElementFrontiers {
 public:
  bool empty() const { return by_name_.empty(); }
  // Records `observed` for element `name` unless everything it covers is applied already.
  void Add(std::string_view name, const VersionVector& observed, const VersionVector& applied);
  // True when an instance of `name` with dot `d` was removed before it arrived.
  bool Covers(std::string_view name, const Dot& d) const;
  void Prune(const VersionVector& applied);
  // The union of both, pruned by `applied`.
  void Merge(const ElementFrontiers& other, const VersionVector& applied);
  // Snapshot form: region names by index into the chunk's dictionary (TagState.region style).
  void ToState(google::protobuf::RepeatedPtrField<v1::Tombstone>* out) const;
  bool FromState(const google::protobuf::RepeatedPtrField<v1::Tombstone>& in,
                 const std::vector<RegionId>& dict);

 private:
  absl::flat_hash_map<std::string, VersionVector> by_name_;
};

}  // namespace activekv::crdt
