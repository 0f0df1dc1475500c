// Keyspace snapshots (copy-on-write, consistent at BeginSnapshot) and the snapshot merge
// (docs/crdt-semantics.md, "Snapshots and state merge").
#include <iterator>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "crdt/keyspace.h"

namespace activekv::crdt {
namespace {

absl::Status CheckVV(const google::protobuf::RepeatedPtrField<v1::VersionEntry>& vv) {
  for (const v1::VersionEntry& e : vv) {
    if (e.region().empty()) return absl::InvalidArgumentError("snapshot: empty region name");
  }
  return absl::OkStatus();
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

}  // namespace

void Keyspace::BeginSnapshot() {
  snap_ = std::make_unique<SnapshotState>();
  snap_->version = applied_;
  snap_->flush = flush_frontier_;
}

bool Keyspace::SnapshotPassed(std::string_view key) const {
  if (!snap_->started) return false;
  const uint64_t h = KeyHash(key);
  if (h != snap_->cursor_hash) return h < snap_->cursor_hash;
  return key <= snap_->cursor_key;
}

void Keyspace::SaveSlow(const std::string& key, const Entry& entry) {
  if (SnapshotPassed(key) || !snap_->saved.insert(key).second) return;
  v1::KeyState* state = snap_->pending.add_keys();
  state->set_key(key);
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
    AppendVersionEntries(s.flush, regions_, out->mutable_flush_frontier());
  }
  // The region dictionary typed states index into: the region table in id order (ids only grow,
  // so it covers the keys saved earlier too).
  for (RegionId r = 0; r < regions_.size(); ++r) out->add_regions(regions_.Name(r));
  out->mutable_keys()->Swap(s.pending.mutable_keys());
  auto it = s.started ? index_.upper_bound(KeyRef{s.cursor_hash, s.cursor_key}) : index_.begin();
  size_t taken = 0;
  size_t bytes = 0;
  for (; it != index_.end() && taken < max_keys && bytes < max_bytes; ++it) {
    s.started = true;
    s.cursor_hash = it->hash;
    s.cursor_key = *it->key;
    if (s.saved.erase(*it->key) > 0) continue;  // saved before it changed, or created since
    v1::KeyState* state = out->add_keys();
    state->set_key(*it->key);
    it->entry->ToState(regions_, state);
    ++taken;
    if (max_bytes != SIZE_MAX) bytes += state->ByteSizeLong();
  }
  if (it == index_.end()) {
    out->set_last(true);
    snap_.reset();
  }
}

void Keyspace::JoinInto(Table::iterator it, const Entry& remote, const Entry::JoinContext& join,
                        const Entry::Context& ctx) {
  Entry& entry = it->second;
  SaveForSnapshot(it->first, entry);
  const bool existed = entry.Exists();
  const int64_t deadline = IndexedDeadline(entry);
  const uint64_t seed = KeyDigestSeed(it->first);
  digest_.Sub(entry.Digest(seed, regions_));
  entry.Join(remote, join, ctx);
  digest_.Add(entry.Digest(seed, regions_));
  const bool exists = entry.Exists();
  if (exists && !existed) ++live_keys_;
  if (!exists && existed) --live_keys_;
  const bool empty = entry.Empty();
  Reindex(it->first, deadline, empty ? nullptr : &entry);
  if (empty) Erase(it);
}

absl::StatusOr<uint64_t> Keyspace::MergeSnapshot(const std::vector<const v1::Snapshot*>& chunks) {
  // Validate everything before changing anything.
  if (chunks.empty() || !chunks.front()->first() || !chunks.back()->last()) {
    return absl::InvalidArgumentError("snapshot: incomplete (needs its first and last chunk)");
  }
  absl::flat_hash_set<std::string_view> keys;
  {
    RegionTable scratch;  // FromState interns names: keep the real table untouched until valid
    Entry probe;
    std::vector<RegionId> dict;
    for (size_t c = 0; c < chunks.size(); ++c) {
      const v1::Snapshot& chunk = *chunks[c];
      if ((c > 0 && chunk.first()) || (c + 1 < chunks.size() && chunk.last())) {
        return absl::InvalidArgumentError("snapshot: first/last chunk out of place");
      }
      absl::Status s = CheckVV(chunk.version());
      if (s.ok()) s = CheckVV(chunk.flush_frontier());
      if (s.ok()) s = Dictionary(chunk, &scratch, &dict);
      if (!s.ok()) return s;
      for (const v1::KeyState& state : chunk.keys()) {
        if (!keys.insert(state.key()).second) {
          return absl::InvalidArgumentError(
              absl::StrCat("snapshot: key '", state.key(), "' appears twice"));
        }
        s = Entry::FromState(state, dict, &scratch, &probe);
        if (!s.ok()) return s;
      }
    }
  }

  VersionVector version;
  VersionVector remote_flush;
  for (const v1::VersionEntry& e : chunks.front()->version()) {
    RegionId r = regions_.Intern(e.region());
    if (e.seq() > version.Get(r)) version.Set(r, e.seq());
  }
  for (const v1::VersionEntry& e : chunks.front()->flush_frontier()) {
    RegionId r = regions_.Intern(e.region());
    if (e.seq() > remote_flush.Get(r)) remote_flush.Set(r, e.seq());
  }
  const VersionVector local_applied = applied_;
  const VersionVector local_flush = flush_frontier_;
  uint64_t added = 0;
  for (RegionId r = 0; r < version.size(); ++r) {
    if (version.Get(r) > applied_.Get(r)) {
      added += version.Get(r) - applied_.Get(r);
      applied_.Set(r, version.Get(r));
    }
  }
  applied_ops_ += added;
  RecomputeStable();

  const Entry::JoinContext join{&local_applied, &local_flush, &version, &remote_flush};
  const Entry::Context ctx{&regions_, &applied_, &stable_};
  Entry remote;
  std::vector<RegionId> dict;
  for (const v1::Snapshot* chunk : chunks) {
    absl::Status s = Dictionary(*chunk, &regions_, &dict);
    for (const v1::KeyState& state : chunk->keys()) {
      s = Entry::FromState(state, dict, &regions_, &remote);
      (void)s;  // validated above
      auto it = table_.find(state.key());
      if (it == table_.end()) {
        it = table_.try_emplace(state.key()).first;
        index_.insert(Indexed{KeyHash(state.key()), &it->first, &it->second});
        NoteCreated(it->first);
      }
      JoinInto(it, remote, join, ctx);
    }
  }
  // Keys the snapshot lacks: whatever of them its version covers was removed there.
  const Entry none;
  for (auto it = table_.begin(); it != table_.end();) {
    auto next = std::next(it);
    if (!keys.contains(it->first)) JoinInto(it, none, join, ctx);
    it = next;
  }
  flush_frontier_.Merge(remote_flush);
  flush_frontier_.PruneCoveredBy(applied_);
  return added;
}

}  // namespace activekv::crdt
