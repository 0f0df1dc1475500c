// Snapshots and state merge (Keyspace::BeginSnapshot / NextSnapshotChunk / MergeSnapshot):
// merging a snapshot must give exactly what replaying the union of both sides' ops gives, the
// snapshot is the state at BeginSnapshot even while the keyspace keeps changing (copy-on-write),
// and a malformed snapshot changes nothing. Seeded; the property test prints the seed of each
// history (replay with --gtest_random_seed=<run seed> or SNAPSHOT_HISTORY_SEED=<seed>).
#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "replica_sim.h"
#include "tests/unit/test_scale.h"

namespace activekv::crdt {
namespace {

using testing::Replica;
using testing::ToEntries;

// A version vector by region name (ids differ between keyspaces), zero entries omitted.
using NamedVV = std::map<std::string, uint64_t>;

NamedVV Named(const Keyspace& ks) {
  NamedVV out;
  for (RegionId r = 0; r < ks.applied().size(); ++r) {
    if (ks.applied().Get(r) != 0) out[ks.regions().Name(r)] = ks.applied().Get(r);
  }
  return out;
}

NamedVV Named(const google::protobuf::RepeatedPtrField<v1::VersionEntry>& entries) {
  NamedVV out;
  for (const v1::VersionEntry& e : entries) {
    if (e.seq() != 0 && e.seq() > out[e.region()]) out[e.region()] = e.seq();
  }
  return out;
}

NamedVV Union(NamedVV a, const NamedVV& b) {
  for (const auto& [region, seq] : b) {
    if (seq > a[region]) a[region] = seq;
  }
  return a;
}

// How many ops `add` covers that `have` does not.
uint64_t Missing(const NamedVV& have, const NamedVV& add) {
  uint64_t n = 0;
  for (const auto& [region, seq] : add) {
    auto it = have.find(region);
    uint64_t h = it == have.end() ? 0 : it->second;
    if (seq > h) n += seq - h;
  }
  return n;
}

bool Covers(const NamedVV& vv, const v1::Op& op) {
  auto it = vv.find(op.origin());
  return it != vv.end() && op.seq() <= it->second;
}

// A fresh replica that applied the ops of `log` that `cover` covers (`log` is in creation order,
// so every origin's ops come in seq order).
std::unique_ptr<Replica> Replay(const std::string& name, const std::vector<std::string>& names,
                                const std::vector<v1::Op>& log, const NamedVV& cover) {
  auto r = std::make_unique<Replica>(name, names);
  for (const v1::Op& op : log) {
    if (Covers(cover, op)) {
      EXPECT_TRUE(r->Receive(op)) << op.origin() << ":" << op.seq();
    }
  }
  return r;
}

// A whole snapshot of `ks`: BeginSnapshot, then chunks of max_keys() keys until `last`, with
// `between` run after BeginSnapshot and between chunks (the keyspace keeps changing). Checks the
// chunk framing and that no key appears twice.
std::vector<v1::Snapshot> TakeSnapshot(Keyspace& ks, const std::function<size_t()>& max_keys,
                                       const std::function<void()>& between = nullptr) {
  std::vector<v1::Snapshot> chunks;
  std::set<std::string> keys;
  ks.BeginSnapshot();
  EXPECT_TRUE(ks.snapshot_active());
  for (int guard = 0; guard < 10'000 && ks.snapshot_active(); ++guard) {
    if (between) between();
    chunks.emplace_back();
    ks.NextSnapshotChunk(max_keys(), &chunks.back());
    EXPECT_EQ(chunks.back().first(), chunks.size() == 1) << "chunk " << chunks.size();
    for (const v1::KeyState& k : chunks.back().keys()) {
      EXPECT_TRUE(keys.insert(k.key()).second) << "key '" << k.key() << "' twice in a snapshot";
    }
  }
  EXPECT_FALSE(ks.snapshot_active());
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(chunks[i].last(), i + 1 == chunks.size()) << "chunk " << i;
  }
  return chunks;
}

std::vector<const v1::Snapshot*> Ptrs(const std::vector<v1::Snapshot>& chunks) {
  std::vector<const v1::Snapshot*> out;
  for (const v1::Snapshot& c : chunks) out.push_back(&c);
  return out;
}

std::set<std::string> SnapshotKeys(const std::vector<v1::Snapshot>& chunks) {
  std::set<std::string> out;
  for (const v1::Snapshot& c : chunks) {
    for (const v1::KeyState& k : c.keys()) out.insert(k.key());
  }
  return out;
}

const v1::KeyState* FindState(const std::vector<v1::Snapshot>& chunks, const std::string& key) {
  for (const v1::Snapshot& c : chunks) {
    for (const v1::KeyState& k : c.keys()) {
      if (k.key() == key) return &k;
    }
  }
  return nullptr;
}

std::string Dump(Replica& r, const std::vector<std::string>& keys) {
  std::string out = absl::StrCat(r.name(), ":");
  for (const std::string& k : keys) {
    absl::StrAppend(&out, " ", k, "=", r.Get(k), "@", r.Deadline(k));
  }
  return out + "\n";
}

v1::Op SetWithExpiry(Replica& r, const std::string& key, const std::string& value,
                     v1::ExpiryChange::Kind kind, int64_t deadline_ms) {
  v1::Op op;
  MakeSetOp(r.ks(), r.Tick(), key, value, kind, deadline_ms, &op);
  return r.Local(std::move(op));
}

// Every op so far (creation order) and the replicas that get them.
struct Net {
  std::vector<v1::Op> log;
  v1::Op Send(const v1::Op& op, const std::vector<Replica*>& to) {
    for (Replica* r : to) EXPECT_TRUE(r->Receive(op)) << op.origin() << ":" << op.seq();
    log.push_back(op);
    return op;
  }
  void CatchUp(Replica& r) const {
    for (const v1::Op& op : log) EXPECT_TRUE(r.Receive(op)) << op.origin() << ":" << op.seq();
  }
};

void AckAll(const std::vector<Replica*>& from, const std::vector<Replica*>& to) {
  for (Replica* t : to) {
    for (Replica* f : from) {
      if (t != f) t->ks().ObservePeerApplied(f->name(), ToEntries(f->ks()));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Property: merge == replay of the union, with the source changing between chunks.

// What the histories exercised, so that the property cannot pass vacuously.
struct Coverage {
  int histories = 0;
  int merge_changed_state = 0;     // the merge changed X's digest
  int source_changed_between = 0;  // Y's digest changed between BeginSnapshot and the last chunk
  int folded_in_snapshot = 0;      // the snapshot carried a write with folded increments
  int pending_in_snapshot = 0;     // ... a pending increment
  int frontier_in_snapshot = 0;    // ... a value/expiry frontier or a FLUSHALL frontier
};

class SnapshotHistory {
 public:
  SnapshotHistory(uint32_t seed, Coverage* coverage) : rng_(seed), coverage_(coverage) {}
  void Run();

 private:
  struct Increment {
    std::string origin;
    uint64_t seq;
    int64_t delta;
  };
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  void Publish(size_t from, const v1::Op& op) {
    log_.push_back(op);
    for (size_t i = 0; i < reps_.size(); ++i) {
      if (i != from) inbox_[i].push_back(log_.size() - 1);
    }
  }
  void LocalOp(size_t r);
  void DeliverSome(size_t to);
  void Ack(size_t from, size_t to) {
    reps_[to]->ks().ObservePeerApplied(reps_[from]->name(), ToEntries(reps_[from]->ks()));
  }
  void Step() {
    size_t r = Pick(reps_.size());
    size_t kind = Pick(100);
    if (kind < 68) {
      LocalOp(r);
    } else if (kind < 83) {
      DeliverSome(r);
    } else if (kind < 97) {
      Ack(r, (r + 1 + Pick(reps_.size() - 1)) % reps_.size());
    } else {
      Sync();
    }
  }
  // Everyone gets everything and everyone acks: what was applied so far becomes stable.
  void Sync() {
    DeliverAll();
    for (size_t to = 0; to < reps_.size(); ++to) {
      for (size_t from = 0; from < reps_.size(); ++from) {
        if (from != to) Ack(from, to);
      }
    }
  }
  void DeliverAll();
  // The counter key only gets increments and FLUSHALLs: its value is the sum of the increments
  // no FLUSHALL observed.
  int64_t ExpectedCounter() const;
  std::string DumpAll() {
    std::string out;
    for (auto& r : reps_) out += Dump(*r, keys_);
    if (oracle_) out += "oracle " + Dump(*oracle_, keys_);
    if (std::getenv("SNAPSHOT_DUMP_KEY")) {
      const std::string k = std::getenv("SNAPSHOT_DUMP_KEY");
      for (const v1::Op& o : log_) {
        if (o.key() == k || o.has_flush()) out += o.ShortDebugString() + "\n";
      }
      for (auto& r : reps_) {
        v1::KeyState st;
        if (const Entry* e = r->ks().Find(k)) e->ToState(r->ks().regions(), &st);
        out += r->name() + " applied " + r->ks().applied().ToString(r->ks().regions()) + " state " +
               st.ShortDebugString() + "\n";
      }
    }
    return out;
  }

  static constexpr char kCounter[] = "c";
  std::mt19937 rng_;
  Coverage* coverage_;
  std::vector<std::string> names_;
  std::vector<std::string> keys_{"k1", "k2", "k3", kCounter};
  std::vector<std::unique_ptr<Replica>> reps_;
  std::unique_ptr<Replica> oracle_;
  std::vector<v1::Op> log_;                 // every op, in creation order
  std::vector<std::vector<size_t>> inbox_;  // per replica: indexes into log_ not applied yet
  std::vector<Increment> increments_;       // of kCounter
  std::vector<v1::Op> flushes_;
  int next_value_ = 0;
};

void SnapshotHistory::LocalOp(size_t r) {
  Replica& rep = *reps_[r];
  rep.wall_ms += static_cast<int64_t>(Pick(5));
  if (Pick(4) == 0) rep.wall_ms -= 3;  // clocks wobble
  const std::string& key = keys_[Pick(3)];
  const int64_t deadline = 2'000'000 + static_cast<int64_t>(Pick(1000));
  size_t kind = Pick(100);
  v1::Op op;
  if (kind < 20) {
    int64_t delta = static_cast<int64_t>(Pick(11)) - 5;
    op = rep.Incr(kCounter, delta);
    increments_.push_back({rep.name(), op.seq(), delta});
  } else if (kind < 42) {
    static constexpr v1::ExpiryChange::Kind kKinds[] = {
        v1::ExpiryChange::PERSIST, v1::ExpiryChange::DEADLINE, v1::ExpiryChange::KEEP};
    v1::ExpiryChange::Kind e = kKinds[Pick(3)];
    std::string value = Pick(2) ? absl::StrCat(Pick(100)) : absl::StrCat("v", ++next_value_);
    op = SetWithExpiry(rep, key, value, e, e == v1::ExpiryChange::DEADLINE ? deadline : 0);
  } else if (kind < 54) {
    op = rep.Incr(key, static_cast<int64_t>(Pick(7)) - 3);
  } else if (kind < 62) {
    static constexpr const char* kFloats[] = {"0.1", "-2.5", "1e-5"};
    op = rep.IncrFloat(key, kFloats[Pick(3)]);
  } else if (kind < 75) {
    op = rep.Del(key);
  } else if (kind < 86) {
    op = rep.Expire(key, deadline);
  } else if (kind < 96) {
    op = rep.Persist(key);
  } else {
    op = rep.Flush();
    flushes_.push_back(op);
  }
  Publish(r, op);
}

void SnapshotHistory::DeliverSome(size_t to) {
  auto& box = inbox_[to];
  std::shuffle(box.begin(), box.end(), rng_);
  std::vector<size_t> keep;
  for (size_t idx : box) {
    if (Pick(3) == 0 || !reps_[to]->Receive(log_[idx])) {
      keep.push_back(idx);  // not now, or out of order: later
    } else if (Pick(8) == 0) {
      EXPECT_TRUE(reps_[to]->Receive(log_[idx]));  // duplicate: ignored
    }
  }
  box = keep;
}

void SnapshotHistory::DeliverAll() {
  for (int round = 0; round < 1000; ++round) {
    bool pending = false;
    for (size_t i = 0; i < reps_.size(); ++i) {
      std::vector<size_t> keep;
      for (size_t idx : inbox_[i]) {
        if (!reps_[i]->Receive(log_[idx])) keep.push_back(idx);
      }
      inbox_[i] = keep;
      pending |= !keep.empty();
    }
    if (!pending) break;
  }
  for (size_t i = 0; i < reps_.size(); ++i) EXPECT_TRUE(inbox_[i].empty()) << names_[i];
  if (oracle_ == nullptr) return;
  for (const v1::Op& op : log_) EXPECT_TRUE(oracle_->Receive(op));
}

int64_t SnapshotHistory::ExpectedCounter() const {
  int64_t sum = 0;
  for (const Increment& i : increments_) {
    bool removed = false;
    for (const v1::Op& f : flushes_) removed |= testing::Observed(f, i.origin, i.seq);
    if (!removed) sum += i.delta;
  }
  return sum;
}

void SnapshotHistory::Run() {
  const std::vector<std::string> all{"us", "eu", "ap", "sa"};
  names_.assign(all.begin(), all.begin() + 3 + static_cast<std::ptrdiff_t>(Pick(2)));
  for (const std::string& n : names_) reps_.push_back(std::make_unique<Replica>(n, names_));
  inbox_.resize(names_.size());

  for (size_t i = 10 + Pick(50); i > 0; --i) Step();

  // Y's snapshot, taken while Y (and everyone) keeps going; X merges it.
  const size_t x = Pick(names_.size());
  const size_t y = (x + 1 + Pick(names_.size() - 1)) % names_.size();
  Replica& xr = *reps_[x];
  Replica& yr = *reps_[y];
  SCOPED_TRACE(absl::StrCat(names_.size(), " regions, ", xr.name(), " merges ", yr.name()));
  const NamedVV y_at_begin = Named(yr.ks());
  const std::string y_digest_at_begin = yr.ks().Digest();
  std::vector<v1::Snapshot> chunks = TakeSnapshot(
      yr.ks(), [&] { return 1 + Pick(3); },
      [&] {
        for (size_t i = Pick(4); i > 0; --i) {
          if (Pick(2) == 0) {
            LocalOp(y);
          } else {
            Step();
          }
        }
        if (Pick(3) == 0) DeliverSome(y);
      });
  ASSERT_FALSE(chunks.empty());
  EXPECT_EQ(Named(chunks.front().version()), y_at_begin);
  ++coverage_->histories;
  coverage_->source_changed_between += yr.ks().Digest() != y_digest_at_begin;
  bool folded = false, pending = false, frontier = !chunks.front().flush_frontier().empty();
  for (const v1::Snapshot& c : chunks) {
    for (const v1::KeyState& k : c.keys()) {
      for (const auto& w : k.writes()) folded |= w.folds() > 0;
      pending |= k.increments_size() > 0;
      frontier |= k.value_frontier_size() > 0 || k.expiry_frontier_size() > 0;
    }
  }
  coverage_->folded_in_snapshot += folded;
  coverage_->pending_in_snapshot += pending;
  coverage_->frontier_in_snapshot += frontier;
  for (size_t i = Pick(3); i > 0; --i) Step();

  const NamedVV x_before = Named(xr.ks());
  const std::string x_digest_before = xr.ks().Digest();
  const NamedVV want = Union(x_before, y_at_begin);
  std::string dump_before;
  if (const char* k = std::getenv("SNAPSHOT_DUMP_KEY")) {
    for (const v1::Snapshot& c : chunks) {
      for (const v1::KeyState& ks : c.keys()) {
        if (ks.key() == k) dump_before += "snapshot of " + yr.name() + ": " + ks.ShortDebugString();
      }
    }
    v1::KeyState st;
    if (const Entry* e = xr.ks().Find(k)) e->ToState(xr.ks().regions(), &st);
    dump_before += "\n" + xr.name() + " before the merge: " + st.ShortDebugString() + "\n";
  }
  absl::StatusOr<uint64_t> added = xr.ks().MergeSnapshot(Ptrs(chunks));
  if (const char* k = std::getenv("SNAPSHOT_DUMP_KEY")) {
    v1::KeyState st;
    if (const Entry* e = xr.ks().Find(k)) e->ToState(xr.ks().regions(), &st);
    std::cerr << dump_before << xr.name() << " after: " << st.ShortDebugString() << "\nversion "
              << chunks.front().ShortDebugString().substr(0, 300) << "\n";
  }
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(*added, Missing(x_before, y_at_begin));
  EXPECT_EQ(Named(xr.ks()), want);
  oracle_ = Replay(xr.name(), names_, log_, want);
  ASSERT_EQ(xr.ks().Digest(), xr.ks().DigestByWalk()) << "incremental digest drifted";
  ASSERT_EQ(xr.ks().Digest(), oracle_->ks().Digest()) << "merge differs from replaying the union\n"
                                                      << DumpAll();
  ASSERT_EQ(xr.ks().key_count(), oracle_->ks().key_count());
  coverage_->merge_changed_state += xr.ks().Digest() != x_digest_before;

  // Life goes on (X writes on top of merged state), then everything is delivered and acked.
  for (size_t i = Pick(30); i > 0; --i) Step();
  DeliverAll();
  const std::string digest = reps_[0]->ks().Digest();
  const std::string want_counter = absl::StrCat(ExpectedCounter());
  for (auto& r : reps_) {
    ASSERT_EQ(r->ks().Digest(), digest) << r->name() << " diverged\n" << DumpAll();
    std::string v = r->Get(kCounter);
    EXPECT_EQ(v == "(nil)" ? "0" : v, want_counter) << r->name();
  }
  ASSERT_EQ(oracle_->ks().Digest(), digest) << "oracle diverged\n" << DumpAll();
  std::vector<Replica*> everyone;
  for (auto& r : reps_) everyone.push_back(r.get());
  AckAll(everyone, everyone);
  AckAll(everyone, {oracle_.get()});
  for (size_t i = 0; i < names_.size(); ++i) LocalOp(i);  // touch keys: stable state folds
  DeliverAll();
  const std::string final_digest = reps_[0]->ks().Digest();
  for (auto& r : reps_) ASSERT_EQ(r->ks().Digest(), final_digest) << r->name() << "\n" << DumpAll();
  ASSERT_EQ(oracle_->ks().Digest(), final_digest);

  // The converged (partly folded) state restores into an empty keyspace.
  Replica restored(xr.name(), names_);
  std::vector<v1::Snapshot> again = TakeSnapshot(xr.ks(), [&] { return 1 + Pick(3); });
  ASSERT_TRUE(restored.ks().MergeSnapshot(Ptrs(again)).ok());
  EXPECT_EQ(restored.ks().Digest(), final_digest);
  EXPECT_EQ(Named(restored.ks()), Named(xr.ks()));
}

TEST(SnapshotMerge, FiveHundredSeededHistoriesMergeLikeReplayingTheUnion) {
  uint32_t base = static_cast<uint32_t>(::testing::UnitTest::GetInstance()->random_seed());
  Coverage coverage;
  auto run = [&coverage](uint32_t seed) {
    SCOPED_TRACE(absl::StrCat("history seed=", seed));
    SnapshotHistory(seed, &coverage).Run();
  };
  if (const char* s = std::getenv("SNAPSHOT_HISTORY_SEED")) {
    run(static_cast<uint32_t>(std::strtoul(s, nullptr, 10)));
    return;
  }
  for (uint32_t i = 0, n = static_cast<uint32_t>(test::Scaled(500)); i < n; ++i) {
    uint32_t seed = base * 7919u + i;
    run(seed);
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "replay with SNAPSHOT_HISTORY_SEED=" << seed;
      return;
    }
  }
  // The histories exercise what they are meant to (thresholds far below the usual rates).
  const int n = coverage.histories;
  EXPECT_GT(coverage.merge_changed_state * 4, n) << "merges that changed the target";
  EXPECT_GT(coverage.source_changed_between * 4, n) << "sources that changed during a snapshot";
  EXPECT_GT(coverage.folded_in_snapshot * 20, n) << "snapshots with folded increments";
  EXPECT_GT(coverage.pending_in_snapshot * 4, n) << "snapshots with pending increments";
  EXPECT_GT(coverage.frontier_in_snapshot, 0) << "snapshots with removal frontiers";
}

// ---------------------------------------------------------------------------------------------
// Restore into an empty keyspace.

// Keyspace::AdoptChunk over every chunk in order, as a replay reads them, stopping at the first
// error: the ops the last chunk added, that error, or OutOfRange when the chunks ran out before
// a last one (the keyspace is then still adopting: the caller aborts, as a replay does).
absl::StatusOr<uint64_t> AdoptEach(Keyspace& ks, const std::vector<v1::Snapshot>& chunks) {
  for (const v1::Snapshot& chunk : chunks) {
    absl::StatusOr<uint64_t> r = ks.AdoptChunk(chunk);
    if (!r.ok() || chunk.last()) return r;
  }
  return absl::OutOfRangeError("no last chunk");
}

TEST(SnapshotRestore, EmptyKeyspaceGetsCountersFloatsExpiriesConcurrentWritesAndFrontiers) {
  const std::vector<std::string> names{"a", "b", "c", "d"};
  Replica a("a", names), b("b", names), c("c", names), d("d", names);
  std::vector<Replica*> all{&a, &b, &c, &d};
  Net net;
  // fc: a stable prefix (10 +5 +7) that `a` folds, and a pending +1 on top.
  net.Send(a.Set("fc", "10"), {&b, &c, &d});
  net.Send(b.Incr("fc", 5), {&a, &c, &d});
  net.Send(c.Incr("fc", 7), {&a, &b, &d});
  net.Send(a.Set("f", "1"), {&b, &c, &d});
  AckAll(all, all);
  net.Send(d.Incr("fc", 1), {&a, &b, &c});
  EXPECT_EQ(a.Get("fc"), "23");
  // uc: a counter with no base, pending.  f: float increments, pending.
  net.Send(b.Incr("uc", 3), {&a, &c, &d});
  net.Send(a.IncrFloat("f", "0.1"), {&b, &c, &d});
  net.Send(b.IncrFloat("f", "1e-5"), {&a, &c, &d});
  EXPECT_EQ(a.Get("f"), "1.10001");
  // e: two concurrent EXPIREs survive, the later deadline shows.  p: PERSIST beats an EXPIRE.
  net.Send(SetWithExpiry(a, "e", "x", v1::ExpiryChange::DEADLINE, 5'000'000), {&b, &c, &d});
  v1::Op e1 = b.Expire("e", 6'000'000);
  v1::Op e2 = c.Expire("e", 7'000'000);
  net.Send(a.Set("p", "v"), {&b, &c, &d});
  v1::Op p1 = b.Expire("p", 8'000'000);
  v1::Op p2 = c.Persist("p");
  // mv: two concurrent writes, both kept (LWW at read time).
  v1::Op m1 = a.Set("mv", "from-a");
  v1::Op m2 = b.Set("mv", "from-b");
  net.Send(e1, {&a, &c, &d});
  net.Send(p1, {&a, &c, &d});
  net.Send(m2, {&a, &c, &d});
  net.Send(e2, {&a, &b, &d});
  net.Send(p2, {&a, &b, &d});
  net.Send(m1, {&b, &c, &d});
  EXPECT_EQ(a.Deadline("e"), 7'000'000);
  EXPECT_EQ(a.Deadline("p"), kNoDeadline);
  // rf: b's DEL observed d's write, which `a` has not received: removal knowledge to keep.
  net.Send(a.Set("rf", "a-old"), {&b, &c, &d});
  v1::Op late = net.Send(d.Set("rf", "d-late"), {&b});
  net.Send(b.Del("rf"), {&a, &c});
  EXPECT_EQ(a.Get("rf"), "(nil)");

  std::vector<v1::Snapshot> chunks = TakeSnapshot(a.ks(), [] { return size_t{2}; });
  // The scenario covers what it claims to.
  const v1::KeyState* fc = FindState(chunks, "fc");
  ASSERT_NE(fc, nullptr);
  ASSERT_EQ(fc->writes_size(), 1);
  EXPECT_GT(fc->writes(0).folds(), 0u) << "fc should have folded increments";
  EXPECT_EQ(fc->increments_size(), 1) << "fc should have one pending increment";
  const v1::KeyState* f = FindState(chunks, "f");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->increments_size(), 2);
  EXPECT_FALSE(f->increments(0).float_delta().empty());
  ASSERT_NE(FindState(chunks, "e"), nullptr);
  EXPECT_EQ(FindState(chunks, "e")->expiries_size(), 2);
  ASSERT_NE(FindState(chunks, "mv"), nullptr);
  EXPECT_EQ(FindState(chunks, "mv")->writes_size(), 2);
  ASSERT_NE(FindState(chunks, "rf"), nullptr);
  EXPECT_GT(FindState(chunks, "rf")->value_frontier_size(), 0);

  // Restored as region a itself (AOF compaction), as an empty peer c (state transfer), and as
  // an empty peer c a chunk at a time (a start from a snapshot file: Keyspace::AdoptChunk).
  const std::vector<std::string> keys{"fc", "uc", "f", "e", "p", "mv", "rf"};
  Replica ra("a", names), rc("c", names), rs("c", names);
  for (Replica* r : {&ra, &rc, &rs}) {
    absl::StatusOr<uint64_t> added =
        r == &rs ? AdoptEach(r->ks(), chunks) : r->ks().MergeSnapshot(Ptrs(chunks));
    ASSERT_TRUE(added.ok()) << added.status();
    EXPECT_EQ(*added, Missing({}, Named(a.ks())));
    EXPECT_EQ(r->ks().Digest(), a.ks().Digest()) << Dump(a, keys) << Dump(*r, keys);
    EXPECT_EQ(Named(r->ks()), Named(a.ks()));
    EXPECT_EQ(r->ks().key_count(), a.ks().key_count());
    for (const std::string& k : keys) EXPECT_EQ(r->Get(k), a.Get(k)) << k;
  }

  // Later ops reach the source and both restored keyspaces alike.
  const std::vector<Replica*> watched{&a, &ra, &rc, &rs};
  auto expect_same = [&](const char* when) {
    for (Replica* r : {&ra, &rc, &rs}) {
      EXPECT_EQ(r->ks().Digest(), a.ks().Digest()) << when << "\n"
                                                   << Dump(a, keys) << Dump(*r, keys);
    }
  };
  for (Replica* r : watched) ASSERT_TRUE(r->Receive(late));
  EXPECT_EQ(ra.Get("rf"), "(nil)") << "the DEL in the snapshot observed this write";
  expect_same("after the write the snapshot's DEL observed");
  net.Send(b.Incr("fc", 2), watched);
  net.Send(c.IncrFloat("f", "0.1"), watched);
  net.Send(d.Expire("p", 9'000'000), watched);
  net.Send(d.Set("mv", "from-d"), watched);
  net.Send(c.Incr("uc", -1), watched);
  expect_same("after concurrent ops");
  EXPECT_EQ(ra.Get("f"), "1.20001");
  // `ra` carries on as region a: its ops follow the restored seq.
  v1::Op own = net.Send(ra.Incr("fc", 4), {&a, &rc, &rs});
  EXPECT_EQ(own.seq(), a.ks().applied().Get(a.ks().local()));
  expect_same("after an op of the restored region");
  // Everyone gets everything and acks: stable increments fold everywhere, values stay.
  for (Replica* r : {&b, &c, &d}) net.CatchUp(*r);
  AckAll({&ra, &b, &c, &d}, {&a, &ra, &rc, &rs, &b, &c, &d});
  net.Send(b.Incr("fc", 1), {&a, &ra, &rc, &rs, &c, &d});
  expect_same("after acks");
  for (Replica* r : {&b, &c, &d}) EXPECT_EQ(r->ks().Digest(), a.ks().Digest()) << r->name();
  EXPECT_EQ(ra.Get("fc"), "30");
  EXPECT_EQ(ra.Get("rf"), "(nil)");
}

TEST(SnapshotRestore, EmptyKeyspaceKeepsFlushAllKnowledgeOfUndeliveredOps) {
  const std::vector<std::string> names{"a", "b", "c"};
  Replica a("a", names), b("b", names), c("c", names);
  v1::Op cz = c.Set("z", "from-c");  // observed by b's FLUSHALL, not delivered to a yet
  ASSERT_TRUE(b.Receive(cz));
  v1::Op old = a.Set("old", "x");
  ASSERT_TRUE(b.Receive(old));
  v1::Op concurrent = a.Set("kept", "y");  // b's FLUSHALL does not observe it
  v1::Op flush = b.Flush();
  ASSERT_TRUE(a.Receive(flush));
  EXPECT_EQ(a.Get("old"), "(nil)");
  EXPECT_EQ(a.Get("kept"), "y");

  std::vector<v1::Snapshot> chunks = TakeSnapshot(a.ks(), [] { return size_t{1}; });
  EXPECT_FALSE(chunks.front().flush_frontier().empty()) << "the FLUSHALL observed c's write";
  Replica ra("a", names);
  ASSERT_TRUE(ra.ks().MergeSnapshot(Ptrs(chunks)).ok());
  EXPECT_EQ(ra.ks().Digest(), a.ks().Digest());
  ASSERT_TRUE(a.Receive(cz));
  ASSERT_TRUE(ra.Receive(cz));
  EXPECT_EQ(ra.Get("z"), "(nil)") << "the snapshot's FLUSHALL observed this write";
  EXPECT_EQ(ra.ks().Digest(), a.ks().Digest());
  for (const v1::Op& op : {old, concurrent}) ASSERT_TRUE(c.Receive(op));
  ASSERT_TRUE(c.Receive(flush));
  ASSERT_TRUE(b.Receive(concurrent));
  EXPECT_EQ(ra.ks().Digest(), b.ks().Digest());
  EXPECT_EQ(ra.ks().Digest(), c.ks().Digest());
}

// ---------------------------------------------------------------------------------------------
// Copy-on-write: the snapshot is the state at BeginSnapshot.

TEST(SnapshotCopyOnWrite, ChangesBetweenChunksStayOutOfTheSnapshot) {
  const std::vector<std::string> names{"y", "w"};
  for (size_t max_keys : std::vector<size_t>{1, 2, 3, 100}) {
    for (int start = 0; start < 6; ++start) {
      SCOPED_TRACE(absl::StrCat("max_keys=", max_keys, " first change=", start));
      Replica y("y", names), w("w", names);
      std::vector<v1::Op> log;  // what y applied, in order
      auto local = [&](v1::Op op) { log.push_back(std::move(op)); };
      auto from_w = [&](v1::Op op) {
        ASSERT_TRUE(y.Receive(op));
        log.push_back(std::move(op));
      };
      auto sync_w = [&] {  // w gets everything y has (w's own ops are duplicates)
        for (const v1::Op& op : log) ASSERT_TRUE(w.Receive(op));
      };
      std::vector<std::string> old_keys;
      for (int i = 0; i < 8; ++i) {
        std::string k = absl::StrCat("k", i);
        old_keys.push_back(k);
        switch (i % 4) {
          case 0:
            local(y.Set(k, absl::StrCat("v", i)));
            break;
          case 1:
            local(SetWithExpiry(y, k, "e", v1::ExpiryChange::DEADLINE, 3'000'000 + i));
            break;
          case 2:
            local(y.Set(k, "10"));
            sync_w();
            from_w(w.Incr(k, i));  // pending: nobody acked
            break;
          default:
            local(y.IncrFloat(k, "0.5"));
            local(y.Expire(k, 4'000'000));
            break;
        }
      }
      const size_t ops_at_begin = log.size();
      std::set<std::string> keys_at_begin;
      for (const auto& e : y.ks().entries()) keys_at_begin.insert(std::string(e.key()));
      const NamedVV version_at_begin = Named(y.ks());

      int phase = start;
      std::vector<std::string> new_keys;
      auto change = [&] {
        switch (phase++ % 6) {
          case 0:  // modify every old key (recreates the ones deleted or flushed)
            for (const auto& k : old_keys) local(y.Set(k, "changed"));
            break;
          case 1:  // delete every other key
            for (size_t i = 0; i < old_keys.size(); i += 2) local(y.Del(old_keys[i]));
            break;
          case 2:  // create keys
            for (int i = 0; i < 3; ++i) {
              new_keys.push_back(absl::StrCat("new", phase, "_", i));
              local(y.Set(new_keys.back(), "fresh"));
            }
            break;
          case 3:  // increments, local and remote, and acks that make them fold
            for (const auto& k : old_keys) local(y.Incr(k, 1));
            sync_w();
            from_w(w.Incr(old_keys[2], 100));
            y.ks().ObservePeerApplied("w", ToEntries(w.ks()));
            local(y.Incr(old_keys[2], 1));
            break;
          case 4:
            local(y.Flush());
            break;
          default:  // expiries, and a new counter
            for (const auto& k : old_keys) local(y.Expire(k, 9'000'000));
            new_keys.push_back(absl::StrCat("newc", phase));
            local(y.Incr(new_keys.back(), 5));
            break;
        }
      };
      std::vector<v1::Snapshot> chunks = TakeSnapshot(
          y.ks(), [&] { return max_keys; }, change);
      ASSERT_FALSE(chunks.empty());
      EXPECT_EQ(Named(chunks.front().version()), version_at_begin);
      EXPECT_EQ(SnapshotKeys(chunks), keys_at_begin);

      std::vector<v1::Op> before(log.begin(),
                                 log.begin() + static_cast<std::ptrdiff_t>(ops_at_begin));
      auto at_begin = Replay("y", names, before, version_at_begin);
      Replica restored("y", names);
      ASSERT_TRUE(restored.ks().MergeSnapshot(Ptrs(chunks)).ok());
      EXPECT_EQ(restored.ks().Digest(), at_begin->ks().Digest())
          << Dump(*at_begin, old_keys) << Dump(restored, old_keys);
      for (const auto& k : new_keys) EXPECT_EQ(restored.ks().Find(k), nullptr) << k;
      // The snapshot did not disturb the live keyspace.
      auto now = Replay("y", names, log, Named(y.ks()));
      EXPECT_EQ(y.ks().Digest(), now->ks().Digest());
    }
  }
}

TEST(SnapshotCopyOnWrite, AbortedSnapshotIsReplacedByAFreshOne) {
  const std::vector<std::string> names{"y"};
  Replica y("y", names);
  for (int i = 0; i < 5; ++i) y.Set(absl::StrCat("k", i), "before");
  y.ks().BeginSnapshot();
  v1::Snapshot first;
  y.ks().NextSnapshotChunk(1, &first);
  y.Set("k0", "after");
  y.Set("k1", "after");
  y.ks().AbortSnapshot();
  EXPECT_FALSE(y.ks().snapshot_active());
  y.Set("k2", "after");
  std::vector<v1::Snapshot> chunks = TakeSnapshot(y.ks(), [] { return size_t{2}; });
  Replica restored("y", names);
  ASSERT_TRUE(restored.ks().MergeSnapshot(Ptrs(chunks)).ok());
  EXPECT_EQ(restored.ks().Digest(), y.ks().Digest());
  EXPECT_EQ(restored.Get("k0"), "after");
}

// ---------------------------------------------------------------------------------------------
// Folded counters: two regions that folded the same stable increments in different steps hold
// the same value; merging one's snapshot into the other must not lose it (found by the property
// test, SNAPSHOT_HISTORY_SEED=8354).

TEST(SnapshotMerge, CounterFoldedInDifferentStepsMergesToTheSameValue) {
  const std::vector<std::string> names{"a", "b"};
  Replica a("a", names), b("b", names);
  v1::Op i1 = a.Incr("c", 1);
  ASSERT_TRUE(b.Receive(i1));
  a.ks().ObservePeerApplied("b", ToEntries(b.ks()));
  v1::Op i2 = a.Incr("c", 2);  // a folds +1 alone: a write made by folding
  ASSERT_TRUE(b.Receive(i2));
  a.ks().ObservePeerApplied("b", ToEntries(b.ks()));
  b.ks().ObservePeerApplied("a", ToEntries(a.ks()));
  v1::Op i3 = a.Incr("c", 4);  // a folds +2 into it
  ASSERT_TRUE(b.Receive(i3));  // b folds +1 and +2 in one step
  ASSERT_EQ(a.Get("c"), "7");
  ASSERT_EQ(b.Get("c"), "7");
  ASSERT_EQ(Named(a.ks()), Named(b.ks()));

  const std::vector<v1::Snapshot> of_a = TakeSnapshot(a.ks(), [] { return size_t{1}; });
  const std::vector<v1::Snapshot> of_b = TakeSnapshot(b.ks(), [] { return size_t{1}; });
  for (Replica* to : {&a, &b}) {
    SCOPED_TRACE(absl::StrCat("merged into ", to->name()));
    absl::StatusOr<uint64_t> added = to->ks().MergeSnapshot(Ptrs(to == &a ? of_b : of_a));
    ASSERT_TRUE(added.ok()) << added.status();
    EXPECT_EQ(*added, 0u);
    EXPECT_EQ(to->Get("c"), "7") << "merging a snapshot of the same ops changes nothing";
  }
}

// ---------------------------------------------------------------------------------------------
// Malformed snapshots.

TEST(SnapshotMerge, MalformedSnapshotIsRejectedAndChangesNothing) {
  const std::vector<std::string> names{"a", "b"};
  Replica a("a", names), b("b", names);
  ASSERT_TRUE(b.Receive(a.Set("shared", "1")));
  ASSERT_TRUE(b.Receive(a.IncrFloat("f", "0.5")));  // pending at b: nobody acked
  b.Del("shared");
  b.Incr("c", 3);
  SetWithExpiry(b, "e", "v", v1::ExpiryChange::DEADLINE, 5'000'000);
  b.Set("w", "x");
  b.ZIncr("z", "m", 1.5);  // a pending score increment
  a.Set("mine", "a");      // b has not seen it
  const std::vector<v1::Snapshot> good = TakeSnapshot(b.ks(), [] { return size_t{1}; });
  ASSERT_GE(good.size(), 3u);

  // The last KeyState that has an element of the given kind.
  auto last_with = [](std::vector<v1::Snapshot>* chunks, auto has) -> v1::KeyState* {
    for (auto c = chunks->rbegin(); c != chunks->rend(); ++c) {
      for (int i = c->keys_size() - 1; i >= 0; --i) {
        if (has(c->keys(i))) return c->mutable_keys(i);
      }
    }
    return nullptr;
  };
  auto with_write = [](const v1::KeyState& k) { return k.writes_size() > 0; };
  auto with_inc = [](const v1::KeyState& k) { return k.increments_size() > 0; };
  auto with_exp = [](const v1::KeyState& k) { return k.expiries_size() > 0; };
  auto with_zinc = [](const v1::KeyState& k) {
    return k.has_zset() && k.zset().members_size() > 0 && k.zset().members(0).increments_size() > 0;
  };
  auto with_float = [](const v1::KeyState& k) {
    for (const auto& i : k.increments()) {
      if (!i.float_delta().empty()) return true;
    }
    return false;
  };
  auto set_float = [&](const std::string& text) {
    return [&, text](std::vector<v1::Snapshot>* s) {
      v1::KeyState* k = last_with(s, with_float);
      ASSERT_NE(k, nullptr);
      for (auto& i : *k->mutable_increments()) {
        if (!i.float_delta().empty()) i.set_float_delta(text);
      }
    };
  };
  using Mutation = std::function<void(std::vector<v1::Snapshot>*)>;
  const std::vector<std::pair<std::string, Mutation>> cases{
      {"no chunks", [](auto* s) { s->clear(); }},
      {"first chunk missing", [](auto* s) { s->erase(s->begin()); }},
      {"no chunk marked first", [](auto* s) { s->front().set_first(false); }},
      {"last chunk missing", [](auto* s) { s->pop_back(); }},
      {"no chunk marked last", [](auto* s) { s->back().set_last(false); }},
      {"a key twice in one chunk",
       [&](auto* s) {
         v1::Snapshot* c = &s->back();
         while (c->keys_size() == 0) --c;
         *c->add_keys() = c->keys(0);
       }},
      {"a key twice in different chunks",
       [&](auto* s) {
         const v1::Snapshot* c = &s->front();
         while (c->keys_size() == 0) ++c;
         ASSERT_NE(c, &s->back());
         *s->back().add_keys() = c->keys(0);
       }},
      {"write with empty region",
       [&](auto* s) { last_with(s, with_write)->mutable_writes(0)->set_region(""); }},
      {"write with seq 0",
       [&](auto* s) { last_with(s, with_write)->mutable_writes(0)->set_seq(0); }},
      {"increment with empty region",
       [&](auto* s) { last_with(s, with_inc)->mutable_increments(0)->set_region(""); }},
      {"increment with seq 0",
       [&](auto* s) { last_with(s, with_inc)->mutable_increments(0)->set_seq(0); }},
      {"expiry with empty region",
       [&](auto* s) { last_with(s, with_exp)->mutable_expiries(0)->set_region(""); }},
      {"expiry with seq 0",
       [&](auto* s) { last_with(s, with_exp)->mutable_expiries(0)->set_seq(0); }},
      {"float increment that is not a number", set_float("abc")},
      {"float increment with trailing junk", set_float("0x1p-1junk")},
      {"float increment that overflows", set_float("0x1p+999999")},
      {"float increment that is NaN", set_float("nan")},
      // An increment folded into a write (the write carries its dot) and still pending: merging
      // such a state twice changed it (docs/fuzzing.md, finding 9).
      {"an increment that is also a write",
       [&](auto* s) {
         v1::KeyState* k = last_with(s, with_inc);
         v1::KeyState::Write* w = k->add_writes();
         w->set_region(k->increments(0).region());
         w->set_seq(k->increments(0).seq());
         w->set_hlc(k->increments(0).hlc());
         w->set_value("3");
         w->set_folds(1);
       }},
      {"an increment twice",
       [&](auto* s) {
         v1::KeyState* k = last_with(s, with_inc);
         *k->add_increments() = k->increments(0);
       }},
      {"a score increment that is also a score write",
       [&](auto* s) {
         v1::ZsetState::Member* m = last_with(s, with_zinc)->mutable_zset()->mutable_members(0);
         v1::ZsetState::Write* w = m->add_writes();
         *w->mutable_tag() = m->increments(0).tag();
         w->set_score(1.5);
         w->set_folds(1);
       }},
  };
  const std::string digest = a.ks().Digest();
  const NamedVV applied = Named(a.ks());
  const size_t key_count = a.ks().key_count();
  const size_t entries = a.ks().entries().size();
  for (const auto& [name, mutate] : cases) {
    SCOPED_TRACE(name);
    std::vector<v1::Snapshot> bad = good;
    mutate(&bad);
    if (::testing::Test::HasFatalFailure()) return;
    absl::StatusOr<uint64_t> r = a.ks().MergeSnapshot(Ptrs(bad));
    EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
    EXPECT_EQ(a.ks().Digest(), digest);
    EXPECT_EQ(Named(a.ks()), applied);
    EXPECT_EQ(a.ks().key_count(), key_count);
    EXPECT_EQ(a.ks().entries().size(), entries);
  }
  // The same into a keyspace that holds nothing (MergeSnapshot adopts the keys as they come and
  // must undo them): still nothing.
  for (const auto& [name, mutate] : cases) {
    SCOPED_TRACE("into an empty keyspace: " + name);
    Replica empty("a", names);
    const std::string empty_digest = empty.ks().Digest();
    std::vector<v1::Snapshot> bad = good;
    mutate(&bad);
    if (::testing::Test::HasFatalFailure()) return;
    absl::StatusOr<uint64_t> r = empty.ks().MergeSnapshot(Ptrs(bad));
    EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
    EXPECT_EQ(empty.ks().Digest(), empty_digest);
    EXPECT_EQ(empty.ks().Digest(), empty.ks().DigestByWalk());
    EXPECT_TRUE(Named(empty.ks()).empty());
    EXPECT_EQ(empty.ks().key_count(), 0u);
    EXPECT_EQ(empty.ks().entries().size(), 0u);
    EXPECT_EQ(empty.Get("w"), "(nil)");
    // And it then takes the good one whole.
    ASSERT_TRUE(empty.ks().MergeSnapshot(Ptrs(good)).ok());
    EXPECT_EQ(empty.ks().Digest(), b.ks().Digest());
    EXPECT_EQ(empty.ks().key_count(), b.ks().key_count());
  }
  // The same a chunk at a time (AdoptChunk): refused at the bad chunk, or left unfinished and
  // aborted (a file that ends early), and either way nothing stays.
  for (const auto& [name, mutate] : cases) {
    SCOPED_TRACE("adopted chunk by chunk: " + name);
    Replica empty("a", names);
    const std::string empty_digest = empty.ks().Digest();
    std::vector<v1::Snapshot> bad = good;
    mutate(&bad);
    if (::testing::Test::HasFatalFailure()) return;
    absl::StatusOr<uint64_t> r = AdoptEach(empty.ks(), bad);
    EXPECT_FALSE(r.ok()) << "a malformed snapshot was adopted";
    empty.ks().AbortAdopt();
    EXPECT_FALSE(empty.ks().adopting());
    EXPECT_EQ(empty.ks().Digest(), empty_digest);
    EXPECT_EQ(empty.ks().Digest(), empty.ks().DigestByWalk());
    EXPECT_TRUE(Named(empty.ks()).empty());
    EXPECT_EQ(empty.ks().key_count(), 0u);
    EXPECT_EQ(empty.ks().entries().size(), 0u);
    ASSERT_TRUE(AdoptEach(empty.ks(), good).ok());
    EXPECT_EQ(empty.ks().Digest(), b.ks().Digest());
  }
  {
    // A first chunk into a keyspace that holds something is refused, and changes nothing.
    absl::StatusOr<uint64_t> r = a.ks().AdoptChunk(good.front());
    EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
    EXPECT_EQ(a.ks().Digest(), digest);
  }
  // The well-formed snapshot does change things (so the checks above meant something).
  ASSERT_TRUE(a.ks().MergeSnapshot(Ptrs(good)).ok());
  EXPECT_NE(a.ks().Digest(), digest);
  EXPECT_EQ(a.Get("shared"), "(nil)");
  EXPECT_EQ(a.Get("mine"), "a");
}

// ---------------------------------------------------------------------------------------------
// Observed-remove across a merge.

TEST(SnapshotMerge, DeleteAndFlushInSnapshotKeepConcurrentLocalWrites) {
  const std::vector<std::string> names{"a", "b", "c"};
  Replica a("a", names), b("b", names), c("c", names);
  Net net;
  net.Send(a.Set("k1", "old"), {&b, &c});
  net.Send(a.Set("gone", "old"), {&b, &c});
  net.Send(a.Set("cnt", "40"), {&b, &c});
  net.Send(a.Set("k3", "40"), {&b, &c});
  // Concurrently with a's writes below: b deletes k1, increments and writes; c flushes
  // everything it has seen and writes; b receives c's ops.
  net.Send(b.Del("k1"), {});
  net.Send(b.Incr("cnt", 5), {});
  net.Send(b.Set("k2", "b2"), {});
  net.Send(c.Flush(), {&b});
  net.Send(c.Set("k4", "c4"), {&b});
  net.Send(a.Set("k1", "mine"), {});
  net.Send(a.Incr("cnt", 3), {});
  net.Send(a.Incr("k3", 2), {});
  net.Send(a.Set("a-only", "x"), {});

  const NamedVV a_before = Named(a.ks());
  const NamedVV b_version = Named(b.ks());
  std::vector<v1::Snapshot> chunks = TakeSnapshot(b.ks(), [] { return size_t{2}; });
  absl::StatusOr<uint64_t> added = a.ks().MergeSnapshot(Ptrs(chunks));
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(*added, 5u);  // b:1..3, c:1..2
  EXPECT_EQ(Named(a.ks()), Union(a_before, b_version));
  const std::vector<std::string> keys{"k1", "gone", "cnt", "k3", "k2", "k4", "a-only"};
  EXPECT_EQ(a.Get("k1"), "mine") << "neither the DEL nor the FLUSHALL observed it";
  EXPECT_EQ(a.Get("gone"), "(nil)");
  EXPECT_EQ(a.Get("cnt"), "8") << "the flushed base is gone, both unobserved increments count";
  EXPECT_EQ(a.Get("k3"), "2") << "the flushed base is gone, a's increment survives";
  EXPECT_EQ(a.Get("k2"), "b2");
  EXPECT_EQ(a.Get("k4"), "c4");
  EXPECT_EQ(a.Get("a-only"), "x");
  auto oracle = Replay("a", names, net.log, Union(a_before, b_version));
  EXPECT_EQ(a.ks().Digest(), oracle->ks().Digest()) << Dump(a, keys) << Dump(*oracle, keys);

  for (Replica* r : {&b, &c, oracle.get()}) net.CatchUp(*r);
  for (Replica* r : {&b, &c, oracle.get()}) {
    EXPECT_EQ(r->ks().Digest(), a.ks().Digest()) << Dump(a, keys) << Dump(*r, keys);
  }
}

}  // namespace
}  // namespace activekv::crdt
