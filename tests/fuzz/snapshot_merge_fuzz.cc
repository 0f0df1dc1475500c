// libFuzzer target for the snapshot merge (crdt::Keyspace::MergeSnapshot / AdoptChunk;
// docs/crdt-semantics.md, "Snapshots and state merge"; docs/fuzzing.md). The first input byte
// picks a mode.
//
// Raw (even): the rest is a run of Snapshot chunks (2-byte length each, parsed as protobuf;
// chunks that do not parse are dropped, as the stream or AOF layer drops them), up to the first
// `last` one, merged into an empty keyspace (MergeSnapshot: the adopt path), adopted chunk by
// chunk into another (AdoptChunk: a start from a snapshot file) and merged into a keyspace with
// state of its own (the join path). Invariants:
//   - a refused snapshot changes nothing (StateOf: the keyspace's own snapshot; an empty one
//     stays empty), and whether it is refused does not depend on the keyspace it goes into;
//   - MergeSnapshot into an empty keyspace and AdoptChunk of the same chunks agree (refusal,
//     ops added, digest, applied(), whole state);
//   - an accepted snapshot merged again adds no op and changes nothing visible (idempotence;
//     VisibleOf: digest, applied(), key count: a fuzzed snapshot may hold removal knowledge no
//     keyspace would keep, which one merge path drops and the other keeps);
//   - the incremental digest always equals DigestByWalk;
//   - the merged state, snapshotted again (chunked) and restored into an empty keyspace, comes
//     back the same (state, digest, applied()).
//
// Built (odd): the rest is a program (up to 48 steps, 3 merges) over three regions a, b, c
// (crdt::Keyspace each, ops made by crdt/op_builder.h for every type: strings, counters, expiries,
// FLUSHALL/FLUSHDB, SWAPDB, functions, hashes, sets, sorted sets, lists, streams and groups), with
// op deliveries, acks (stability, so counters fold) and snapshot merges (chunked, with ops made
// between chunks: copy-on-write). At each merge of y's snapshot into x:
//   - x afterwards equals an oracle that replayed every op of x's and y's version vectors
//     (digest, applied()): merging states is delivering the ops;
//   - commutativity: y's state joined with x's and x's joined with y's (restored into empty
//     keyspaces) give the oracle's digest too;
//   - idempotence: the same snapshot merged again adds nothing and changes nothing visible; nor
//     anything at all while no region acked (stability lets x compact state the snapshot still
//     holds: merging it again brings the redundant state back, which is allowed);
//   - a snapshot of x restored into an empty keyspace gives x's state back;
//   - a damaged copy of the snapshot (bits flipped, bytes cut or inserted, re-parsed) merged into
//     a copy of x is refused without a change, or accepted with a consistent digest and
//     idempotently (visible state).
// At the end every op is delivered everywhere and every region acks every other: all digests
// are equal (convergence).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "activekv/v1/op.pb.h"
#include "activekv/v1/snapshot.pb.h"
#include "command_ops.h"
#include "crdt/hlc.h"
#include "crdt/keyspace.h"
#include "crdt/op_builder.h"
#include "fuzz_input.h"
#include "google/protobuf/stubs/logging.h"
#include "keyspace_checks.h"

namespace activekv::crdt {
namespace {

using fuzz::CheckDigest;
using fuzz::FuzzInput;
using fuzz::Named;
using fuzz::Ptrs;
using fuzz::Replica;
using fuzz::StateOf;
using fuzz::TakeSnapshot;

const std::vector<std::string>& Regions() {
  static const auto* regions = new std::vector<std::string>{"a", "b", "c"};
  return *regions;
}

// Restores `chunks` into a new empty keyspace of region `name`.
std::unique_ptr<Keyspace> Restore(const std::string& name,
                                  const std::vector<v1::Snapshot>& chunks) {
  auto ks = std::make_unique<Keyspace>(name, Regions());
  absl::StatusOr<uint64_t> added = ks->MergeSnapshot(Ptrs(chunks));
  FUZZ_CHECK(added.ok());
  CheckDigest(*ks);
  return ks;
}

// ----------------------------------------------------------------------------------------------
// Built mode: regions making ops as a region server's commands do.

class World {
 public:
  World() {
    for (const std::string& n : Regions()) {
      replicas_.push_back(std::make_unique<Replica>(n, Regions()));
    }
  }
  void Run(FuzzInput* in);

