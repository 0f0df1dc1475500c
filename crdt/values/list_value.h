#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/types/span.h"
#include "activekv/v1/snapshot.pb.h"
#include "crdt/digest.h"
#include "crdt/region_table.h"
#include "crdt/values/compact_string.h"
#include "crdt/values/element_frontiers.h"
#include "crdt/values/list_packing.h"
#include "crdt/values/tag.h"
#include "crdt/values/value_type.h"
#include "crdt/version_vector.h"

namespace activekv::crdt {

// One level of a list element's position: ordered by digit, then by the tag's origin NAME, seq
// and index (names, not ids, so the order is the same in every process). 24 bytes.
struct ListLevel {
  int64_t digit = 0;
  Tag tag;
  friend bool operator==(const ListLevel& a, const ListLevel& b) {
    return a.digit == b.digit && a.tag == b.tag;
  }
};

// A position: levels compared lexicographically, a proper prefix first. The last level is the
// element's own (its tag is the element's identity); the ones before it are copies of a
// neighbour's levels (docs/crdt-semantics.md, "Lists"). A view: it does not own the levels.
class ListPos {
 public:
  ListPos(absl::Span<const ListLevel> prefix, const ListLevel& own) : prefix_(prefix), own_(&own) {}
  size_t size() const { return prefix_.size() + 1; }
  const ListLevel& operator[](size_t i) const { return i < prefix_.size() ? prefix_[i] : *own_; }
  absl::Span<const ListLevel> prefix() const { return prefix_; }
  const ListLevel& own() const { return *own_; }

 private:
  absl::Span<const ListLevel> prefix_;
  const ListLevel* own_;
};

// <0, 0, >0 as a is before, the same as, or after b.
int CompareListPos(const ListPos& a, const ListPos& b, const RegionTable& regions);

// A list (docs/crdt-semantics.md, "Lists"): a sequence CRDT with dense, totally ordered
// positions (Logoot-style), so an element can be placed the moment its insert arrives, whatever
// else arrived before it: delivery between regions is not causal. Concurrent pushes in different
// regions all survive, ordered the same everywhere; a multi-element push stays contiguous (its
// elements share one digit and differ by tag index). Each element's value is a last-writer-wins
// register (LSET). Removals (pops, LREM, LTRIM) name the elements they removed, so a removal
// never touches an element its origin had not seen; a whole-key removal (DEL, a type-changing
// write) removes the elements whose dots its context covers.
//
// No tombstones for removed elements: positions do not depend on other elements, so a removed
// element is simply gone. What remains is removal and LSET knowledge about elements whose
// insert has not arrived yet (a pop or LSET from a region that had seen an insert this region has
// not), kept per element tag until that insert arrives or every op it could name is applied.
//
// Storage: a deque of elements in position order; LINDEX/LSET/LRANGE index in O(1), pushes and
// pops at either end are O(1), an insert or removal inside the list moves the elements on its
// shorter side (LINSERT, LREM and remote ops that land in the middle; Redis's own LINSERT and
// LREM are O(n)). Not thread-safe.
class ListValue {
 public:
  // One element: 64 bytes.
  struct Element {
    ListLevel own;
    Hlc hlc = 0;          // the value's last writer (the insert or an LSET) ...
    RegionId writer = 0;  // ... and its origin: last-writer-wins stamp
    uint32_t depth = 0;   // levels in `prefix`
    std::unique_ptr<ListLevel[]> prefix;
    CompactString value;

    ListPos pos() const { return ListPos(absl::MakeConstSpan(prefix.get(), depth), own); }
    const Tag& tag() const { return own.tag; }
  };

  // Where an origin's command puts new elements: `prefix` + (digit, the new element's tag).
  struct Placement {
    std::vector<ListLevel> prefix;
    int64_t digit = 0;
  };

  ListValue() = default;
  ListValue(const ListValue&) = delete;
  ListValue& operator=(const ListValue&) = delete;

