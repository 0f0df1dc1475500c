// Keyspace snapshots (copy-on-write, consistent at BeginSnapshot) and the snapshot merge
// (docs/crdt-semantics.md, "Snapshots and state merge").
#include <iterator>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "crdt/keyspace.h"
#include "crdt/values/tag.h"

namespace activekv::crdt {
namespace {

absl::Status CheckVV(const google::protobuf::RepeatedPtrField<v1::VersionEntry>& vv) {
  for (const v1::VersionEntry& e : vv) {
    if (e.region().empty()) return absl::InvalidArgumentError("snapshot: empty region name");
  }
  return absl::OkStatus();
}

// A chunk's version vectors, frontiers, database mapping and function libraries are well formed.
absl::Status CheckChunkMeta(const v1::Snapshot& chunk) {
  absl::Status s = CheckVV(chunk.version());
  if (s.ok()) s = CheckVV(chunk.flush_frontier());
  for (const v1::NamespaceFrontier& f : chunk.namespace_flush_frontiers()) {
    if (s.ok() && f.db() >= kDatabases) {
      s = absl::InvalidArgumentError("snapshot: flush frontier of a db out of range");
    }
    if (s.ok()) s = CheckVV(f.frontier());
  }
  DbMapping mapping;
  if (s.ok() && chunk.db_mapping_size() > 0 &&
      (!ToMapping(chunk.db_mapping(), &mapping) || chunk.db_mapping_region().empty())) {
    s = absl::InvalidArgumentError("snapshot: db mapping is not a permutation of 0..15");
  }
  for (const v1::FunctionLibraryState& f : chunk.functions()) {
    if (s.ok() && (f.name().empty() || f.region().empty())) {
      s = absl::InvalidArgumentError("snapshot: function library without name or region");
    }
  }
  return s;
}

// The chunk's region dictionary as ids of `regions`.
absl::Status Dictionary(const v1::Snapshot& chunk, RegionTable* regions,
                        std::vector<RegionId>* dict) {
  dict->clear();
  for (const std::string& name : chunk.regions()) {
    if (name.empty()) return absl::InvalidArgumentError("snapshot: empty region name");
    dict->push_back(regions->Intern(name));
  }
  return absl::OkStatus();
}

void ReadVV(const google::protobuf::RepeatedPtrField<v1::VersionEntry>& in, RegionTable* regions,
            VersionVector* out) {
  for (const v1::VersionEntry& e : in) {
    RegionId r = regions->Intern(e.region());
    if (e.seq() > out->Get(r)) out->Set(r, e.seq());
  }
}

}  // namespace

void Keyspace::BeginSnapshot() {
  assert(!bulk_);
  snap_ = std::make_unique<SnapshotState>();
  snap_->version = applied_;
  for (uint32_t ns = 0; ns < kDatabases; ++ns) {
    ns_[ns].flush_frontier.PruneCoveredBy(applied_);
    snap_->flush[ns] = ns_[ns].flush_frontier;
  }
  snap_->mapping = mapping_;
  snap_->functions = functions_;
}

bool Keyspace::SnapshotPassed(uint32_t ns, std::string_view key) const {
  if (ns != snap_->cursor_ns) return ns < snap_->cursor_ns;
  if (!snap_->started) return false;
  const uint64_t h = KeyHash(key);
  if (h != snap_->cursor_hash) return h < snap_->cursor_hash;
  return key <= snap_->cursor_key;
}

void Keyspace::SaveSlow(uint32_t ns, std::string_view key, const Entry& entry) {
  if (SnapshotPassed(ns, key) || !snap_->saved[ns].insert(std::string(key)).second) return;
  v1::KeyState* state = snap_->pending.add_keys();
  state->set_key(key.data(), key.size());
  if (ns != 0) state->set_db(ns);
  entry.ToState(regions_, state);
}

void Keyspace::NextSnapshotChunk(size_t max_keys, v1::Snapshot* out, size_t max_bytes) {
  out->Clear();
  if (snap_ == nullptr) {
    out->set_first(true);
    out->set_last(true);
    return;
  }
  SnapshotState& s = *snap_;
  if (s.first) {
    s.first = false;
    out->set_first(true);
    AppendVersionEntries(s.version, regions_, out->mutable_version());
    AppendVersionEntries(s.flush[0], regions_, out->mutable_flush_frontier());
    for (uint32_t ns = 1; ns < kDatabases; ++ns) {
      if (s.flush[ns].empty()) continue;
      v1::NamespaceFrontier* f = out->add_namespace_flush_frontiers();
      f->set_db(ns);
      AppendVersionEntries(s.flush[ns], regions_, f->mutable_frontier());
    }
    if (s.mapping.written) {
      for (uint32_t n : s.mapping.ns) out->add_db_mapping(n);
      out->set_db_mapping_hlc(s.mapping.hlc);
      out->set_db_mapping_region(regions_.Name(s.mapping.region));
    }
    for (const auto& [name, lib] : s.functions) {
      v1::FunctionLibraryState* f = out->add_functions();
      f->set_name(name);
      f->set_code(lib.code);
      f->set_hlc(lib.hlc);
      f->set_region(regions_.Name(lib.region));
    }
  }
  // The region dictionary typed states index into: the region table in id order (ids only grow,
  // so it covers the keys saved earlier too).
  for (RegionId r = 0; r < regions_.size(); ++r) out->add_regions(regions_.Name(r));
  out->mutable_keys()->Swap(s.pending.mutable_keys());
  size_t taken = 0;
  size_t bytes = 0;
  // Namespace by namespace; the next one starts (not started) once this one is exhausted.
  for (; s.cursor_ns < kDatabases; ++s.cursor_ns, s.started = false) {
    const Index& index = ns_[s.cursor_ns].index;
    auto it = s.started ? index.upper_bound(KeyRef{s.cursor_hash, s.cursor_key}) : index.begin();
    for (; it != index.end() && taken < max_keys && bytes < max_bytes; ++it) {
      s.started = true;
      s.cursor_hash = it->hash;
      s.cursor_key = it->key();
      // Saved before it changed, or created since.
      if (s.saved[s.cursor_ns].erase(absl::string_view(it->key().data(), it->key().size())) > 0) {
        continue;
      }
      v1::KeyState* state = out->add_keys();
      state->set_key(it->key().data(), it->key().size());
      if (s.cursor_ns != 0) state->set_db(s.cursor_ns);
      it->entry().ToState(regions_, state);
      ++taken;
      if (max_bytes != SIZE_MAX) bytes += state->ByteSizeLong();
    }
    if (it != index.end()) break;  // the chunk is full
  }
  if (s.cursor_ns == kDatabases) {
    out->set_last(true);
    snap_.reset();
  }
}

void Keyspace::JoinInto(uint32_t ns, Table::iterator it, const Entry& remote,
                        const Entry::JoinContext& join, const Entry::Context& ctx) {
  Entry& entry = it->second;
  SaveForSnapshot(ns, it->first, entry);
  const bool existed = entry.Exists();
  const int64_t deadline = IndexedDeadline(entry);
  const uint64_t seed = KeyDigestSeed(it->first, ns);
  digest_.Sub(entry.Digest(seed, regions_));
  entry.Join(remote, join, ctx);
  digest_.Add(entry.Digest(seed, regions_));
  const bool exists = entry.Exists();
  if (exists && !existed) {
    ++live_keys_;
    ++ns_[ns].live_keys;
  }
  if (!exists && existed) {
    --live_keys_;
    --ns_[ns].live_keys;
  }
  const bool empty = entry.Empty();
  Reindex(ns, it->first, deadline, empty ? nullptr : &entry);
  if (empty) Erase(ns, it);
}

bool Keyspace::HoldsNothing() const {
  if (snap_ != nullptr || !applied_.empty()) return false;
  for (const Namespace& ns : ns_) {
    if (!ns.table.empty() || !ns.flush_frontier.empty()) return false;
  }
  return true;
}

absl::Status Keyspace::AdoptKeys(const std::vector<const v1::Snapshot*>& chunks) {
  std::vector<RegionId> dict;
  absl::Status s;
  for (const v1::Snapshot* chunk : chunks) {
    s = Dictionary(*chunk, &regions_, &dict);
    if (!s.ok()) break;
    for (const v1::KeyState& state : chunk->keys()) {
      if (state.db() >= kDatabases) {
        s = absl::InvalidArgumentError(
            absl::StrCat("snapshot: key '", state.key(), "' in db ", state.db()));
        break;
      }
      Namespace& ns = ns_[state.db()];
      const bool seen_empty = !adopted_empty_.empty() &&
                              adopted_empty_.contains(std::make_pair(state.db(), state.key()));
      auto [it, inserted] =
          seen_empty ? std::make_pair(ns.table.end(), false) : ns.table.try_emplace(state.key());
      if (!inserted) {
        s = absl::InvalidArgumentError(
            absl::StrCat("snapshot: key '", state.key(), "' appears twice"));
        break;
      }
      IndexAdd(state.db(), KeyHash(state.key()), &*it);
      Entry& entry = it->second;
      s = Entry::FromState(state, dict, &regions_, &entry);
      if (!s.ok()) break;
      // As JoinInto does for a key that had no entry.
      digest_.Add(entry.Digest(KeyDigestSeed(it->first, state.db()), regions_));
      if (entry.Exists()) {
        ++live_keys_;
        ++ns.live_keys;
      }
      Reindex(state.db(), it->first, 0, entry.Empty() ? nullptr : &entry);
      if (entry.Empty()) {
        adopted_empty_.emplace(state.db(), state.key());
        Erase(state.db(), it);
      }
    }
    if (!s.ok()) break;
  }
  if (s.ok()) return s;
  ClearAdopted();
  return s;
}

void Keyspace::ClearAdopted() {
  // Undo an adoption: the keyspace held nothing before it.
  for (uint32_t db = 0; db < kDatabases; ++db) {
    Table& table = ns_[db].table;
    for (auto it = table.begin(); it != table.end();) {
      auto next = std::next(it);
      Reindex(db, it->first, IndexedDeadline(it->second), nullptr);
      Erase(db, it);
      it = next;
    }
    ns_[db].live_keys = 0;
  }
  live_keys_ = 0;
  digest_ = Digest128();
  adopted_empty_.clear();
}

absl::StatusOr<uint64_t> Keyspace::MergeSnapshot(const std::vector<const v1::Snapshot*>& chunks) {
  // Validate everything before changing anything.
  if (chunks.empty() || !chunks.front()->first() || !chunks.back()->last()) {
    return absl::InvalidArgumentError("snapshot: incomplete (needs its first and last chunk)");
  }
  // Into a keyspace that holds nothing (a start from a snapshot file, a restore): the join with
  // nothing is the snapshot itself, so each key is decoded once, straight into its entry, and the
  // keys are validated as they go (undone on the first error).
  const bool adopt = HoldsNothing();
  std::array<absl::flat_hash_set<std::string_view>, kDatabases> keys;
  {
    RegionTable scratch;  // FromState interns names: keep the real table untouched until valid
    Entry probe;
    std::vector<RegionId> dict;
    for (size_t c = 0; c < chunks.size(); ++c) {
      const v1::Snapshot& chunk = *chunks[c];
      if ((c > 0 && chunk.first()) || (c + 1 < chunks.size() && chunk.last())) {
        return absl::InvalidArgumentError("snapshot: first/last chunk out of place");
      }
      absl::Status s = CheckChunkMeta(chunk);
      if (s.ok()) s = Dictionary(chunk, &scratch, &dict);
      if (!s.ok()) return s;
      if (adopt) continue;  // AdoptKeys validates the keys
      for (const v1::KeyState& state : chunk.keys()) {
        if (state.db() >= kDatabases) {
          return absl::InvalidArgumentError(
              absl::StrCat("snapshot: key '", state.key(), "' in db ", state.db()));
        }
        if (!keys[state.db()].insert(state.key()).second) {
          return absl::InvalidArgumentError(
              absl::StrCat("snapshot: key '", state.key(), "' appears twice"));
        }
        s = Entry::FromState(state, dict, &scratch, &probe);
        if (!s.ok()) return s;
      }
    }
  }

  if (adopt) {
    absl::Status s = AdoptKeys(chunks);
    adopted_empty_.clear();
    if (!s.ok()) return s;
  }
  const VersionVector local_applied = applied_;
  std::array<VersionVector, kDatabases> local_flush;
  for (uint32_t ns = 0; ns < kDatabases; ++ns) local_flush[ns] = ns_[ns].flush_frontier;
  VersionVector version;
  std::array<VersionVector, kDatabases> remote_flush;
  const uint64_t added = MergeSnapshotMeta(*chunks.front(), &version, &remote_flush);

  // A key's join uses its namespace's flush frontiers.
  auto join_of = [&](uint32_t ns) {
    return Entry::JoinContext{&local_applied, &local_flush[ns], &version, &remote_flush[ns]};
  };
  const Entry::Context ctx{&regions_, &applied_, &stable_};
  Entry remote;
  std::vector<RegionId> dict;
  for (const v1::Snapshot* chunk : adopt ? std::vector<const v1::Snapshot*>{} : chunks) {
    absl::Status s = Dictionary(*chunk, &regions_, &dict);
    for (const v1::KeyState& state : chunk->keys()) {
      s = Entry::FromState(state, dict, &regions_, &remote);
      (void)s;  // validated above
      const uint32_t db = state.db();
      Namespace& ns = ns_[db];
      auto it = ns.table.find(state.key());
      if (it == ns.table.end()) {
        it = ns.table.try_emplace(state.key()).first;
        IndexAdd(db, KeyHash(state.key()), &*it);
        NoteCreated(db, it->first);
      }
      JoinInto(db, it, remote, join_of(db), ctx);
    }
  }
  // Keys the snapshot lacks: whatever of them its version covers was removed there.
  const Entry none;
  for (uint32_t db = 0; db < kDatabases && !adopt; ++db) {
    Table& table = ns_[db].table;
    for (auto it = table.begin(); it != table.end();) {
      auto next = std::next(it);
      if (!keys[db].contains(it->first.view())) JoinInto(db, it, none, join_of(db), ctx);
      it = next;
    }
  }
  MergeFlushFrontiers(remote_flush);
  return added;
}

uint64_t Keyspace::MergeSnapshotMeta(const v1::Snapshot& front, VersionVector* version,
                                     std::array<VersionVector, kDatabases>* remote_flush) {
  ReadVV(front.version(), &regions_, version);
  ReadVV(front.flush_frontier(), &regions_, &(*remote_flush)[0]);
  for (const v1::NamespaceFrontier& f : front.namespace_flush_frontiers()) {
    ReadVV(f.frontier(), &regions_, &(*remote_flush)[f.db()]);
  }
  if (front.db_mapping_size() > 0) {
    DbMapping mapping;
    ToMapping(front.db_mapping(), &mapping);  // validated by the caller
    WriteMapping(mapping, front.db_mapping_hlc(), regions_.Intern(front.db_mapping_region()));
  }
  for (const v1::FunctionLibraryState& f : front.functions()) {
    WriteFunction(f.name(), f.code(), f.hlc(), regions_.Intern(f.region()));
  }
  uint64_t added = 0;
  for (RegionId r = 0; r < version->size(); ++r) {
    if (version->Get(r) > applied_.Get(r)) {
      added += version->Get(r) - applied_.Get(r);
      applied_.Set(r, version->Get(r));
    }
  }
  applied_ops_ += added;
  RecomputeStable();
  return added;
}

void Keyspace::MergeFlushFrontiers(const std::array<VersionVector, kDatabases>& remote_flush) {
  for (uint32_t db = 0; db < kDatabases; ++db) {
    ns_[db].flush_frontier.Merge(remote_flush[db]);
    ns_[db].flush_frontier.PruneCoveredBy(applied_);
  }
}

absl::StatusOr<uint64_t> Keyspace::AdoptChunk(const v1::Snapshot& chunk) {
  absl::Status s;
  if (chunk.first() != (adopt_front_ == nullptr)) {
    s = absl::InvalidArgumentError(chunk.first() ? "snapshot: a first chunk inside a snapshot"
                                                 : "snapshot: a chunk without its first chunk");
  } else if (chunk.first() && !HoldsNothing()) {
    return absl::FailedPreconditionError("snapshot: adopted only into an empty keyspace");
  }
  if (s.ok()) s = CheckChunkMeta(chunk);
  if (s.ok()) {
    // Dictionary interns into a scratch table first: a bad chunk leaves regions_ as it was.
    RegionTable scratch;
    std::vector<RegionId> dict;
    s = Dictionary(chunk, &scratch, &dict);
  }
  if (s.ok() && chunk.first()) {
    // The metadata MergeSnapshotMeta applies at the end (the keys come from every chunk).
    adopt_front_ = std::make_unique<v1::Snapshot>();
    *adopt_front_->mutable_version() = chunk.version();
    *adopt_front_->mutable_flush_frontier() = chunk.flush_frontier();
    *adopt_front_->mutable_namespace_flush_frontiers() = chunk.namespace_flush_frontiers();
    *adopt_front_->mutable_db_mapping() = chunk.db_mapping();
    adopt_front_->set_db_mapping_hlc(chunk.db_mapping_hlc());
    adopt_front_->set_db_mapping_region(chunk.db_mapping_region());
    *adopt_front_->mutable_functions() = chunk.functions();
  }
  if (s.ok()) s = AdoptKeys({&chunk});
  if (!s.ok()) {
    AbortAdopt();
    return s;
  }
  if (!chunk.last()) return 0;
  adopted_empty_.clear();
  VersionVector version;
  std::array<VersionVector, kDatabases> remote_flush;
  const std::unique_ptr<v1::Snapshot> front = std::move(adopt_front_);
  const uint64_t added = MergeSnapshotMeta(*front, &version, &remote_flush);
  MergeFlushFrontiers(remote_flush);
  return added;
}

void Keyspace::AbortAdopt() {
  if (adopt_front_ == nullptr) return;
  adopt_front_.reset();
  ClearAdopted();
}

}  // namespace activekv::crdt