 private:
  // Builds the op a command would emit on `r` (or none: WRONGTYPE, nothing to remove ...),
  // applies it there and logs it.
  void LocalOp(Replica& r, FuzzInput* in);
  // Offers `r` the logged ops it lacks, in log order; each with probability given by `in`.
  void Deliver(Replica& r, FuzzInput* in, bool all);
  void Ack(const Replica& from, Replica& to) {
    acked_ = true;
    google::protobuf::RepeatedPtrField<v1::VersionEntry> entries;
    AppendVersionEntries(from.ks.applied(), from.ks.regions(), &entries);
    to.ks.ObservePeerApplied(from.name, entries);
  }
  void Merge(Replica& x, Replica& y, FuzzInput* in);
  void Damaged(Replica& x, const std::vector<v1::Snapshot>& chunks, FuzzInput* in);
  // Every logged op whose dot `want` covers, in log order, into a new keyspace of `name`.
  std::unique_ptr<Keyspace> Oracle(const std::string& name,
                                   const std::map<std::string, uint64_t>& want) const;
  void Converge();

  std::vector<std::unique_ptr<Replica>> replicas_;
  std::vector<v1::Op> log_;  // every op, in creation order
  int next_id_ = 0;
  bool acked_ = false;  // some region acked: ops may be stable, state compacted
};

void World::LocalOp(Replica& r, FuzzInput* in) {
  v1::Op op;
  if (!fuzz::MakeCommandOp(r, in, &next_id_, &op)) return;
  absl::StatusOr<Keyspace::Outcome> applied = r.ks.Apply(op);
  FUZZ_CHECK(applied.ok() && *applied == Keyspace::Outcome::kApplied);
  log_.push_back(std::move(op));
}

void World::Deliver(Replica& r, FuzzInput* in, bool all) {
  const uint8_t mask = all ? 0xff : in->Byte();
  for (size_t i = 0; i < log_.size(); ++i) {
    if ((mask & (1u << (i % 8))) == 0) continue;
    const v1::Op& op = log_[i];
    absl::StatusOr<Keyspace::Outcome> out = r.ks.Apply(op);
    // Out of order (an earlier op of its origin was held back): refused, it comes later.
    FUZZ_CHECK(out.ok() || absl::IsFailedPrecondition(out.status()));
    if (out.ok()) r.clock.Observe(op.hlc());
  }
  CheckDigest(r.ks);
}

std::unique_ptr<Keyspace> World::Oracle(const std::string& name,
                                        const std::map<std::string, uint64_t>& want) const {
  auto ks = std::make_unique<Keyspace>(name, Regions());
  for (const v1::Op& op : log_) {
    auto it = want.find(op.origin());
    if (it == want.end() || op.seq() > it->second) continue;
    absl::StatusOr<Keyspace::Outcome> r = ks->Apply(op);
    FUZZ_CHECK(r.ok() && *r == Keyspace::Outcome::kApplied);
  }
  return ks;
}

void World::Merge(Replica& x, Replica& y, FuzzInput* in) {
  if (&x == &y) return;
  const size_t max_keys = 1 + in->Pick(4);
  const uint8_t between = in->Byte();
  // y's snapshot, with ops made on y between its chunks (they stay out of it).
  const std::map<std::string, uint64_t> y_at_begin = Named(y.ks);
  const std::string y_state = fuzz::CanonicalStateOf(y.ks);
  std::vector<v1::Snapshot> chunks;
  y.ks.BeginSnapshot();
  do {
    y.ks.NextSnapshotChunk(max_keys, &chunks.emplace_back());
    if ((between & (1u << (chunks.size() % 8))) != 0 && !chunks.back().last()) LocalOp(y, in);
  } while (!chunks.back().last());
  {
    // The snapshot is y as it was at BeginSnapshot.
    std::unique_ptr<Keyspace> y_copy = Restore(y.name, chunks);
    FUZZ_CHECK(Named(*y_copy) == y_at_begin &&
               fuzz::SameState(fuzz::CanonicalStateOf(*y_copy), y_state));
  }

  const std::vector<v1::Snapshot> x_before = TakeSnapshot(x.ks, SIZE_MAX);
  std::map<std::string, uint64_t> want = Named(x.ks);
  for (const auto& [region, seq] : y_at_begin) want[region] = std::max(want[region], seq);
  absl::StatusOr<uint64_t> added = x.ks.MergeSnapshot(Ptrs(chunks));
  FUZZ_CHECK(added.ok());
  CheckDigest(x.ks);
  FUZZ_CHECK(Named(x.ks) == want);
  const std::unique_ptr<Keyspace> oracle = Oracle(x.name, want);
  FUZZ_CHECK(x.ks.Digest() == oracle->Digest());
  FUZZ_CHECK(x.ks.key_count() == oracle->key_count());
  Hlc max_hlc = 0;
  for (const v1::Op& op : log_) max_hlc = std::max<Hlc>(max_hlc, op.hlc());
  x.clock.Observe(max_hlc);  // as Region::MergeChunks observes the snapshot's HLCs

  // Commutativity, through restored copies: x's state joined with y's, y's with x's.
  std::unique_ptr<Keyspace> xy = Restore(x.name, x_before);
  FUZZ_CHECK(xy->MergeSnapshot(Ptrs(chunks)).ok());
  std::unique_ptr<Keyspace> yx = Restore(y.name, chunks);
  FUZZ_CHECK(yx->MergeSnapshot(Ptrs(x_before)).ok());
  CheckDigest(*xy);
  CheckDigest(*yx);
  FUZZ_CHECK(xy->Digest() == oracle->Digest() && yx->Digest() == oracle->Digest());

  // Idempotence. Once ops are stable (acks), x may have compacted state the snapshot still
  // holds (a folded increment, a dropped lone PERSIST): merging it again brings that redundant
  // state back, which is not a change of what x shows. Without acks, nothing at all changes.
  const std::string state = fuzz::CanonicalStateOf(x.ks);
  const std::string visible = fuzz::VisibleOf(x.ks);
  absl::StatusOr<uint64_t> again = x.ks.MergeSnapshot(Ptrs(chunks));
  FUZZ_CHECK(again.ok() && *again == 0);
  FUZZ_CHECK(fuzz::SameVisible(fuzz::VisibleOf(x.ks), visible));
  if (!acked_) FUZZ_CHECK(fuzz::SameState(fuzz::CanonicalStateOf(x.ks), state));

  // x's state survives a snapshot and a restore.
  const std::vector<v1::Snapshot> x_after = TakeSnapshot(x.ks, max_keys);
  std::unique_ptr<Keyspace> restored = Restore(x.name, x_after);
  FUZZ_CHECK(fuzz::SameState(fuzz::CanonicalStateOf(*restored), fuzz::CanonicalStateOf(x.ks)));
  FUZZ_CHECK(restored->Digest() == x.ks.Digest());

  if ((between & 1) != 0) Damaged(x, chunks, in);
}

void World::Damaged(Replica& x, const std::vector<v1::Snapshot>& chunks, FuzzInput* in) {
  std::vector<v1::Snapshot> damaged = chunks;
  const size_t c = in->Pick(damaged.size());
  std::string bytes = damaged[c].SerializeAsString();
  for (int ops = 1 + in->Pick(3); ops > 0; --ops) {
    const size_t at = in->U16() % (bytes.size() + 1);
    switch (in->Pick(4)) {
      case 0:
        bytes.resize(at);
        break;
      case 1:
        if (at < bytes.size()) bytes[at] = static_cast<char>(bytes[at] ^ (1 << in->Pick(8)));
        break;
      case 2:
        bytes.insert(at, std::string(in->Short()));
        break;
      default:
        if (at < bytes.size()) bytes[at] = static_cast<char>(in->Byte());
    }
  }
  if (!damaged[c].ParseFromString(bytes)) return;  // refused by the stream / AOF layer
  std::unique_ptr<Keyspace> copy = Restore(x.name, TakeSnapshot(x.ks, SIZE_MAX));
  const std::string before = StateOf(*copy);
  absl::StatusOr<uint64_t> added = copy->MergeSnapshot(Ptrs(damaged));
  CheckDigest(*copy);
  if (!added.ok()) {
    FUZZ_CHECK(fuzz::SameState(StateOf(*copy), before));
    return;
  }
  const std::string after = fuzz::VisibleOf(*copy);
  absl::StatusOr<uint64_t> again = copy->MergeSnapshot(Ptrs(damaged));
  FUZZ_CHECK(again.ok() && *again == 0);
  FUZZ_CHECK(fuzz::SameVisible(fuzz::VisibleOf(*copy), after));
}

void World::Converge() {
  for (int round = 0; round < 2; ++round) {
    for (auto& r : replicas_) Deliver(*r, nullptr, /*all=*/true);
    for (auto& r : replicas_) Deliver(*r, nullptr, /*all=*/true);  // what was out of order
    for (auto& from : replicas_) {
      for (auto& to : replicas_) {
        if (from != to) Ack(*from, *to);
      }
    }
  }
  const std::string digest = replicas_[0]->ks.Digest();
  for (auto& r : replicas_) {
    CheckDigest(r->ks);
    FUZZ_CHECK(r->ks.Digest() == digest);
  }
  FUZZ_CHECK(Oracle("a", Named(replicas_[0]->ks))->Digest() == digest);
}

void World::Run(FuzzInput* in) {
  // Bounded: each merge checks a dozen keyspaces and snapshots against each other.
  int merges = 0;
  for (int steps = 0; steps < 48 && !in->empty(); ++steps) {
    const uint8_t step = in->Byte();
    Replica& r = *replicas_[(step >> 4) % 3];
    switch (step % 8) {
      case 0:
      case 1:
      case 2:
      case 3:
        LocalOp(r, in);
        break;
      case 4:
        Deliver(r, in, /*all=*/false);
        break;
      case 5:
        Ack(r, *replicas_[(step >> 6) % 3]);
        break;
      default:  // r merges the snapshot of another region (at most 3 times)
        if (++merges > 3) {
          Deliver(r, in, /*all=*/false);
          break;
        }
        Merge(r, *replicas_[((step >> 4) % 3 + 1 + ((step >> 6) & 1)) % 3], in);
    }
  }
  Converge();
}

// ----------------------------------------------------------------------------------------------
// Raw mode.

// A keyspace with state of its own: a few ops of every kind of value, from two origins.
std::unique_ptr<Keyspace> Populated() {
  auto ks = std::make_unique<Keyspace>("a", Regions());
  Keyspace other("b", Regions());
  HybridClock clock;
  int64_t ms = 1'000'000;
  std::vector<v1::Op> ops;
  auto emit = [&](Keyspace& on, v1::Op op) {
    FUZZ_CHECK(on.Apply(op).ok());
    ops.push_back(std::move(op));
  };
  v1::Op op;
  MakeSetOp(*ks, clock.Now(++ms), "k0", "v", v1::ExpiryChange::DEADLINE, 2'000'000, &op);
  emit(*ks, op);
  MakeHashSetOp(*ks, clock.Now(++ms), "k1", &op);
  AddHashElement("f", "v", &op);
  emit(*ks, op);
  MakeIncrementOp(other, clock.Now(++ms), "k2", 5, &op);
  emit(other, op);
  MakeSetAddOp(other, clock.Now(++ms), "k3", &op);
  AddSetElement("m", &op);
  emit(other, op);
  const Hlc list_hlc = clock.Now(++ms);
  MakeListInsertOp(*ks, list_hlc, "k4", ListValue().PlaceAtTail(list_hlc), &op);
  AddListValue("x", &op);
  op.set_db(1);
  emit(*ks, op);
  MakeZsetAddOp(other, clock.Now(++ms), "k5", &op);
  AddZsetElement("z", 1.5, &op);
  emit(other, op);
  for (const v1::Op& o : ops) {
    if (o.origin() == "b") FUZZ_CHECK(ks->Apply(o).ok());
  }
  return ks;
}

void RunRaw(FuzzInput* in) {
  std::vector<v1::Snapshot> chunks;
  while (!in->empty() && (chunks.empty() || !chunks.back().last())) {
    const std::string_view bytes = in->Framed();
    v1::Snapshot chunk;
    if (chunk.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      chunks.push_back(std::move(chunk));
    }
  }
  if (chunks.empty()) return;

  Keyspace merged("a", Regions());
  const std::string empty_state = StateOf(merged);
  absl::StatusOr<uint64_t> added = merged.MergeSnapshot(Ptrs(chunks));
  CheckDigest(merged);

  // Chunk by chunk, as a start from a snapshot file.
  Keyspace adopted("a", Regions());
  absl::StatusOr<uint64_t> adopt_added = uint64_t{0};
  for (const v1::Snapshot& chunk : chunks) {
    adopt_added = adopted.AdoptChunk(chunk);
    if (!adopt_added.ok()) break;
  }
  if (adopt_added.ok() && adopted.adopting()) {
    adopted.AbortAdopt();  // the file ended before its last chunk
    adopt_added = absl::DataLossError("no last chunk");
  }
  CheckDigest(adopted);
  FUZZ_CHECK(added.ok() == adopt_added.ok());

  std::unique_ptr<Keyspace> populated = Populated();
  const std::string populated_state = StateOf(*populated);
  absl::StatusOr<uint64_t> joined = populated->MergeSnapshot(Ptrs(chunks));
  CheckDigest(*populated);
  if (!joined.ok()) FUZZ_CHECK(fuzz::SameState(StateOf(*populated), populated_state));
  FUZZ_CHECK(joined.ok() == added.ok());  // malformed or not: the snapshot's own property

  if (!added.ok()) {
    FUZZ_CHECK(merged.HoldsNothing() && fuzz::SameState(StateOf(merged), empty_state));
    FUZZ_CHECK(adopted.HoldsNothing() && !adopted.adopting());
    return;
  }
  FUZZ_CHECK(*adopt_added == *added);
  const std::string state = fuzz::CanonicalStateOf(merged);
  FUZZ_CHECK(fuzz::SameState(fuzz::CanonicalStateOf(adopted), state) &&
             adopted.Digest() == merged.Digest());
  FUZZ_CHECK(Named(adopted) == Named(merged));

  // Restored from its own snapshot, the keyspace comes back the same. (Before merging again: the
  // join path may drop removal knowledge the adoption kept, which `state` still holds.)
  std::unique_ptr<Keyspace> restored = Restore("a", TakeSnapshot(merged, 1 + in->Pick(3)));
  FUZZ_CHECK(fuzz::SameState(fuzz::CanonicalStateOf(*restored), state) &&
             restored->Digest() == merged.Digest());
  FUZZ_CHECK(Named(*restored) == Named(merged));

  for (Keyspace* ks : {&merged, populated.get()}) {
    const std::string before = fuzz::VisibleOf(*ks);
    absl::StatusOr<uint64_t> again = ks->MergeSnapshot(Ptrs(chunks));
    FUZZ_CHECK(again.ok() && *again == 0);
    FUZZ_CHECK(fuzz::SameVisible(fuzz::VisibleOf(*ks), before));
  }
}

}  // namespace
}  // namespace activekv::crdt

// Invalid UTF-8 in a string field makes parsing fail, as it should, and protobuf log it: quiet.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  activekv::fuzz::FuzzInput in(data, size);
  if ((in.Byte() & 1) == 0) {
    activekv::crdt::RunRaw(&in);
  } else {
    activekv::crdt::World().Run(&in);
  }
  return 0;
}