  // --- The origin's choice of positions (never changes the list) ---
  // Before the head (LPUSH) / after the tail (RPUSH). The digit follows the HLC `hlc` (negated
  // at the head), so concurrent pushes from different regions order by their timestamps.
  Placement PlaceAtHead(Hlc hlc) const;
  Placement PlaceAtTail(Hlc hlc) const;
  // Between elements i - 1 and i (i in [0, size()]; LINSERT). FailedPrecondition in the
  // practically unreachable case that no position is left there.
  absl::Status PlaceBefore(size_t i, Placement* out) const;

  // --- Ops (docs/crdt-semantics.md, "Lists") ---
  // An insert of element `tag` at `prefix` + (digit, tag), unless a removal reached it first.
  void Insert(absl::Span<const ListLevel> prefix, int64_t digit, const Tag& tag,
              std::string_view value, Hlc hlc, const ValueContext& ctx);
  // Removes the element at `ref` (a pop, LREM, LTRIM).
  void Remove(const ListPos& ref, const ValueContext& ctx);
  // LSET: the element at `ref` gets `value` if (hlc, writer) is later than its value's stamp.
  void Set(const ListPos& ref, std::string_view value, Hlc hlc, RegionId writer,
           const ValueContext& ctx);
  // Whole-key removal: every element whose dot `observed` covers.
  void RemoveObserved(const VersionVector& observed, const ValueContext& ctx);
  // Drops knowledge about elements whose insert has been applied (only between ops).
  void PruneFrontiers(const VersionVector& applied);

  // --- Reading ---
  size_t size() const { return elems_.size(); }
  bool empty() const { return elems_.empty(); }
  // No element and no pending knowledge: the entry may free the value.
  bool Empty() const { return elems_.empty() && pending_.empty(); }
  const Element& at(size_t i) const { return elems_[i]; }
  // The latest value stamp (type conflicts). O(n).
  Stamp Newest(const RegionTable& regions) const;
  // Sum of ElementDigest(position bytes, value) over the elements: equal digests mean equal
  // positions with equal values, hence the same sequence.
  const Digest128& digest() const { return digest_; }
  // Pending knowledge entries (tests, memory accounting).
  size_t pending_size() const { return pending_.size(); }

  // --- Snapshot form and state merge ---
  void ToState(v1::ListState* out) const;
  static absl::Status FromState(const v1::ListState& in, const std::vector<RegionId>& dict,
                                const RegionTable& regions, ListValue* out);
  void Join(const ListValue& remote, const JoinSide& here, const JoinSide& there,
            const ValueContext& ctx);

 private:
  struct Pending {
    bool removed = false;
    bool written = false;
    Hlc hlc = 0;
    RegionId writer = 0;
    CompactString value;
  };

  // The index of the element whose own tag is `ref`'s, or size() when it is not in the list.
  size_t Find(const ListPos& ref, const RegionTable& regions) const;
  // FromState: appends the element read from a state (regions as dictionary indexes) after the
  // last one; InvalidArgument when malformed or not after it.
  absl::Status AppendDecoded(absl::Span<const PackedListLevel> levels, uint64_t hlc,
                             uint32_t writer, std::string_view value,
                             const std::vector<RegionId>& dict, const RegionTable& regions);
  // Inserts in position order; returns the index.
  size_t Place(Element e, const RegionTable& regions);
  Digest128 ElementDigestOf(const Element& e, const RegionTable& regions) const;
  // Applies a pending entry's knowledge to a (new or merged) element: false when it was removed.
  static bool ApplyPending(const Pending& p, Element* e, const RegionTable& regions);
  static void MergePending(const Pending& from, Pending* into, const RegionTable& regions);

  std::deque<Element> elems_;
  absl::flat_hash_map<Tag, Pending> pending_;
  Digest128 digest_;
};
static_assert(sizeof(ListValue::Element) == 64, "one per list element: keep it at 64 bytes");

template <>
struct ValueTraits<ListValue> {
  using State = v1::ListState;
  using Element = ListValue::Element;
};
// A sequence: the shared part of the value contract (value_type.h); elements are named by
// position, not by name, so the element-keyed part does not apply.
static_assert(CheckValue<ListValue>());

// Reads a level of a snapshot (regions by dictionary index); false when malformed.
bool FromListLevelState(const v1::ListState::Level& in, const std::vector<RegionId>& dict,
                        ListLevel* out);

}  // namespace activekv::crdt
