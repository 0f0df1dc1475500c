// Numbered databases (docs/crdt-semantics.md, "Databases"): ops name a physical namespace, a
// replicated last-writer-wins mapping (SWAPDB) says which namespace each logical database is.
// Named tests pin each rule; a property test runs seeded random histories (3 replicas; strings,
// counters, sets and sorted sets written in several databases, resolved through each origin's
// mapping; SWAPDB, MOVE, FLUSHDB, FLUSHALL; any delivery order, duplicates, snapshot merges):
// identical digests and contents everywhere, the incremental digest equal to a walk, a merged
// state equal to replaying the union. Replay a failing seed with DB_HISTORY_SEED=<seed>.
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "replica_sim.h"
#include "tests/unit/test_scale.h"

namespace activekv::crdt {
namespace {

using testing::Replica;

// Key ops of logical database `db` at `r`: resolved through r's mapping now, as a region does
// when a command runs.
v1::Op SetIn(Replica& r, uint32_t db, const std::string& k, const std::string& v) {
  v1::Op op;
  MakeSetOp(r.ks(), r.Tick(), k, v, v1::ExpiryChange::PERSIST, 0, &op);
  op.set_db(r.ks().NamespaceOf(db));
  return r.Local(std::move(op));
}
v1::Op DelIn(Replica& r, uint32_t db, const std::string& k) {
  v1::Op op;
  MakeDeleteOp(r.ks(), r.Tick(), k, &op);
  op.set_db(r.ks().NamespaceOf(db));
  return r.Local(std::move(op));
}
v1::Op SAddIn(Replica& r, uint32_t db, const std::string& k, const std::string& m) {
  v1::Op op;
  MakeSetAddOp(r.ks(), r.Tick(), k, &op);
  AddSetElement(m, &op);
  op.set_db(r.ks().NamespaceOf(db));
  return r.Local(std::move(op));
}
v1::Op ZAddIn(Replica& r, uint32_t db, const std::string& k, const std::string& m, double score) {
  v1::Op op;
  MakeZsetAddOp(r.ks(), r.Tick(), k, &op);
  AddZsetElement(m, score, &op);
  op.set_db(r.ks().NamespaceOf(db));
  return r.Local(std::move(op));
}
v1::Op IncrIn(Replica& r, uint32_t db, const std::string& k, int64_t d) {
  v1::Op op;
  MakeIncrementOp(r.ks(), r.Tick(), k, d, &op);
  op.set_db(r.ks().NamespaceOf(db));
  return r.Local(std::move(op));
}
v1::Op FlushDb(Replica& r, uint32_t db) {
  v1::Op op;
  MakeFlushDbOp(r.ks(), r.Tick(), r.ks().NamespaceOf(db), &op);
  return r.Local(std::move(op));
}
v1::Op SwapDb(Replica& r, uint32_t a, uint32_t b) {
  DbMapping m = r.ks().db_mapping();
  std::swap(m[a], m[b]);
  v1::Op op;
  MakeSwapDbOp(r.ks(), r.Tick(), m, &op);
  return r.Local(std::move(op));
}
// MOVE k from database `from` to `to` (a string key), as keys_family.cc emits it: a copy into
// the target and a DEL of the source, one unit.
std::vector<v1::Op> MoveIn(Replica& r, uint32_t from, uint32_t to, const std::string& k) {
  const std::string v = r.Get(k, r.ks().NamespaceOf(from));
  std::vector<v1::Op> unit{SetIn(r, to, k, v), DelIn(r, from, k)};
  unit[0].set_unit_continues(true);
  return unit;
}
// The visible value of `k` in logical database `db` at `r`.
std::string ShowIn(Replica& r, uint32_t db, const std::string& k) {
  return r.Show(k, r.ks().NamespaceOf(db));
}

struct Pair {
  Replica a{"a", {"a", "b"}};
  Replica b{"b", {"a", "b"}};
  void ExpectConverged() {
    EXPECT_EQ(a.ks().Digest(), b.ks().Digest());
    EXPECT_EQ(a.ks().Digest(), a.ks().DigestByWalk());
    EXPECT_EQ(b.ks().Digest(), b.ks().DigestByWalk());
    EXPECT_EQ(a.ks().db_mapping(), b.ks().db_mapping());
  }
};

TEST(Databases, OpsInDifferentDatabasesAreIndependent) {
  Pair p;
  v1::Op s0 = SetIn(p.a, 0, "k", "zero");
  v1::Op s3 = SetIn(p.a, 3, "k", "three");
  EXPECT_EQ(p.a.Get("k", 0), "zero");
  EXPECT_EQ(p.a.Get("k", 3), "three");
  EXPECT_EQ(p.a.ks().key_count(0), 1u);
  EXPECT_EQ(p.a.ks().key_count(3), 1u);
  EXPECT_EQ(p.a.ks().key_count(), 2u);
  v1::Op d0 = DelIn(p.a, 0, "k");  // observes both SETs, but only removes in its namespace
  EXPECT_EQ(p.a.Get("k", 0), "(nil)");
  EXPECT_EQ(p.a.Get("k", 3), "three");
  // The other region, in another order.
  ASSERT_TRUE(p.b.Receive(s0));
  ASSERT_TRUE(p.b.Receive(s3));
  ASSERT_TRUE(p.b.Receive(d0));
  EXPECT_EQ(p.b.Get("k", 3), "three");
  EXPECT_EQ(p.b.Get("k", 0), "(nil)");
  p.ExpectConverged();
}

TEST(Databases, TheSameKeyInTwoDatabasesDigestsDifferently) {
  Replica x("a", {"a"});
  Replica y("a", {"a"});
  SetIn(x, 0, "k", "v");
  SetIn(y, 1, "k", "v");
  EXPECT_NE(x.ks().Digest(), y.ks().Digest());
  // Database 0's per-key digest is the one from before databases existed.
  EXPECT_EQ(KeyDigestSeed("k", 0), KeyDigestSeed("k"));
}

TEST(Databases, AnOpWithoutDbIsOfDatabaseZero) {
  Replica r("a", {"a"});
  r.Set("k", "v");  // an op as every older build wrote it: no db field
  EXPECT_EQ(r.Get("k", 0), "v");
  EXPECT_EQ(ShowIn(r, 0, "k"), "string:v");
}

TEST(Databases, MalformedOpsAreRefused) {
  Replica r("a", {"a"});
  v1::Op op;
  MakeSetOp(r.ks(), r.Tick(), "k", "v", v1::ExpiryChange::PERSIST, 0, &op);
  op.set_db(kDatabases);
  EXPECT_TRUE(absl::IsInvalidArgument(r.ks().Apply(op).status()));
  v1::Op swap;
  DbMapping m = r.ks().db_mapping();
  m[0] = 1;  // 1 twice
  MakeSwapDbOp(r.ks(), r.Tick(), m, &swap);
  EXPECT_TRUE(absl::IsInvalidArgument(r.ks().Apply(swap).status()));
  swap.mutable_swapdb()->mutable_mapping()->RemoveLast();
  EXPECT_TRUE(absl::IsInvalidArgument(r.ks().Apply(swap).status()));
  EXPECT_EQ(r.ks().applied_ops(), 0u);
}

// A: SET k in db 0, then SWAPDB 0 1. B: SETs k2 in db 0 concurrently with the swap. Whatever the
// order, a key follows the namespace it was written into: B's k2 ends in db 1 everywhere.
TEST(Databases, SwapDbConcurrentWithSetConvergesInBothOrders) {
  Pair p;
  v1::Op set_a = SetIn(p.a, 0, "k", "a");
  ASSERT_TRUE(p.b.Receive(set_a));
  v1::Op swap = SwapDb(p.a, 0, 1);
  v1::Op set_b = SetIn(p.b, 0, "k2", "b");  // concurrent: B still maps db 0 to namespace 0
  EXPECT_EQ(ShowIn(p.a, 1, "k"), "string:a");
  EXPECT_EQ(ShowIn(p.a, 0, "k"), "(nil)");
  ASSERT_TRUE(p.a.Receive(set_b));  // A: swap, then the SET
  ASSERT_TRUE(p.b.Receive(swap));   // B: SET, then the swap
  for (Replica* r : {&p.a, &p.b}) {
    EXPECT_EQ(ShowIn(*r, 1, "k"), "string:a") << r->name();
    EXPECT_EQ(ShowIn(*r, 1, "k2"), "string:b") << r->name();
    EXPECT_EQ(ShowIn(*r, 0, "k2"), "(nil)") << r->name();
  }
  p.ExpectConverged();
  // After the swap, B writes db 0 through the new mapping: namespace 1.
  v1::Op later = SetIn(p.b, 0, "k3", "c");
  EXPECT_EQ(later.db(), 1u);
  ASSERT_TRUE(p.a.Receive(later));
  EXPECT_EQ(ShowIn(p.a, 0, "k3"), "string:c");
  p.ExpectConverged();
}

// Both regions SWAPDB 0 1 at once: each op carries the whole mapping, last writer wins, so the
// databases are swapped once, not twice.
TEST(Databases, ConcurrentSwapDbsAreOneSwap) {
  Pair p;
  p.a.wall_ms = 5000;
  p.b.wall_ms = 6000;
  ASSERT_TRUE(p.b.Receive(SetIn(p.a, 0, "k", "zero")));
  v1::Op x = SwapDb(p.a, 0, 1);
  v1::Op y = SwapDb(p.b, 0, 1);
  ASSERT_TRUE(p.a.Receive(y));
  ASSERT_TRUE(p.b.Receive(x));
  p.ExpectConverged();
  EXPECT_EQ(ShowIn(p.a, 1, "k"), "string:zero");
  EXPECT_EQ(p.a.ks().NamespaceOf(0), 1u);
  // Different pairs at once: one of the two swaps wins (B's, its HLC is later), the other is lost.
  v1::Op u = SwapDb(p.a, 2, 3);
  v1::Op v = SwapDb(p.b, 4, 5);
  ASSERT_TRUE(p.a.Receive(v));
  ASSERT_TRUE(p.b.Receive(u));
  p.ExpectConverged();
  EXPECT_EQ(p.a.ks().NamespaceOf(2), 2u);
  EXPECT_EQ(p.a.ks().NamespaceOf(4), 5u);
}

TEST(Databases, SwappingBackDigestsAsNeverSwapped) {
  Replica x("a", {"a"});
  Replica y("a", {"a"});
  SetIn(x, 0, "k", "v");
  SetIn(y, 0, "k", "v");
  const std::string before = y.ks().Digest();
  SwapDb(y, 0, 1);
  EXPECT_NE(y.ks().Digest(), before);
  SwapDb(y, 0, 1);
  EXPECT_EQ(y.ks().Digest(), x.ks().Digest());
}

// MOVE in A (copy to db 1 + DEL in db 0, one unit) concurrent with an INCR of the key in B: the
// DEL removes what A observed; B's increment stays in db 0 (it was not observed), and the moved
// value is in db 1.
TEST(Databases, MoveConcurrentWithAWriteKeepsTheUnobservedWrite) {
  Pair p;
  ASSERT_TRUE(p.b.Receive(SetIn(p.a, 0, "k", "10")));
  std::vector<v1::Op> move = MoveIn(p.a, 0, 1, "k");
  v1::Op inc = IncrIn(p.b, 0, "k", 5);
  for (const v1::Op& op : move) ASSERT_TRUE(p.b.Receive(op));
  ASSERT_TRUE(p.a.Receive(inc));
  for (Replica* r : {&p.a, &p.b}) {
    EXPECT_EQ(ShowIn(*r, 1, "k"), "string:10") << r->name();
    EXPECT_EQ(ShowIn(*r, 0, "k"), "string:5") << r->name();
  }
  p.ExpectConverged();
}

// FLUSHDB removes what it observed of its namespace only; a concurrent SET in the same database
// elsewhere survives, other databases are untouched.
TEST(Databases, FlushDbRemovesOnlyWhatItObservedOfItsDatabase) {
  Pair p;
  ASSERT_TRUE(p.b.Receive(SetIn(p.a, 2, "k", "old")));
  ASSERT_TRUE(p.b.Receive(SetIn(p.a, 3, "k", "other-db")));
  v1::Op flush = FlushDb(p.a, 2);
  v1::Op set = SetIn(p.b, 2, "n", "new");
  ASSERT_TRUE(p.a.Receive(set));
  ASSERT_TRUE(p.b.Receive(flush));
  for (Replica* r : {&p.a, &p.b}) {
    EXPECT_EQ(ShowIn(*r, 2, "k"), "(nil)") << r->name();
    EXPECT_EQ(ShowIn(*r, 2, "n"), "string:new") << r->name();
    EXPECT_EQ(ShowIn(*r, 3, "k"), "string:other-db") << r->name();
  }
  p.ExpectConverged();
}

// A FLUSHDB that arrives before a SET it observed keeps that knowledge (a per-namespace flush
// frontier): the SET is dropped on arrival, a SET of another database is not.
TEST(Databases, FlushDbArrivingBeforeWhatItObservedIsKept) {
  Replica a("a", {"a", "b", "c"});
  Replica b("b", {"a", "b", "c"});
  Replica c("c", {"a", "b", "c"});
  v1::Op s2 = SetIn(a, 2, "k", "v");
  v1::Op s4 = SetIn(a, 4, "k", "v");
  ASSERT_TRUE(b.Receive(s2));
  ASSERT_TRUE(b.Receive(s4));
  v1::Op flush = FlushDb(b, 2);
  ASSERT_TRUE(c.Receive(flush));
  ASSERT_TRUE(c.Receive(s2));
  ASSERT_TRUE(c.Receive(s4));
  EXPECT_EQ(c.Get("k", 2), "(nil)");
  EXPECT_EQ(c.Get("k", 4), "v");
  EXPECT_EQ(c.ks().Digest(), b.ks().Digest());
}

TEST(Databases, FlushAllRemovesEveryDatabase) {
  Pair p;
  ASSERT_TRUE(p.b.Receive(SetIn(p.a, 0, "k", "v")));
  ASSERT_TRUE(p.b.Receive(SetIn(p.a, 9, "k", "v")));
  ASSERT_TRUE(p.a.Receive(p.b.Flush()));
  EXPECT_EQ(p.a.ks().key_count(), 0u);
  p.ExpectConverged();
}

void MergeAll(Keyspace& from, Keyspace& into, size_t keys_per_chunk) {
  from.BeginSnapshot();
  std::vector<v1::Snapshot> chunks;
  while (from.snapshot_active()) {
    chunks.emplace_back();
    from.NextSnapshotChunk(keys_per_chunk, &chunks.back());
  }
  std::vector<const v1::Snapshot*> ptrs;
  for (const auto& c : chunks) ptrs.push_back(&c);
  auto r = into.MergeSnapshot(ptrs);
  ASSERT_TRUE(r.ok()) << r.status();
}

TEST(Databases, SnapshotRoundTripCarriesDatabasesAndTheMapping) {
  Replica a("a", {"a", "b", "c"});
  Replica b("b", {"a", "b", "c"});
  ASSERT_TRUE(a.Receive(SetIn(b, 5, "late", "x")));
  SetIn(a, 0, "k", "zero");
  SetIn(a, 2, "k", "two");
  SAddIn(a, 15, "s", "m");
  SwapDb(a, 2, 7);
  v1::Op flush = FlushDb(a, 8);  // namespace 8: empty, but its frontier is state
  (void)flush;
  Replica restored("c", {"a", "b", "c"});
  MergeAll(a.ks(), restored.ks(), 1);
  EXPECT_EQ(restored.ks().Digest(), a.ks().Digest());
  EXPECT_EQ(restored.ks().db_mapping(), a.ks().db_mapping());
  EXPECT_EQ(ShowIn(restored, 7, "k"), "string:two");
  EXPECT_EQ(ShowIn(restored, 15, "s"), "set:m");
  EXPECT_EQ(restored.ks().key_count(2), 1u);
  EXPECT_EQ(restored.ks().key_count(5), 1u);
  EXPECT_EQ(restored.ks().key_count(), 4u);
  // The snapshot names the database of each key (not database 0).
  a.ks().BeginSnapshot();
  v1::Snapshot chunk;
  a.ks().NextSnapshotChunk(100, &chunk);
  EXPECT_EQ(chunk.db_mapping_size(), static_cast<int>(kDatabases));
  std::map<std::string, uint32_t> dbs;
  for (const v1::KeyState& k : chunk.keys()) dbs[absl::StrCat(k.key(), "@", k.db())] = k.db();
  EXPECT_TRUE(dbs.count("k@0") && dbs.count("k@2") && dbs.count("s@15"));
}

// Copy-on-write across namespaces: ops in every database between the chunks (new keys, changes,
// deletes, a FLUSHDB, a SWAPDB) leave the snapshot exactly the state of BeginSnapshot's moment.
TEST(Databases, ASnapshotTakenWhileEveryDatabaseChangesIsThatOfItsMoment) {
  const std::vector<std::string> names{"a", "b", "c"};
  Replica a("a", names);
  Replica oracle("b", names);
  for (uint32_t db = 0; db < 6; ++db) {
    for (const std::string k : {"k", "j", "x", "y"}) {
      ASSERT_TRUE(oracle.Receive(SetIn(a, db, k, absl::StrCat(k, db))));
    }
  }
  ASSERT_TRUE(oracle.Receive(SwapDb(a, 1, 4)));
  a.ks().BeginSnapshot();
  std::vector<v1::Snapshot> chunks;
  for (int step = 0; a.ks().snapshot_active(); ++step) {
    chunks.emplace_back();
    a.ks().NextSnapshotChunk(1, &chunks.back());
    const uint32_t db = static_cast<uint32_t>(step % 7);
    SetIn(a, db, "k", absl::StrCat("changed", step));
    DelIn(a, (db + 2) % 6, "j");
    SetIn(a, (db + 3) % 8, absl::StrCat("new", step), "v");
    if (step == 5) FlushDb(a, 2);
    if (step == 7) SwapDb(a, 0, 5);
  }
  std::vector<const v1::Snapshot*> ptrs;
  for (const auto& c : chunks) ptrs.push_back(&c);
  Replica restored("c", names);
  auto r = restored.ks().MergeSnapshot(ptrs);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(restored.ks().Digest(), oracle.ks().Digest());
  EXPECT_EQ(restored.ks().db_mapping(), oracle.ks().db_mapping());
  EXPECT_EQ(restored.ks().key_count(), 24u);
}

TEST(Databases, StateMergeOfTheMappingIsLastWriterWins) {
  Pair p;
  p.a.wall_ms = 5000;
  p.b.wall_ms = 6000;
  v1::Op x = SwapDb(p.a, 0, 1);
  v1::Op y = SwapDb(p.b, 2, 3);  // later: wins
  MergeAll(p.b.ks(), p.a.ks(), 2);
  EXPECT_EQ(p.a.ks().db_mapping(), p.b.ks().db_mapping());
  EXPECT_EQ(p.a.ks().NamespaceOf(0), 0u);
  EXPECT_EQ(p.a.ks().NamespaceOf(2), 3u);
  // The other way: b keeps its own, later one.
  MergeAll(p.a.ks(), p.b.ks(), 2);
  EXPECT_EQ(p.b.ks().NamespaceOf(2), 3u);
  ASSERT_TRUE(p.b.Receive(x));  // a duplicate now: covered by the merge
  p.ExpectConverged();
  (void)y;
}

// --- Property test ---

struct History {
  std::vector<std::unique_ptr<Replica>> replicas;
  std::vector<std::vector<v1::Op>> units;  // every unit made, in creation order
  std::vector<std::vector<size_t>> inbox;  // per replica: units not applied yet
};

bool Delivered(Keyspace& ks, const v1::Op& op) {
  RegionId id;
  return ks.regions().Find(op.origin(), &id) && op.seq() <= ks.applied().Get(id);
}

// Every logical database's visible contents, through `r`'s mapping.
std::string Contents(Replica& r, const std::vector<std::string>& keys) {
  std::string out;
  for (uint32_t db = 0; db < 5; ++db) {
    for (const std::string& k : keys) {
      const std::string v = ShowIn(r, db, k);
      if (v != "(nil)") absl::StrAppend(&out, db, ":", k, "=", v, " ");
    }
  }
  return out;
}

// What the histories exercised (the test checks they are not vacuous).
struct Coverage {
  int swapped_at_end = 0;
  int moves = 0;
  int merges = 0;
};

void RunDbHistory(uint32_t seed, Coverage* cov) {
  SCOPED_TRACE(absl::StrCat("history seed=", seed, " (DB_HISTORY_SEED)"));
  std::mt19937 rng(seed);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  const std::vector<std::string> names{"us", "eu", "ap"};
  History h;
  for (const auto& n : names) h.replicas.push_back(std::make_unique<Replica>(n, names));
  h.inbox.resize(names.size());
  const std::vector<std::string> keys{"k", "j", "s", "z"};

  // Delivers a random part of a replica's inbox, whole units, in random order (an origin's units
  // in seq order: a unit refused for a gap stays for later).
  auto deliver_some = [&](size_t to) {
    auto& box = h.inbox[to];
    std::shuffle(box.begin(), box.end(), rng);
    std::vector<size_t> keep;
    for (size_t u : box) {
      const std::vector<v1::Op>& unit = h.units[u];
      Replica& r = *h.replicas[to];
      if (pick(3) == 0 || Delivered(r.ks(), unit.back())) {
        if (!Delivered(r.ks(), unit.back())) keep.push_back(u);
        continue;
      }
      RegionId id;
      const uint64_t have =
          r.ks().regions().Find(unit[0].origin(), &id) ? r.ks().applied().Get(id) : 0;
      if (unit[0].seq() != have + 1) {
        keep.push_back(u);
        continue;
      }
      for (const v1::Op& op : unit) ASSERT_TRUE(r.Receive(op));
      if (pick(8) == 0) {
        for (const v1::Op& op : unit) ASSERT_TRUE(r.Receive(op));  // duplicates: ignored
      }
    }
    box = keep;
  };

  const int steps = 80 + static_cast<int>(pick(80));
  for (int step = 0; step < steps; ++step) {
    const size_t ri = pick(names.size());
    Replica& r = *h.replicas[ri];
    r.wall_ms += static_cast<int64_t>(pick(3));
    const uint32_t db = static_cast<uint32_t>(pick(4));
    const std::string& key = keys[pick(keys.size())];
    std::vector<v1::Op> unit;
    switch (pick(11)) {
      case 0:
      case 1:
      case 2:
        unit.push_back(SetIn(r, db, key, absl::StrCat(ri, "-", step)));
        break;
      case 3:
        unit.push_back(DelIn(r, db, key));
        break;
      case 4:
        unit.push_back(IncrIn(r, db, "c", 1));
        break;
      case 5:
        if (pick(2) == 0) {
          unit.push_back(SAddIn(r, db, "s", absl::StrCat(pick(4))));
        } else {
          unit.push_back(ZAddIn(r, db, "z", absl::StrCat(pick(4)), static_cast<double>(pick(9))));
        }
        break;
      case 6:
      case 7:
        unit.push_back(SwapDb(r, db, static_cast<uint32_t>(pick(4))));
        break;
      case 8: {
        const uint32_t to = static_cast<uint32_t>(pick(4));
        if (to == db || r.Get("k", r.ks().NamespaceOf(db)) == "(nil)" ||
            r.Show("k", r.ks().NamespaceOf(to)) != "(nil)") {
          continue;
        }
        unit = MoveIn(r, db, to, "k");
        ++cov->moves;
        break;
      }
      case 9:
        unit.push_back(FlushDb(r, db));
        break;
      default:
        if (pick(4) != 0) continue;
        unit.push_back(r.Flush());
        break;
    }
    h.units.push_back(unit);
    for (size_t i = 0; i < names.size(); ++i) {
      if (i != ri) h.inbox[i].push_back(h.units.size() - 1);
    }
    if (pick(5) == 0) deliver_some(pick(names.size()));
    if (::testing::Test::HasFatalFailure()) return;
    if (pick(25) == 0) {
      // A state merge: y takes x's snapshot; it must equal a replica that replayed both.
      const size_t x = pick(names.size()), y = pick(names.size());
      if (x == y) continue;
      Keyspace& kx = h.replicas[x]->ks();
      Keyspace& ky = h.replicas[y]->ks();
      Replica replay(names[y], names);
      for (const auto& u : h.units) {
        if (Delivered(kx, u.back()) || Delivered(ky, u.back())) {
          for (const v1::Op& op : u) ASSERT_TRUE(replay.Receive(op));
        }
      }
      MergeAll(kx, ky, 1 + pick(3));
      ++cov->merges;
      if (::testing::Test::HasFatalFailure()) return;
      ASSERT_EQ(ky.Digest(), ky.DigestByWalk()) << "step " << step;
      ASSERT_EQ(ky.Digest(), replay.ks().Digest()) << "merge of " << x << " into " << y;
      ASSERT_EQ(Contents(*h.replicas[y], keys), Contents(replay, keys));
      // Units the merge covered are duplicates at y from now on.
    }
  }
  for (size_t i = 0; i < names.size(); ++i) {
    for (size_t guard = 0; !h.inbox[i].empty() && guard < 4 * h.units.size() + 10; ++guard) {
      deliver_some(i);
      if (::testing::Test::HasFatalFailure()) return;
    }
    ASSERT_TRUE(h.inbox[i].empty()) << names[i] << " never got every unit";
  }
  Replica& first = *h.replicas[0];
  for (auto& r : h.replicas) {
    ASSERT_EQ(r->ks().Digest(), r->ks().DigestByWalk()) << r->name();
    ASSERT_EQ(r->ks().db_mapping(), first.ks().db_mapping()) << r->name();
    ASSERT_EQ(Contents(*r, keys), Contents(first, keys)) << r->name();
    ASSERT_EQ(r->ks().Digest(), first.ks().Digest()) << r->name() << " diverged";
  }
  if (first.ks().NamespaceOf(0) != 0 || first.ks().NamespaceOf(1) != 1) ++cov->swapped_at_end;
}

TEST(DatabasesConvergence, SwapDbMoveAndFlushDbWithConcurrentWritesConverge) {
  Coverage cov;
  if (const char* s = std::getenv("DB_HISTORY_SEED")) {
    RunDbHistory(static_cast<uint32_t>(std::strtoul(s, nullptr, 10)), &cov);
    return;
  }
  std::mt19937 seeds(static_cast<uint32_t>(::testing::UnitTest::GetInstance()->random_seed()));
  for (int i = 0, n = test::Scaled(500); i < n && !HasFatalFailure(); ++i)
    RunDbHistory(seeds(), &cov);
  // The paths the histories must have walked (in proportion when scaled down).
  EXPECT_GT(cov.swapped_at_end, test::Scaled(100));
  EXPECT_GT(cov.moves, test::Scaled(500));
  EXPECT_GT(cov.merges, test::Scaled(500));
}

}  // namespace
}  // namespace activekv::crdt
