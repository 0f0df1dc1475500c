#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/types/span.h"
#include "activekv/v1/snapshot.pb.h"
#include "crdt/digest.h"
#include "crdt/region_table.h"
#include "crdt/values/element_frontiers.h"
#include "crdt/values/stream_groups.h"
#include "crdt/values/tag.h"
#include "crdt/values/value_type.h"
#include "crdt/version_vector.h"

namespace activekv::crdt {

// A stream entry id, <ms>-<seq>, ordered as a pair.
struct StreamId {
  uint64_t ms = 0;
  uint64_t seq = 0;
  friend bool operator<(const StreamId& a, const StreamId& b) {
    return a.ms != b.ms ? a.ms < b.ms : a.seq < b.seq;
  }
  friend bool operator==(const StreamId& a, const StreamId& b) {
    return a.ms == b.ms && a.seq == b.seq;
  }
  friend bool operator!=(const StreamId& a, const StreamId& b) { return !(a == b); }
  friend bool operator<=(const StreamId& a, const StreamId& b) { return !(b < a); }
  friend bool operator>(const StreamId& a, const StreamId& b) { return b < a; }
  friend bool operator>=(const StreamId& a, const StreamId& b) { return !(a < b); }
};

// A stream's metadata (XINFO STREAM): joined by componentwise maximum.
struct StreamMeta {
  StreamId last_id;
  uint64_t entries_added = 0;
  StreamId max_deleted;
  // Raises every component to `o`'s where that is larger.
  void Raise(const StreamMeta& o);
  friend bool operator==(const StreamMeta& a, const StreamMeta& b) {
    return a.last_id == b.last_id && a.entries_added == b.entries_added &&
           a.max_deleted == b.max_deleted;
  }
};

// A stream (docs/crdt-semantics.md, "Streams"): entries keyed by id, each an add-once element
// whose identity is its tag (the adding op's dot, index). Removals (XDEL, trimming) name the
// instances they removed, so an entry added concurrently elsewhere is never removed; a removal
// that arrives before the add it names is kept (by tag) until that add arrives or every op it
// could name is applied. Two regions adding the same explicit id concurrently leave two
// instances under one id: the later in the LWW order (its add's HLC, origin name) is visible, and
// a removal that observed only one of them leaves the other.
//
// Metadata: each op carries its origin's view of the stream's metadata after the command. Per
// origin region two slots keep the latest such view as an instance: the creating slot (ops that
// make the stream exist: XADD, XSETID, ...) and the other slot (removals: XDEL, trimming; XSETID
// writes both). A whole-key removal drops the instances its context covers; the visible
// metadata is the componentwise maximum of the survivors. The stream exists (TYPE stream, XLEN 0
// after deleting every entry) while it has an entry or a creating-slot instance, so a removal
// concurrent with a DEL does not bring the key back.
//
// Not thread-safe.
class StreamValue {
 public:
  struct Instance {
    Tag tag;
    Hlc hlc = 0;
    std::vector<std::string> fields;  // field, value, field, value ...
  };
  struct Item {
    absl::InlinedVector<Instance, 1> instances;  // never empty while in the map
    size_t visible = 0;                          // index of the LWW-latest instance
    const Instance& shown() const { return instances[visible]; }
  };
  using Items = std::map<StreamId, Item>;
  struct MetaInstance {
    uint64_t seq = 0;  // the op's seq; the region and slot are the map key
    Hlc hlc = 0;
    StreamMeta meta;
  };
  // (origin region, creating slot).
  using MetaSlot = std::pair<RegionId, bool>;

  StreamValue() = default;
  StreamValue(const StreamValue&) = delete;
  StreamValue& operator=(const StreamValue&) = delete;

  // --- Ops ---
  // An entry instance `tag` with id `id`, unless a removal or whole-key removal reached it first.
  void Add(const StreamId& id, const Tag& tag, Hlc hlc, std::vector<std::string> fields,
           const ValueContext& ctx);
  // Removes instance `tag` of entry `id`.
  void Remove(const StreamId& id, const Tag& tag, const ValueContext& ctx);
  // Region `dot.region`'s metadata in the creating slot (`creating`) or the other one becomes
  // `meta` (its op `dot`), unless a later op of that region already set it or a whole-key
  // removal covers `dot`.
  void SetMeta(const Dot& dot, Hlc hlc, const StreamMeta& meta, bool creating,
               const ValueContext& ctx);
  // A consumer-group op (StreamGroups::Apply).
  void ApplyGroup(const StreamGroups::Change& change, const Dot& dot, Hlc hlc,
                  const ValueContext& ctx);
  void RemoveObserved(const VersionVector& observed, const ValueContext& ctx);
  void PruneFrontiers(const VersionVector& applied);

  // --- Reading ---
  size_t size() const { return items_.size(); }
  // True while the stream does not exist (no entry, no creating metadata).
  bool empty() const { return items_.empty() && !created_; }
  // No state at all: the entry may free the value.
  bool Empty() const {
    return items_.empty() && meta_.empty() && removed_.empty() && groups_.Empty();
  }
  const Items& items() const { return items_; }
  const StreamGroups& groups() const { return groups_; }
  StreamMeta meta() const;
  Stamp Newest(const RegionTable& regions) const;
  const Digest128& digest() const { return digest_; }
  size_t pending_size() const { return removed_.size() + groups_.pending_removals(); }

  // --- Snapshot form and state merge ---
  void ToState(v1::StreamState* out) const;
  static absl::Status FromState(const v1::StreamState& in, const std::vector<RegionId>& dict,
                                const RegionTable& regions, StreamValue* out);
  void Join(const StreamValue& remote, const JoinSide& here, const JoinSide& there,
            const ValueContext& ctx);

 private:
  static Digest128 ItemDigest(const StreamId& id, const Instance& in);
  // Recomputes item->visible: the instance latest in the LWW order (add HLC, origin name).
  static void ChooseVisible(Item* item, const RegionTable& regions);
  // Recomputes created_ and the metadata part of the digest.
  void Refresh();

  Items items_;
  absl::flat_hash_map<MetaSlot, MetaInstance> meta_;
  absl::flat_hash_set<Tag> removed_;  // removals whose add has not arrived
  StreamGroups groups_;
  bool created_ = false;
  Digest128 entries_digest_;
  Digest128 digest_;
};

template <>
struct ValueTraits<StreamValue> {
  using State = v1::StreamState;
  using Element = StreamValue::Item;
};
// Entries are named by id, not by a string name: the shared part of the contract applies.
static_assert(CheckValue<StreamValue>());

}  // namespace activekv::crdt
