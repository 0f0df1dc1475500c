#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "activekv/v1/op.pb.h"
#include "activekv/v1/snapshot.pb.h"
#include "crdt/digest.h"
#include "crdt/entry.h"
#include "crdt/region_table.h"
#include "crdt/version_vector.h"

namespace activekv::crdt {

// The replicated state of one region: every key's CRDT state plus the version vector of the ops
// applied. Pure and deterministic: no I/O, no clock reads, no threads, no logging.
//
// Apply() contract (docs/crdt-semantics.md, docs/replication-protocol.md):
//  * An op whose dot is already covered by applied() is a duplicate: ignored, kDuplicate.
//  * An origin's ops must arrive in seq order: seq == applied(origin) + 1, else FailedPrecondition
//    (the caller asks for the gap; nothing changes).
//  * Ops of different origins commute: applying the same set of ops in any order allowed by the
//    two rules above gives identical Digest()s.
//
// Not thread-safe: one owner (the region's event loop) calls everything.
// Separates a region name from its incarnation in an origin name: after an unclean restart
// that may have lost ops its peers hold, region "us-east" writes as origin "us-east~1" (region
// names cannot contain '~'), so it never reuses a dot.
inline constexpr char kIncarnationSeparator = '~';
// True when `origin` is `region` or one of its incarnations ("us-east~2").
inline bool IsOriginOf(std::string_view origin, std::string_view region) {
  return origin.size() >= region.size() && origin.substr(0, region.size()) == region &&
         (origin.size() == region.size() || origin[region.size()] == kIncarnationSeparator);
}

class Keyspace {
 public:
  enum class Outcome { kApplied, kDuplicate };

  // Entries live in a hash map keyed by the key (point lookups touch one or two cache lines);
  // an ordered index of (stable 64-bit hash, key) serves SCAN and RANDOMKEY: a SCAN cursor is a
  // hash value, so keys that are added or removed never make a scan skip the others, and a random
  // key is one lower_bound. (A btree keyed by (hash, key) holding the entries themselves made
  // lookups ~20 cache misses deep: ~110-byte slots, 2 per node; 44% of AOF replay time.)
  struct KeyRef {
    uint64_t hash;
    std::string_view key;
  };
  // One key of the ordered index; `key` and `entry` point into the hash map's node (stable).
  struct Indexed {
    uint64_t hash;
    const std::string* key;
    const Entry* entry;
  };
  struct IndexLess {
    using is_transparent = void;
    static std::string_view KeyOf(const Indexed& i) { return *i.key; }
    static std::string_view KeyOf(const KeyRef& r) { return r.key; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      if (a.hash != b.hash) return a.hash < b.hash;
      return KeyOf(a) < KeyOf(b);
    }
  };
  using Index = absl::btree_set<Indexed, IndexLess>;

  // Never 0 (0 is the SCAN cursor that starts and ends a scan), and below 2^53 (kKeyHashMask):
  // SCAN's cursor is a key hash, and clients that hold numbers as doubles (JavaScript, PHP)
  // cannot carry a larger one back exactly.
  static uint64_t KeyHash(std::string_view key);
  static constexpr uint64_t kKeyHashMask = (uint64_t{1} << 53) - 1;

  // `regions`: every region of the topology (the local one included). Ops from other origins are
  // accepted too; stability (and so folding of increments) waits for every listed region.
  Keyspace(std::string_view local_region, const std::vector<std::string>& regions);
  Keyspace(const Keyspace&) = delete;
  Keyspace& operator=(const Keyspace&) = delete;

  absl::StatusOr<Outcome> Apply(const v1::Op& op);

  // Makes `origin` (the local region, or one of its incarnations "name~N") the origin of local
  // ops. Only before any op of `origin` was applied (returns false otherwise), and only before
  // the caller made any local op (ops of the previous local origin are then peers' copies of a
  // dead incarnation's, kept as such).
  bool ResetLocal(std::string_view origin);

  // What `region` is known to have fsynced (a replication ack's `synced`): its future ops, of
  // any incarnation, observe at least this much even after a power loss. Once every region's
  // acks cover an op it is stable: increments fold, tombstones go. Only acks count -- an op's
  // context does not, since its origin may not have fsynced what it had observed.
  void ObservePeerApplied(std::string_view region,
                          const google::protobuf::RepeatedPtrField<v1::VersionEntry>& applied);

  // While held, nothing becomes stable. A region running as a new incarnation holds it until it
  // has every op of its dead incarnations that a peer holds: one of those may be concurrent with
  // an op every live region has (docs/replication-protocol.md, "Dead incarnations").
  void HoldStability(bool hold) {
    stability_held_ = hold;
    if (!hold) RecomputeStable();
  }
  bool stability_held() const { return stability_held_; }

  const Entry* Find(std::string_view key) const {
    auto it = table_.find(key);
    return it == table_.end() ? nullptr : &it->second;
  }
  // Every key with CRDT state, in (hash, key) order.
  const Index& entries() const { return index_; }
  // Keys whose Entry::Exists() (expired-but-not-yet-deleted keys included).
  size_t key_count() const { return live_keys_; }

  // (deadline ms, key) of every existing key that has an expiry, earliest first.
  const absl::btree_set<std::pair<int64_t, std::string>>& deadlines() const { return deadlines_; }

  const RegionTable& regions() const { return regions_; }
  RegionId local() const { return local_; }
  const std::string& local_name() const { return regions_.Name(local_); }
  const VersionVector& applied() const { return applied_; }
  const VersionVector& stable() const { return stable_; }
  uint64_t applied_ops() const { return applied_ops_; }

