// Keyspace helpers shared by sync_message_fuzz and snapshot_merge_fuzz (docs/fuzzing.md): the
// whole state of a crdt::Keyspace as comparable bytes, its snapshot, its version vector by name.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "activekv/v1/snapshot.pb.h"
#include "crdt/keyspace.h"
#include "fuzz_input.h"
#include "google/protobuf/message.h"

namespace activekv::fuzz {

// The snapshot of `ks` as it is now, `max_keys` keys a chunk (first ... last).
inline std::vector<v1::Snapshot> TakeSnapshot(crdt::Keyspace& ks, size_t max_keys) {
  std::vector<v1::Snapshot> chunks;
  ks.BeginSnapshot();
  do {
    ks.NextSnapshotChunk(max_keys, &chunks.emplace_back());
  } while (!chunks.back().last());
  return chunks;
}

inline std::vector<const v1::Snapshot*> Ptrs(const std::vector<v1::Snapshot>& chunks) {
  std::vector<const v1::Snapshot*> out;
  out.reserve(chunks.size());
  for (const v1::Snapshot& c : chunks) out.push_back(&c);
  return out;
}

// Everything a snapshot carries (version, flush frontiers, database mapping, function
// libraries, every key's whole CRDT state), serialized: equal strings, equal states. The region
// dictionary is left out: a refused op or chunk may intern a region name (appended to the table,
// so the indices the states use do not move), which is not a change of state.
inline std::string StateOf(crdt::Keyspace& ks) {
  std::string out;
  for (v1::Snapshot& chunk : TakeSnapshot(ks, SIZE_MAX)) {
    chunk.clear_regions();
    out += chunk.SerializeAsString();
  }
  return out;
}

// Sorts, recursively, every repeated message field of `m` by its elements' serialized bytes (a
// stream consumer's parallel `tags` and `seen_ms` as pairs). A keyspace serializes some state
// in hash-table order (element tombstones, pending list elements, stream metadata and groups),
// which differs between two keyspaces that hold the same state: this makes their snapshots
// comparable. Order that carries meaning is kept (repeated scalars: the database mapping, a
// stream entry's fields); list elements and stream entries carry their positions and ids.
inline void Canonicalize(google::protobuf::Message* m) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection* r = m->GetReflection();
  if (auto* c = dynamic_cast<v1::StreamState::Group::Consumer*>(m);
      c != nullptr && c->seen_ms_size() == c->tags_size()) {
    std::vector<std::pair<std::string, int64_t>> pairs;
    for (int i = 0; i < c->tags_size(); ++i) {
      pairs.emplace_back(c->tags(i).SerializeAsString(), c->seen_ms(i));
    }
    std::sort(pairs.begin(), pairs.end());
    for (int i = 0; i < c->tags_size(); ++i) {
      c->mutable_tags(i)->ParseFromString(pairs[i].first);
      c->set_seen_ms(i, pairs[i].second);
    }
  }
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(*m, &fields);
  for (const FieldDescriptor* f : fields) {
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (!f->is_repeated()) {
      Canonicalize(r->MutableMessage(m, f));
      continue;
    }
    const int n = r->FieldSize(*m, f);
    std::vector<std::string> keys(n);
    for (int i = 0; i < n; ++i) {
      Canonicalize(r->MutableRepeatedMessage(m, f, i));
      keys[i] = r->GetRepeatedMessage(*m, f, i).SerializeAsString();
    }
    for (int i = 0; i < n; ++i) {  // selection sort: swaps keep the messages themselves
      int min = i;
      for (int j = i + 1; j < n; ++j) {
        if (keys[j] < keys[min]) min = j;
      }
      if (min == i) continue;
      r->SwapElements(m, f, i, min);
      std::swap(keys[i], keys[min]);
    }
  }
}

// StateOf, comparable between two keyspaces (Canonicalize); for one keyspace before and after
// something, StateOf itself is enough.
inline std::string CanonicalStateOf(crdt::Keyspace& ks) {
  v1::Snapshot all;
  for (v1::Snapshot& chunk : TakeSnapshot(ks, SIZE_MAX)) {
    chunk.clear_regions();
    all.MergeFrom(chunk);
  }
  Canonicalize(&all);
  return all.SerializeAsString();
}

// applied() by region name, zero entries left out.
inline std::map<std::string, uint64_t> Named(const crdt::Keyspace& ks) {
  std::map<std::string, uint64_t> out;
  for (crdt::RegionId r = 0; r < ks.applied().size(); ++r) {
    if (ks.applied().Get(r) != 0) out[ks.regions().Name(r)] = ks.applied().Get(r);
  }
  return out;
}

// What the keyspace shows: its digest (every existing key's value and expiry, the database
// mapping, the function libraries), applied() and the number of keys. A snapshot that no
// keyspace could have produced (a fuzzed one) may leave redundant removal knowledge behind on
// one merge path and not on another; this leaves such hidden state out.
inline std::string VisibleOf(const crdt::Keyspace& ks) {
  std::string out = ks.Digest();
  for (const auto& [region, seq] : Named(ks)) out += " " + region + ":" + std::to_string(seq);
  return out + " keys " + std::to_string(ks.key_count());
}

// a == b for two VisibleOf results; when they differ, both go to stderr first.
inline bool SameVisible(const std::string& a, const std::string& b) {
  if (a == b) return true;
  std::fprintf(stderr, "visible 1: %s\nvisible 2: %s\n", a.c_str(), b.c_str());
  return false;
}

// a == b for two StateOf results; when they differ, both go to stderr (readable) first.
inline bool SameState(const std::string& a, const std::string& b) {
  if (a == b) return true;
  v1::Snapshot x, y;
  x.ParseFromString(a);
  y.ParseFromString(b);
  std::fprintf(stderr, "state 1: %s\nstate 2: %s\n", x.ShortDebugString().c_str(),
               y.ShortDebugString().c_str());
  return false;
}

// The incrementally kept digest agrees with a walk over every key.
inline void CheckDigest(const crdt::Keyspace& ks) { FUZZ_CHECK(ks.Digest() == ks.DigestByWalk()); }

}  // namespace activekv::fuzz
