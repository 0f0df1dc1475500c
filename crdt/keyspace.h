#pragma once

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
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

// Redis's `databases 16`. Keys live in physical namespaces 0..15 (Op.db); a client's logical
// database (SELECT) resolves to one through the replicated database mapping, which SWAPDB
// permutes (docs/crdt-semantics.md, "Databases").
inline constexpr uint32_t kDatabases = 16;
using DbMapping = std::array<uint32_t, kDatabases>;
// `*out` = `in` when it is a permutation of 0..15; false otherwise.
bool ToMapping(const google::protobuf::RepeatedField<uint32_t>& in, DbMapping* out);

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
  // One key of the ordered index: its hash and the hash map's node (stable), 16 bytes a key.
  struct Indexed {
    uint64_t hash;
    const std::pair<const CompactString, Entry>* node;
    std::string_view key() const { return node->first.view(); }
    const Entry& entry() const { return node->second; }
  };
  struct IndexLess {
    using is_transparent = void;
    static std::string_view KeyOf(const Indexed& i) { return i.key(); }
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

  // Keys of physical namespace `ns` (< kDatabases); 0 is database 0 until a SWAPDB.
  const Entry* Find(std::string_view key, uint32_t ns = 0) const {
    const Table& table = ns_[ns].table;
    auto it = table.find(key);
    return it == table.end() ? nullptr : &it->second;
  }
  // Every key of namespace `ns` with CRDT state, in (hash, key) order. Not during a bulk load.
  const Index& entries(uint32_t ns = 0) const {
    assert(!bulk_);
    return ns_[ns].index;
  }
  // A bulk load (the AOF replay at startup). Keys created in index order (a snapshot's) are
  // appended to the ordered index as usual; at the first one out of order (replayed ops) the
  // namespace's index is dropped and rebuilt from its table, sorted, by EndBulkLoad: inserting
  // each new key at a random place of a large B-tree cost about a sixth of a replay. Until
  // EndBulkLoad nothing may read the index: entries(), snapshots (BeginSnapshot).
  void BeginBulkLoad();
  void EndBulkLoad();
  // Keys whose Entry::Exists() (expired-but-not-yet-deleted keys included): of every namespace,
  // of one.
  size_t key_count() const { return live_keys_; }
  size_t key_count(uint32_t ns) const { return ns_[ns].live_keys; }

  // (deadline ms, key) of every existing key of namespace `ns` that has an expiry, earliest first.
  const absl::btree_set<std::pair<int64_t, std::string>>& deadlines(uint32_t ns = 0) const {
    return ns_[ns].deadlines;
  }

  // The database mapping: entry d is the physical namespace of logical database d (SELECT d).
  // A last-writer-wins register that SWAPDB ops write; the identity until one does.
  const DbMapping& db_mapping() const { return mapping_.ns; }
  uint32_t NamespaceOf(uint32_t db) const { return mapping_.ns[db]; }

  // FUNCTION libraries (docs/crdt-semantics.md, "Function libraries"): a last-writer-wins map
  // from library name to code, where empty code is a deletion (kept as a tombstone). The
  // generation changes whenever the map does (the server recompiles libraries then).
  struct FunctionLibrary {
    std::string code;
    Hlc hlc = 0;
    RegionId region = 0;
  };
  const absl::btree_map<std::string, FunctionLibrary>& functions() const { return functions_; }
  uint64_t functions_generation() const { return functions_generation_; }

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
  // MergeSnapshot into a keyspace that holds nothing (HoldsNothing(); a start from a snapshot
  // file), one chunk at a time as they are read, so that memory holds one parsed chunk instead
  // of the whole snapshot. Call it for every chunk in order: each is validated and its keys
  // decoded straight into their entries; the `last` one finishes (the keyspace is then what
  // MergeSnapshot of every chunk would have made it) and returns the ops added, earlier ones
  // return 0. On an error (InvalidArgument; FailedPrecondition for a first chunk into a keyspace
  // that holds something) the keyspace holds nothing again.
  absl::StatusOr<uint64_t> AdoptChunk(const v1::Snapshot& chunk);
  // Between a first chunk and the last one.
  bool adopting() const { return adopt_front_ != nullptr; }
  // No key, no applied op, no flush knowledge and no snapshot being taken: a snapshot merged
  // into it is adopted as it is (MergeSnapshot's fast path, AdoptChunk).
  bool HoldsNothing() const;
  // Drops what the chunks adopted so far added (a snapshot file that ends before its last chunk).
  void AbortAdopt();

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
  // FLUSHALL (every namespace) or FLUSHDB (`op.db()` only).
  void ApplyFlush(const v1::Op& op, const VersionVector& observed, const Entry::Context& ctx);
  // SWAPDB: the mapping register takes `mapping` if (hlc, origin) is later than what it holds.
  void WriteMapping(const DbMapping& mapping, Hlc hlc, RegionId origin);
  // The mapping's part of the digest (nothing while it is the identity).
  Digest128 MappingDigest() const;
  // The function library map: `code` for `name` if (hlc, origin) is later than what it holds.
  void WriteFunction(const std::string& name, std::string_view code, Hlc hlc, RegionId origin);
  // The libraries' part of the digest (live libraries only).
  Digest128 FunctionsDigest() const;
  // An op a FLUSHALL observed before it arrived: only what it removes.
  // Lists: a ListLevel of an op with its region interned; InvalidArgument for a list op that
  // names a level without a region or seq.
  ListLevel LevelOf(const v1::ListLevel& l);
  static absl::Status ValidateListOp(const v1::Op& op);
  void ApplyListRemove(const v1::ListRemove& rem, Entry* entry, const Entry::Context& ctx);
  // Streams (keyspace_stream.cc): xadd / xdel / xmeta ops.
  static absl::Status ValidateStreamOp(const v1::Op& op);
  void ApplyStreamOp(const v1::Op& op, const Dot& dot, Entry* entry, const Entry::Context& ctx);
  void ApplyFlushedOp(const v1::Op& op, const VersionVector& observed, Entry* entry,
                      const Entry::Context& ctx);
  // The region an origin belongs to: "us-east~2" (incarnation 2) belongs to "us-east".
  RegionId MemberOf(RegionId origin);
  void RecomputeStable();
  // Keeps namespace `ns`'s deadlines in step with an entry whose indexed deadline was `before`.
  void Reindex(uint32_t ns, std::string_view key, int64_t before, const Entry* entry);
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
  struct KeyHasher {
    using is_transparent = void;
    size_t operator()(std::string_view key) const { return KeyHash(key); }
  };
  struct KeyEq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };
  // Keys are CompactStrings: 16 bytes in the node instead of std::string's 32 (docs/operations.md,
  // "Memory"; a key of up to 15 bytes needs no allocation of its own).
  using Table = absl::node_hash_map<CompactString, Entry, KeyHasher, KeyEq>;
  // One physical namespace: its keys, their index and deadlines, and its flush frontier (what
  // FLUSHALLs and FLUSHDBs of this namespace observed of ops not applied yet).
  struct Namespace {
    Table table;
    Index index;
    bool index_stale = false;  // bulk load: `index` is empty, EndBulkLoad rebuilds it
    absl::btree_set<std::pair<int64_t, std::string>> deadlines;
    size_t live_keys = 0;
    VersionVector flush_frontier;
  };
  // The SWAPDB register: identity and unwritten until a SWAPDB op.
  struct MappingRegister {
    DbMapping ns = IdentityMapping();
    bool written = false;
    Hlc hlc = 0;
    RegionId region = 0;
  };
  static DbMapping IdentityMapping() {
    DbMapping m;
    for (uint32_t i = 0; i < kDatabases; ++i) m[i] = i;
    return m;
  }
  // Adds a new key of namespace `ns` to its index (see BeginBulkLoad).
  void IndexAdd(uint32_t ns, uint64_t hash, const Table::value_type* node);
  // Removes the entry at `it` of namespace `ns` from its table and index.
  void Erase(uint32_t ns, Table::iterator it);

  // Snapshot in progress: keys at or before `cursor` in index order were handed out; `saved`
  // holds the keys after it that must not be (serialized already into `pending`, or created
  // since BeginSnapshot).
  // Namespaces are handed out in order: keys of namespaces before `cursor_ns` were all handed out.
  struct SnapshotState {
    VersionVector version;
    std::array<VersionVector, kDatabases> flush;
    MappingRegister mapping;
    absl::btree_map<std::string, FunctionLibrary> functions;
    bool first = true;
    uint32_t cursor_ns = 0;
    bool started = false;  // cursor_hash / cursor_key are set (in namespace cursor_ns)
    uint64_t cursor_hash = 0;
    std::string cursor_key;
    std::array<absl::flat_hash_set<std::string>, kDatabases> saved;
    v1::Snapshot pending;
  };
  bool SnapshotPassed(uint32_t ns, std::string_view key) const;
  // Copy-on-write: call before `entry` (of `key` in namespace `ns`) changes.
  void SaveForSnapshot(uint32_t ns, std::string_view key, const Entry& entry) {
    if (snap_ != nullptr) SaveSlow(ns, key, entry);
  }
  void SaveSlow(uint32_t ns, std::string_view key, const Entry& entry);
  // Call when `key` gets an entry it did not have.
  void NoteCreated(uint32_t ns, std::string_view key) {
    if (snap_ != nullptr && !SnapshotPassed(ns, key)) snap_->saved[ns].insert(std::string(key));
  }
  // Decodes every key of `chunks` straight into the tables, as JoinInto would with no local
  // entry. On an invalid key, removes every key again and returns the error.
  absl::Status AdoptKeys(const std::vector<const v1::Snapshot*>& chunks);
  // Removes every key (the keyspace held nothing before the adoption being undone).
  void ClearAdopted();
  // A snapshot's metadata (its first chunk): database mapping, function libraries, version (into
  // applied()). `*version` and `*remote_flush` get its version and flush frontiers; returns the
  // ops the version added.
  uint64_t MergeSnapshotMeta(const v1::Snapshot& front, VersionVector* version,
                             std::array<VersionVector, kDatabases>* remote_flush);
  void MergeFlushFrontiers(const std::array<VersionVector, kDatabases>& remote_flush);
  // AdoptChunk: the first chunk's metadata, applied once the last chunk is in.
  std::unique_ptr<v1::Snapshot> adopt_front_;
  // The keys an adoption under way met with no state: erased at once (the tables never hold an
  // empty entry), remembered until the adoption ends so that a second mention of one is refused,
  // as the join path refuses it ("appears twice").
  absl::flat_hash_set<std::pair<uint32_t, std::string>> adopted_empty_;
  // Merge of one key's snapshot state into the entry at `it` (erased if nothing is left).
  void JoinInto(uint32_t ns, Table::iterator it, const Entry& remote,
                const Entry::JoinContext& join, const Entry::Context& ctx);
  std::unique_ptr<SnapshotState> snap_;
  bool bulk_ = false;  // between BeginBulkLoad and EndBulkLoad
  std::array<Namespace, kDatabases> ns_;
  MappingRegister mapping_;
  absl::btree_map<std::string, FunctionLibrary> functions_;
  uint64_t functions_generation_ = 0;
  size_t live_keys_ = 0;
  uint64_t applied_ops_ = 0;
  Digest128 digest_;
};

}  // namespace activekv::crdt