  // --- Snapshots (docs/crdt-semantics.md, "Snapshots and state merge") ---
  //
  // A consistent snapshot taken while the keyspace keeps changing, without copying it:
  // BeginSnapshot fixes the moment (version = applied(), the FLUSHALL frontier); each
  // NextSnapshotChunk hands out the state *at that moment* of up to `max_keys` more keys, in
  // index order. A key about to change before its turn is serialized first (copy-on-write) and
  // goes into the next chunk; keys created since the moment are left out. One snapshot at a time.
  void BeginSnapshot();
  // Replaces `*out` with the next chunk: the first has `first`, `version` and `flush_frontier`;
  // the one with `last` ends the snapshot (snapshot_active() is false afterwards).
  // A chunk stops after `max_keys` keys or once its keys' serialized size reaches `max_bytes`.
  void NextSnapshotChunk(size_t max_keys, v1::Snapshot* out, size_t max_bytes = SIZE_MAX);
  void AbortSnapshot() { snap_.reset(); }
  bool snapshot_active() const { return snap_ != nullptr; }

  // Merges a complete snapshot (every chunk, in order: first ... last) into this keyspace, all at
  // once: afterwards the keyspace is what applying every op of applied() and of the snapshot's
  // version would have given, and applied() covers both. Keys the snapshot lacks lose what its
  // version removed. Validates everything first: InvalidArgument (nothing changed) for a
  // malformed snapshot (missing first/last chunk, a key twice, a malformed KeyState). Returns the
  // number of ops the merge added to applied().
  absl::StatusOr<uint64_t> MergeSnapshot(const std::vector<const v1::Snapshot*>& chunks);

  // 128-bit digest of the visible state (key, type, value, expiry deadline of every existing key;
  // a collection's value is its elements, in no order), independent of insertion order, of
  // process and of internal compaction: two regions with equal digests hold the same data. Kept
  // up to date by every change, so reading it is O(1). 34 lowercase hex digits: the format
  // version (crdt/digest.h) and the digest.
  std::string Digest() const;
  // The same, recomputed by a walk over every key (tests check it against Digest()).
  std::string DigestByWalk() const;

 private:
  absl::Status DecodeObserved(const v1::Op& op, RegionId origin, VersionVector* out);
  // The op's effect on its key's entry.
  void ApplyToEntry(const v1::Op& op, const Dot& dot, const VersionVector& observed,
                    long double float_delta, Entry* entry, const Entry::Context& ctx);
  // An op a FLUSHALL observed before it arrived: only what it removes.
  void ApplyFlushedOp(const v1::Op& op, const VersionVector& observed, Entry* entry,
                      const Entry::Context& ctx);
  // The region an origin belongs to: "us-east~2" (incarnation 2) belongs to "us-east".
  RegionId MemberOf(RegionId origin);
  void RecomputeStable();
  // Keeps deadlines_ in step with an entry whose indexed deadline was `before`.
  void Reindex(const std::string& key, int64_t before, const Entry* entry);
  static int64_t IndexedDeadline(const Entry& e) { return e.Exists() ? e.DeadlineMs() : 0; }

  RegionTable regions_;
  RegionId local_;
  std::vector<RegionId> members_;  // region ids (not incarnations)
  std::vector<RegionId> member_of_;
  VersionVector applied_;
  // Stability (docs/crdt-semantics.md): what region q (any incarnation) has fsynced, from its
  // acks. An ack bounds q's ops created after it -- those with seq above ack[q'] for each
  // incarnation q' of q -- so it only counts ("usable") once every op of q up to those entries is
  // applied here; until then it waits in `pending`, oldest first.
  struct Known {
    VersionVector usable;
    std::deque<VersionVector> pending;
  };
  static constexpr size_t kMaxPendingAcks = 16;
  bool AckUsable(RegionId q, const VersionVector& ack);
  absl::flat_hash_map<RegionId, Known> known_;
  VersionVector stable_;
  bool stability_held_ = false;
  VersionVector flush_frontier_;
  struct KeyHasher {
    using is_transparent = void;
    size_t operator()(std::string_view key) const { return KeyHash(key); }
  };
  struct KeyEq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };
  using Table = absl::node_hash_map<std::string, Entry, KeyHasher, KeyEq>;
  // Removes the entry at `it` from the table and the index.
  void Erase(Table::iterator it);

  // Snapshot in progress: keys at or before `cursor` in index order were handed out; `saved`
  // holds the keys after it that must not be (serialized already into `pending`, or created
  // since BeginSnapshot).
  struct SnapshotState {
    VersionVector version;
    VersionVector flush;
    bool first = true;
    bool started = false;  // cursor_hash / cursor_key are set
    uint64_t cursor_hash = 0;
    std::string cursor_key;
    absl::flat_hash_set<std::string> saved;
    v1::Snapshot pending;
  };
  bool SnapshotPassed(std::string_view key) const;
  // Copy-on-write: call before `entry` (of `key`) changes.
  void SaveForSnapshot(const std::string& key, const Entry& entry) {
    if (snap_ != nullptr) SaveSlow(key, entry);
  }
  void SaveSlow(const std::string& key, const Entry& entry);
  // Call when `key` gets an entry it did not have.
  void NoteCreated(const std::string& key) {
    if (snap_ != nullptr && !SnapshotPassed(key)) snap_->saved.insert(key);
  }
  // Merge of one key's snapshot state into the entry at `it` (erased if nothing is left).
  void JoinInto(Table::iterator it, const Entry& remote, const Entry::JoinContext& join,
                const Entry::Context& ctx);
  std::unique_ptr<SnapshotState> snap_;
  Table table_;
  Index index_;
  absl::btree_set<std::pair<int64_t, std::string>> deadlines_;
  size_t live_keys_ = 0;
  uint64_t applied_ops_ = 0;
  Digest128 digest_;
};

}  // namespace activekv::crdt
