#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "activekv/v1/snapshot.pb.h"
#include "crdt/digest.h"
#include "crdt/region_table.h"
#include "crdt/values/element_frontiers.h"
#include "crdt/values/tag.h"
#include "crdt/version_vector.h"

namespace activekv::crdt {

// A stream's consumer groups (docs/crdt-semantics.md, "Streams", "Consumer groups"), part of
// StreamValue. Every element is an instance tagged by the op that added it (dot, index), and
// every removal names the instances its origin had seen, as for entries:
//  * a group exists while one of its creation instances survives (XGROUP CREATE adds one,
//    DESTROY removes those it saw: a concurrent CREATE elsewhere survives it);
//  * its last-delivered id (with entries-read) is one view per region, the latest op of that
//    region; the visible one is the view with the largest id. XGROUP SETID replaces the views
//    its region had seen (so it can move the id back), a concurrent advance elsewhere wins;
//  * a consumer exists while one of its instances survives (XREADGROUP / CREATECONSUMER /
//    XCLAIM re-add it; DELCONSUMER removes the instances it saw); its seen-time is a max;
//  * a pending entry (id -> consumer, delivery time, delivery count) is an instance per
//    delivery, replacing the instances of that id its origin had seen; the visible one is the
//    latest in the (HLC, region) order; XACK removes the instances it saw, so a delivery in
//    another region that the ack did not see stays pending.
// Not thread-safe.
class StreamGroups {
 public:
  struct PendingInstance {
    Tag tag;
    Hlc hlc = 0;
    std::string consumer;
    int64_t delivery_ms = 0;
    uint64_t count = 0;
  };
  struct View {
    uint64_t seq = 0;
    Hlc hlc = 0;
    uint64_t last_ms = 0;
    uint64_t last_seq = 0;
    int64_t entries_read = -1;  // -1: unknown (Redis's SCG_INVALID_ENTRIES_READ)
  };
  struct Consumer {
    absl::InlinedVector<Tag, 1> tags;
    absl::flat_hash_map<Tag, int64_t> tag_seen;  // each instance's seen-time
    int64_t seen_ms = 0;                         // the surviving instances' latest
  };
  // One pending id's surviving instances; shown() is the LWW-latest.
  struct Pending {
    absl::InlinedVector<PendingInstance, 1> instances;
    size_t visible = 0;
    const PendingInstance& shown() const { return instances[visible]; }
  };
  struct Group {
    absl::InlinedVector<Tag, 1> created;
    absl::flat_hash_map<RegionId, View> views;
    absl::flat_hash_map<RegionId, uint64_t> views_removed;  // SETID: views up to seq removed
    std::map<std::pair<uint64_t, uint64_t>, Pending> pel;   // by (ms, seq)
    std::map<std::string, Consumer> consumers;
    // The sum of PelDigest over the pending entries, kept as they change (Digest() must not walk
    // the pending list: it is read after every op on the stream).
    Digest128 pel_digest;
    bool exists() const { return !created.empty(); }
    // The visible last-delivered id and entries-read.
    View last() const;
  };

  // One group op (op.proto's StreamGroupChange) with its regions resolved.
  struct Change {
    std::string group;
    bool create = false;
    std::vector<Tag> destroyed;
    bool set_last = false;
    View view;  // seq / hlc: the op's
    std::vector<std::pair<RegionId, uint64_t>> views_removed;
    struct ConsumerChange {
      std::string name;
      bool add = false;
      std::vector<Tag> removed;
      int64_t seen_ms = 0;
    };
    std::vector<ConsumerChange> consumers;
    struct PendingChange {
      uint64_t ms = 0;
      uint64_t seq = 0;
      bool add = false;
      std::string consumer;
      int64_t delivery_ms = 0;
      uint64_t count = 0;
      std::vector<Tag> removed;
    };
    std::vector<PendingChange> pending;
  };

  StreamGroups() = default;
  StreamGroups(const StreamGroups&) = delete;
  StreamGroups& operator=(const StreamGroups&) = delete;

  // Applies one group op of op `dot` at `hlc`. New instances are tagged (dot, index): the
  // creation 0, consumers[i] 1 + i, pending[j] 1 + consumers.size() + j.
  void Apply(const Change& change, const Dot& dot, Hlc hlc, const ValueContext& ctx);
  void RemoveObserved(const VersionVector& observed, const RegionTable& regions);
  void PruneFrontiers(const VersionVector& applied);

  const std::map<std::string, Group>& groups() const { return groups_; }
  const Group* Find(std::string_view name) const;
  bool Empty() const { return groups_.empty() && removed_.empty(); }
  size_t pending_removals() const { return removed_.size(); }
  Stamp Newest(const RegionTable& regions) const;
  // The visible groups (name, last id, entries-read, pending, consumers). O(groups + consumers):
  // the pending entries' share is kept incrementally.
  Digest128 Digest() const;

  void ToState(google::protobuf::RepeatedPtrField<v1::StreamState::Group>* out,
               google::protobuf::RepeatedPtrField<v1::TagState>* removed) const;
  absl::Status FromState(const google::protobuf::RepeatedPtrField<v1::StreamState::Group>& in,
                         const google::protobuf::RepeatedPtrField<v1::TagState>& removed,
                         const std::vector<RegionId>& dict, const RegionTable& regions);
  void Join(const StreamGroups& remote, const JoinSide& here, const JoinSide& there,
            const ValueContext& ctx);

 private:
  // Removes instance `tag` from `tags` (true when it was there).
  static bool EraseTag(absl::InlinedVector<Tag, 1>* tags, const Tag& tag);
  void RemoveTag(absl::InlinedVector<Tag, 1>* tags, const Tag& tag, const ValueContext& ctx);
  bool Blocked(const Tag& tag, const ValueContext& ctx);
  static void ChooseVisible(Pending* p, const RegionTable& regions);
  // One pending entry's share of its group's digest (nothing when it has no instance).
  static Digest128 PelDigest(const std::string& group, const std::pair<uint64_t, uint64_t>& id,
                             const Pending& p);
  // Every group's pel_digest from scratch (after a snapshot load or a join).
  void RecomputePelDigests();
  // Drops what is left empty in group `name` (consumers, pending entries, the group itself).
  // With `touched`, only those pending entries are looked at (Apply: a group op changes a few
  // of them; walking the whole pending list per op would make XREADGROUP O(pending)).
  void Tidy(const std::string& name,
            const std::vector<std::pair<uint64_t, uint64_t>>* touched = nullptr);

  std::map<std::string, Group> groups_;
  absl::flat_hash_set<Tag> removed_;  // removals whose instance has not arrived
};

}  // namespace activekv::crdt
