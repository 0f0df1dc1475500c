// Hashes, sets and sorted sets across replicas: the rules of docs/crdt-semantics.md ("Hashes",
// "Sets", "Sorted sets", "Type conflicts"), each pinned by a named test, and a property test over
// seeded random concurrent histories (3 replicas, any delivery order, duplicates, acks and folding,
// snapshot merges at random points): identical digests, the incremental digest equal to a full
// walk, and a merged state equal to the one replaying the union of the ops. Failing seeds are
// printed (replay with CRDT_HISTORY_SEED=<seed>; the lists-only suite with
// LIST_HISTORY_SEED=<seed>).
#include <cstdlib>
#include <iostream>
#include <limits>
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
using testing::ToEntries;

struct Trio {
  Trio() {
    for (const auto& n : names) r.push_back(std::make_unique<Replica>(n, names));
  }
  Replica& a() { return *r[0]; }
  Replica& b() { return *r[1]; }
  Replica& c() { return *r[2]; }
  // Delivers `op` to every replica except its origin.
  void Send(const v1::Op& op) {
    for (auto& rep : r) {
      if (rep->name() != op.origin()) {
        EXPECT_TRUE(rep->Receive(op));
      }
    }
  }
  void ExpectConverged(const std::string& key, const std::string& want) {
    for (auto& rep : r) EXPECT_EQ(rep->Show(key), want) << rep->name();
    for (auto& rep : r) EXPECT_EQ(rep->ks().Digest(), r[0]->ks().Digest()) << rep->name();
    for (auto& rep : r) EXPECT_EQ(rep->ks().Digest(), rep->ks().DigestByWalk()) << rep->name();
  }
  std::vector<std::string> names{"a", "b", "c"};
  std::vector<std::unique_ptr<Replica>> r;
};

TEST(Sets, SremConcurrentWithSaddOfTheSameMemberKeepsIt) {
  Trio t;
  t.Send(t.a().SAdd("s", {"m", "x"}));
  v1::Op rem = t.a().SRem("s", {"m"});
  v1::Op add = t.b().SAdd("s", {"m"});  // concurrent: b's new instance was not observed
  t.Send(rem);
  t.Send(add);
  t.ExpectConverged("s", "set:m,x");
}

TEST(Sets, SremRemovesWhatItObserved) {
  Trio t;
  t.Send(t.a().SAdd("s", {"m", "x"}));
  t.Send(t.b().SRem("s", {"m", "x"}));
  t.ExpectConverged("s", "(nil)");
}

TEST(Sets, ConcurrentAddsOfDistinctMembersAllSurvive) {
  Trio t;
  v1::Op x = t.a().SAdd("s", {"1"});
  v1::Op y = t.b().SAdd("s", {"2"});
  v1::Op z = t.c().SAdd("s", {"3", "1"});
  t.Send(z);
  t.Send(x);
  t.Send(y);
  t.ExpectConverged("s", "set:1,2,3");
}

TEST(Sets, RemovalArrivingBeforeTheAddItObservedIsKept) {
  // c learns of a's SADD only after b's SREM, which observed it: no causal delivery.
  Trio t;
  v1::Op add = t.a().SAdd("s", {"m"});
  ASSERT_TRUE(t.b().Receive(add));
  v1::Op rem = t.b().SRem("s", {"m"});
  v1::Op other = t.a().SAdd("s", {"n"});  // another member of the same key, from the same op order
  ASSERT_TRUE(t.c().Receive(rem));
  ASSERT_TRUE(t.c().Receive(add));
  EXPECT_EQ(t.c().Show("s"), "(nil)");
  ASSERT_TRUE(t.c().Receive(other));
  ASSERT_TRUE(t.b().Receive(other));
  ASSERT_TRUE(t.a().Receive(rem));
  t.ExpectConverged("s", "set:n");
}

TEST(Hashes, ConcurrentHincrbyAllCount) {
  Trio t;
  t.Send(t.a().HSet("h", {{"f", "10"}}));
  v1::Op x = t.a().HIncr("h", "f", 1);
  v1::Op y = t.b().HIncr("h", "f", 1);
  t.Send(y);
  t.Send(x);
  t.ExpectConverged("h", "hash:f=12");
}

TEST(Hashes, ConcurrentHsetIsLastWriterWins) {
  Trio t;
  t.a().wall_ms = 5000;
  t.b().wall_ms = 6000;
  v1::Op x = t.a().HSet("h", {{"f", "from-a"}});
  v1::Op y = t.b().HSet("h", {{"f", "from-b"}, {"g", "1"}});
  t.Send(y);
  t.Send(x);
  t.ExpectConverged("h", "hash:f=from-b,g=1");
}

TEST(Hashes, HdelConcurrentWithHincrbyKeepsTheIncrement) {
  Trio t;
  t.Send(t.a().HSet("h", {{"f", "7"}, {"g", "x"}}));
  v1::Op del = t.a().HDel("h", {"f"});
  v1::Op inc = t.b().HIncr("h", "f", 5);
  t.Send(inc);
  t.Send(del);
  t.ExpectConverged("h", "hash:f=5,g=x");
}

TEST(Hashes, DelConcurrentWithHsetKeepsTheNewField) {
  Trio t;
  t.Send(t.a().HSet("h", {{"f1", "v"}}));
  v1::Op del = t.a().Del("h");
  v1::Op set = t.b().HSet("h", {{"f2", "w"}});
  t.Send(del);
  t.Send(set);
  t.ExpectConverged("h", "hash:f2=w");
}

TEST(Zsets, ConcurrentZincrbyAllCount) {
  Trio t;
  t.Send(t.a().ZAdd("z", {{"m", 10}}));
  v1::Op x = t.a().ZIncr("z", "m", 1.5);
  v1::Op y = t.b().ZIncr("z", "m", 2);
  t.Send(y);
  t.Send(x);
  t.ExpectConverged("z", "zset:m=13.5");
}

TEST(Zsets, ConcurrentZaddIsLastWriterWinsAndIncrementsCountOnTop) {
  Trio t;
  t.a().wall_ms = 5000;
  t.b().wall_ms = 6000;
  v1::Op x = t.a().ZAdd("z", {{"m", 1}, {"n", 7}});
  v1::Op y = t.b().ZAdd("z", {{"m", 2}});
  v1::Op inc = t.c().ZIncr("z", "m", 10);  // concurrent with both writes
  t.Send(inc);
  t.Send(y);
  t.Send(x);
  t.ExpectConverged("z", "zset:m=12,n=7");
}

TEST(Zsets, ZremConcurrentWithZincrbyKeepsTheIncrement) {
  Trio t;
  t.Send(t.a().ZAdd("z", {{"m", 5}, {"n", 1}}));
  v1::Op rem = t.a().ZRem("z", {"m"});
  v1::Op inc = t.b().ZIncr("z", "m", 3);
  t.Send(inc);
  t.Send(rem);
  // The write (5) was observed and removed; the increment was not: m = 0 + 3.
  t.ExpectConverged("z", "zset:m=3,n=1");
}

TEST(Zsets, ZremConcurrentWithZaddOfTheSameMemberKeepsIt) {
  Trio t;
  t.Send(t.a().ZAdd("z", {{"m", 5}}));
  v1::Op rem = t.a().ZRem("z", {"m"});
  v1::Op add = t.b().ZAdd("z", {{"m", 6}});
  t.Send(rem);
  t.Send(add);
  t.ExpectConverged("z", "zset:m=6");
}

TEST(Zsets, OppositeInfiniteIncrementsNeverMakeNaN) {
  Trio t;
  t.Send(t.a().ZAdd("z", {{"m", 1}}));
  v1::Op x = t.a().ZIncr("z", "m", std::numeric_limits<double>::infinity());
  v1::Op y = t.b().ZIncr("z", "m", -std::numeric_limits<double>::infinity());
  t.Send(x);
  t.Send(y);
  // Applied in (HLC, region) order, the step that would give NaN is skipped, everywhere alike.
  const std::string shown = t.a().Show("z");
  EXPECT_TRUE(shown == "zset:m=inf" || shown == "zset:m=-inf") << shown;
  t.ExpectConverged("z", shown);
}

TEST(Zsets, DelConcurrentWithZaddKeepsTheNewMember) {
  Trio t;
  t.Send(t.a().ZAdd("z", {{"old", 1}}));
  v1::Op del = t.a().Del("z");
  v1::Op add = t.b().ZAdd("z", {{"new", 2}});
  t.Send(add);
  t.Send(del);
  t.ExpectConverged("z", "zset:new=2");
}

TEST(TypeConflicts, LatestTypeWinsAndADelObservingBothClearsTheKey) {
  Trio t;
  t.a().wall_ms = 5000;
  t.b().wall_ms = 6000;
  v1::Op str = t.a().Set("k", "text");
  v1::Op set = t.b().SAdd("k", {"m"});  // later HLC: the set type wins
  t.Send(str);
  t.Send(set);
  t.ExpectConverged("k", "set:m");
  // The string is still held (a DEL that observes it removes it); a DEL of c removes both.
  t.Send(t.c().Del("k"));
  t.ExpectConverged("k", "(nil)");
}

TEST(TypeConflicts, SetOverAHashReplacesWhatItObserved) {
  Trio t;
  t.Send(t.a().HSet("k", {{"f", "1"}}));
  v1::Op set = t.a().Set("k", "v");
  v1::Op hset = t.b().HSet("k", {{"g", "2"}});  // concurrent with the SET, earlier HLC
  t.b().wall_ms = 0;
  t.Send(hset);
  t.Send(set);
  // Both survive; the string (a's SET, the later op) is shown.
  EXPECT_EQ(t.a().Show("k").substr(0, 7), t.b().Show("k").substr(0, 7));
  t.ExpectConverged("k", t.a().Show("k"));
}

TEST(Lists, ConcurrentPushesAllSurviveInOneOrder) {
  Trio t;
  t.Send(t.a().Push("l", {"base"}, false));
  t.a().wall_ms += 5;
  t.b().wall_ms += 7;
  v1::Op x = t.a().Push("l", {"x"}, false);
  v1::Op y = t.b().Push("l", {"y"}, false);
  v1::Op z = t.c().Push("l", {"z"}, true);
  t.Send(y);
  t.Send(z);
  t.Send(x);
  // RPUSHes order by their timestamps: b's is later.
  t.ExpectConverged("l", "list:z,base,x,y");
}

TEST(Lists, AMultiElementPushStaysContiguous) {
  Trio t;
  v1::Op x = t.a().Push("l", {"1", "2", "3"}, false);
  v1::Op y = t.b().Push("l", {"x", "y", "z"}, false);
  t.Send(x);
  t.Send(y);
  const std::string got = t.a().Show("l");
  EXPECT_TRUE(got == "list:1,2,3,x,y,z" || got == "list:x,y,z,1,2,3") << got;
  t.ExpectConverged("l", got);
  v1::Op l = t.c().Push("l", {"a", "b"}, true);  // LPUSH a b: b a ...
  t.Send(l);
  t.ExpectConverged("l", "list:b,a," + got.substr(5));
}

TEST(Lists, ConcurrentPopsOfTheSameElementBothReturnIt) {
  Trio t;
  t.Send(t.a().Push("l", {"j1", "j2", "j3"}, false));
  // Both regions pop the head before hearing of the other's pop: both got j1 ...
  EXPECT_EQ(t.a().List("l")->at(0).value.view(), "j1");
  EXPECT_EQ(t.b().List("l")->at(0).value.view(), "j1");
  v1::Op pa = t.a().RemoveAt("l", {0});
  v1::Op pb = t.b().RemoveAt("l", {0});
  t.Send(pa);
  t.Send(pb);
  // ... and j1 is removed once: j2 stays.
  t.ExpectConverged("l", "list:j2,j3");
}

TEST(Lists, APopConcurrentWithAPushKeepsThePushedElement) {
  Trio t;
  t.Send(t.a().Push("l", {"a"}, false));
  v1::Op pop = t.a().RemoveAt("l", {0});
  v1::Op push = t.b().Push("l", {"b"}, true);
  t.Send(push);
  t.Send(pop);
  t.ExpectConverged("l", "list:b");
}

TEST(Lists, LsetIsLastWriterWinsAndAnLsetOfAPoppedElementIsLost) {
  Trio t;
  t.Send(t.a().Push("l", {"a", "b"}, false));
  v1::Op s1 = t.a().SetAt("l", 0, "A1");
  t.b().wall_ms += 10;
  v1::Op s2 = t.b().SetAt("l", 0, "A2");  // later
  v1::Op pop = t.c().RemoveAt("l", {1});
  v1::Op set_b = t.a().SetAt("l", 1, "B");  // concurrent with c's pop of b
  t.Send(s2);
  t.Send(s1);
  t.Send(set_b);
  t.Send(pop);
  t.ExpectConverged("l", "list:A2");
}

TEST(Lists, ARemovalArrivingBeforeItsInsertIsKept) {
  Trio t;
  v1::Op push = t.a().Push("l", {"x", "y"}, false);
  ASSERT_TRUE(t.b().Receive(push));
  v1::Op pop = t.b().RemoveAt("l", {0});
  v1::Op set = t.b().SetAt("l", 0, "Y");  // y is at index 0 after the pop
  // c hears of b's pop and LSET before a's push (delivery is not causal).
  ASSERT_TRUE(t.c().Receive(pop));
  ASSERT_TRUE(t.c().Receive(set));
  EXPECT_EQ(t.c().Show("l"), "(nil)");
  ASSERT_TRUE(t.c().Receive(push));
  EXPECT_EQ(t.c().Show("l"), "list:Y");
  EXPECT_EQ(t.c().List("l")->pending_size(), 0u);
  ASSERT_TRUE(t.a().Receive(pop));
  ASSERT_TRUE(t.a().Receive(set));
  t.ExpectConverged("l", "list:Y");
}

TEST(Lists, DelConcurrentWithAPushKeepsTheNewElement) {
  Trio t;
  t.Send(t.a().Push("l", {"old"}, false));
  v1::Op del = t.a().Del("l");
  v1::Op push = t.b().Push("l", {"new"}, false);
  t.Send(push);
  t.Send(del);
  t.ExpectConverged("l", "list:new");
}

TEST(Lists, LinsertFindsRoomBetweenAnyTwoNeighbours) {
  // Inserts at one spot many times (halving a level until it fills, then descending), between
  // elements of one multi-element push (which share a digit), and at both ends; a model vector
  // gives the expected order.
  Trio t;
  std::vector<std::string> model{"a", "b", "c"};
  t.Send(t.a().Push("l", model, false));
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    size_t at = i < 100 ? 1 : i < 200 ? model.size() - 1 : rng() % (model.size() + 1);
    Replica& r = *t.r[i % 3];
    const std::string v = absl::StrCat("i", i);
    t.Send(r.InsertAt("l", at, v));
    model.insert(model.begin() + static_cast<std::ptrdiff_t>(at), v);
  }
  std::string want = "list:";
  for (size_t i = 0; i < model.size(); ++i) want += (i ? "," : "") + model[i];
  t.ExpectConverged("l", want);
}

// --- Property test ---

struct History {
  std::vector<std::unique_ptr<Replica>> replicas;
  std::vector<v1::Op> log;                      // every op created, in creation order
  std::vector<std::vector<size_t>> inbox;       // per replica: indexes into log not yet applied
  std::map<std::string, int64_t> counter_sums;  // field of "hc" -> sum of its HINCRBYs
  std::map<std::string, int64_t> score_sums;    // member of "zc" -> sum of its ZINCRBYs
};

// Snapshot of `from`, merged into `into`.
void MergeSnapshotOf(Keyspace& from, Keyspace& into, std::mt19937& rng) {
  from.BeginSnapshot();
  std::vector<v1::Snapshot> chunks;
  while (from.snapshot_active()) {
    chunks.emplace_back();
    from.NextSnapshotChunk(1 + rng() % 3, &chunks.back());
  }
  std::vector<const v1::Snapshot*> ptrs;
  for (const auto& c : chunks) ptrs.push_back(&c);
  auto r = into.MergeSnapshot(ptrs);
  ASSERT_TRUE(r.ok()) << r.status();
}

// `lists_only`: list ops (and DEL / SET of the shared key "k") only, with more snapshot merges:
// the list CRDT's own history suite.
void RunHistory(uint32_t seed, bool lists_only = false) {
  SCOPED_TRACE(absl::StrCat("history seed=", seed));
  std::mt19937 rng(seed);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  const std::vector<std::string> names{"us", "eu", "ap"};
  History h;
  for (const auto& n : names) h.replicas.push_back(std::make_unique<Replica>(n, names));
  h.inbox.resize(names.size());
  const std::vector<std::string> keys =
      lists_only ? std::vector<std::string>{"l1", "l2", "k"}
                 : std::vector<std::string>{"s1", "s2", "h1", "h2", "z1", "z2", "l1", "l2", "k"};
  const std::vector<std::string> elems{"a", "b", "c", "1", "2"};

  auto deliver_some = [&](size_t to) {
    auto& box = h.inbox[to];
    std::shuffle(box.begin(), box.end(), rng);
    std::vector<size_t> keep;
    for (size_t idx : box) {
      if (pick(3) == 0 || !h.replicas[to]->Receive(h.log[idx])) {
        keep.push_back(idx);
      } else if (pick(8) == 0) {
        EXPECT_TRUE(h.replicas[to]->Receive(h.log[idx]));  // duplicate: ignored
      }
    }
    box = keep;
  };
  auto some = [&](size_t max) {
    std::vector<std::string> out;
    for (size_t i = 0, n = 1 + pick(max); i < n; ++i) out.push_back(elems[pick(elems.size())]);
    return out;
  };

  const int steps = 120 + static_cast<int>(pick(120));
  for (int step = 0; step < steps; ++step) {
    const size_t r = pick(names.size());
    Replica& rep = *h.replicas[r];
    rep.wall_ms += static_cast<int64_t>(pick(3));
    const std::string& key = keys[pick(keys.size())];
    v1::Op op;
    const ListValue* list = rep.List(key);
    const size_t len = list == nullptr ? 0 : list->size();
    switch (lists_only ? (pick(10) == 0 ? 9 : 16 + pick(6)) : pick(22)) {
      case 16:
      case 17:
        op = rep.Push(key, some(3), pick(2) == 0);
        break;
      case 18:  // a pop of 1-2 elements from either end
        if (len == 0) {
          op = rep.Push(key, {absl::StrCat("p", step)}, false);
        } else if (pick(2) == 0) {
          op = len > 1 && pick(2) == 0 ? rep.RemoveAt(key, {0, 1}) : rep.RemoveAt(key, {0});
        } else {
          op = len > 1 && pick(2) == 0 ? rep.RemoveAt(key, {len - 1, len - 2})
                                       : rep.RemoveAt(key, {len - 1});
        }
        break;
      case 19:  // LSET
        op = len == 0 ? rep.Push(key, some(1), true)
                      : rep.SetAt(key, pick(len), absl::StrCat("set", step));
        break;
      case 20:  // LINSERT anywhere
        op = rep.InsertAt(key, pick(len + 1), absl::StrCat("ins", step));
        break;
      case 21: {  // LREM / LTRIM: some elements anywhere
        if (len == 0) {
          op = rep.Push(key, some(2), false);
          break;
        }
        std::vector<size_t> idx;
        for (size_t i = 0; i < len; ++i) {
          if (pick(3) == 0) idx.push_back(i);
        }
        if (idx.empty()) idx.push_back(pick(len));
        op = rep.RemoveAt(key, idx);
        break;
      }
      case 12:
      case 13: {
        std::vector<std::pair<std::string, double>> ms;
        for (const auto& m : some(3)) ms.emplace_back(m, static_cast<double>(pick(7)) - 3);
        op = rep.ZAdd(key, ms);
        break;
      }
      case 14:
        op = pick(2) == 0 ? rep.ZRem(key, some(2))
                          : rep.ZIncr(key, elems[pick(elems.size())], static_cast<double>(pick(5)));
        break;
      case 15: {
        const std::string m = elems[pick(elems.size())];
        const int64_t d = static_cast<int64_t>(pick(9)) - 4;
        op = rep.ZIncr("zc", m, static_cast<double>(d));
        h.score_sums[m] += d;
        break;
      }
      case 0:
      case 1:
      case 2:
        op = rep.SAdd(key, some(3));
        break;
      case 3:
      case 4:
        op = rep.SRem(key, some(3));
        break;
      case 5:
      case 6: {
        std::vector<std::pair<std::string, std::string>> fv;
        for (const auto& f : some(2)) fv.emplace_back(f, absl::StrCat(pick(100)));
        op = rep.HSet(key, fv);
        break;
      }
      case 7:
        op = rep.HDel(key, some(2));
        break;
      case 8: {
        const std::string f = elems[pick(elems.size())];
        const int64_t d = static_cast<int64_t>(pick(9)) - 4;
        op = rep.HIncr("hc", f, d);
        h.counter_sums[f] += d;
        break;
      }
      case 9:
        op = pick(4) == 0 ? rep.Del(key) : rep.Set(key, "str");
        break;
      case 10:
        op = rep.HIncr(key, elems[pick(elems.size())], 1);
        break;
      default:
        op = rep.SAdd(key, {elems[pick(elems.size())]});
        break;
    }
    h.log.push_back(op);
    for (size_t i = 0; i < names.size(); ++i) {
      if (i != r) h.inbox[i].push_back(h.log.size() - 1);
    }
    if (pick(6) == 0) deliver_some(pick(names.size()));
    if (std::getenv("CRDT_CHECK_EVERY_STEP")) {
      for (size_t y = 0; y < names.size(); ++y) {
        Keyspace& ky = h.replicas[y]->ks();
        Replica replay(names[y], names);
        for (const v1::Op& o : h.log) {
          RegionId id;
          if (ky.regions().Find(o.origin(), &id) && o.seq() <= ky.applied().Get(id)) {
            ASSERT_TRUE(replay.Receive(o));
          }
        }
        for (const std::string k :
             {"s1", "s2", "h1", "h2", "z1", "z2", "l1", "l2", "k", "hc", "zc"}) {
          ASSERT_EQ(h.replicas[y]->Show(k), replay.Show(k))
              << "step " << step << " replica " << names[y] << " key " << k << [&] {
                   std::string out = "\nops on the key:\n";
                   for (const v1::Op& o : h.log) {
                     if (o.key() != k) continue;
                     std::string d = o.ShortDebugString();
                     absl::StrAppend(&out, d.substr(0, 400), "\n");
                   }
                   v1::KeyState st;
                   if (const Entry* e = ky.Find(k)) e->ToState(ky.regions(), &st);
                   absl::StrAppend(&out, "state: ", st.ShortDebugString(), "\napplied ",
                                   ky.applied().ToString(ky.regions()), " stable ",
                                   ky.stable().ToString(ky.regions()));
                   return out;
                 }();
        }
      }
    }
    if (pick(10) == 0) {  // an ack: what one replica has applied, to another
      size_t from = pick(names.size()), to = pick(names.size());
      if (from != to)
        h.replicas[to]->ks().ObservePeerApplied(names[from], ToEntries(h.replicas[from]->ks()));
    }
    if (pick(lists_only ? 12 : 40) == 0 && !std::getenv("CRDT_NO_MERGE")) {
      // A snapshot merge: replica y takes x's state; it must equal a replica that replayed
      // the ops of both.
      size_t x = pick(names.size()), y = pick(names.size());
      if (x == y) continue;
      Keyspace& kx = h.replicas[x]->ks();
      Keyspace& ky = h.replicas[y]->ks();
      Replica replay(names[y], names);
      for (const v1::Op& o : h.log) {
        RegionId id;
        uint64_t want = 0;
        if (kx.regions().Find(o.origin(), &id)) want = kx.applied().Get(id);
        if (ky.regions().Find(o.origin(), &id)) want = std::max(want, ky.applied().Get(id));
        if (o.seq() <= want) {
          ASSERT_TRUE(replay.Receive(o));
        }
      }
      auto state_of = [](Keyspace& ks, const std::string& k) {
        v1::KeyState st;
        if (const Entry* e = ks.Find(k)) e->ToState(ks.regions(), &st);
        std::string names;
        for (RegionId r = 0; r < ks.regions().size(); ++r) names += ks.regions().Name(r) + " ";
        return absl::StrCat("regions ", names, " applied ", ks.applied().ToString(ks.regions()),
                            " stable ", ks.stable().ToString(ks.regions()), "\n", st.DebugString());
      };
      const std::string before_y = std::getenv("CRDT_DUMP") ? state_of(ky, "h2") : "";
      const std::string before_x = std::getenv("CRDT_DUMP") ? state_of(kx, "h2") : "";
      MergeSnapshotOf(kx, ky, rng);
      if (std::getenv("CRDT_DUMP") && h.replicas[y]->Show("h2") != replay.Show("h2")) {
        std::cerr << "Y BEFORE " << before_y << "\nX " << before_x << "\nY AFTER "
                  << state_of(ky, "h2") << "\nREPLAY " << state_of(replay.ks(), "h2");
      }
      const std::string where =
          absl::StrCat("merge of ", names[x], " into ", names[y], " at step ", step);
      for (const std::string k :
           {"s1", "s2", "h1", "h2", "z1", "z2", "l1", "l2", "k", "hc", "zc"}) {
        ASSERT_EQ(h.replicas[y]->Show(k), replay.Show(k))
            << where << ", key " << k << "\nmerged: " << state_of(ky, k)
            << "\nreplay: " << state_of(replay.ks(), k);
      }
      ASSERT_EQ(ky.Digest(), ky.DigestByWalk()) << where << ": the digest drifted";
      ASSERT_EQ(ky.Digest(), replay.ks().Digest()) << where;
      // Ops the merge covered are now duplicates there.
    }
  }
  // Full delivery, acks everywhere, then once more (stability lets counters fold).
  for (int round = 0; round < 2; ++round) {
    for (size_t i = 0; i < names.size(); ++i) {
      for (size_t guard = 0; !h.inbox[i].empty() && guard < h.log.size() + 5; ++guard) {
        deliver_some(i);
      }
      for (size_t idx : h.inbox[i]) EXPECT_TRUE(h.replicas[i]->Receive(h.log[idx]));
      h.inbox[i].clear();
    }
    for (size_t i = 0; i < names.size(); ++i) {
      for (size_t j = 0; j < names.size(); ++j) {
        if (i != j)
          h.replicas[j]->ks().ObservePeerApplied(names[i], ToEntries(h.replicas[i]->ks()));
      }
    }
  }
  const std::string digest = h.replicas[0]->ks().Digest();
  for (auto& rep : h.replicas) {
    for (const auto& k : keys) {
      ASSERT_EQ(rep->Show(k), h.replicas[0]->Show(k))
          << k << "\n"
          << [&] {
               std::string dump;
               for (auto& r : h.replicas) {
                 v1::KeyState st;
                 if (const Entry* e = r->ks().Find(k)) e->ToState(r->ks().regions(), &st);
                 absl::StrAppend(&dump, r->name(), " applied ",
                                 r->ks().applied().ToString(r->ks().regions()), ":\n",
                                 st.DebugString());
               }
               return dump;
             }();
    }
    ASSERT_EQ(rep->ks().Digest(), rep->ks().DigestByWalk()) << rep->name();
    ASSERT_EQ(rep->ks().Digest(), digest) << rep->name() << " diverged";
  }
  // "hc" is only ever incremented: every field is the sum of its increments.
  const Entry* hc = h.replicas[0]->ks().Find("hc");
  for (const auto& [field, sum] : h.counter_sums) {
    const HashValue::Field* f = hc == nullptr ? nullptr : hc->hash()->Find(field);
    ASSERT_NE(f, nullptr) << field;
    EXPECT_EQ(hc->hash()->ValueOf(*f, h.replicas[0]->ks().regions()), absl::StrCat(sum)) << field;
  }

  // "zc" is only ever incremented: every member's score is the sum of its increments.
  const Entry* zc = h.replicas[0]->ks().Find("zc");
  for (const auto& [member, sum] : h.score_sums) {
    const ZsetValue::Member* m = zc == nullptr ? nullptr : zc->zset()->Find(member);
    ASSERT_NE(m, nullptr) << member;
    EXPECT_EQ(zc->zset()->Score(*m, h.replicas[0]->ks().regions()), static_cast<double>(sum))
        << member;
  }
}

TEST(CollectionsConvergence, RandomHistoriesConverge) {
  if (const char* s = std::getenv("CRDT_HISTORY_SEED")) {
    RunHistory(static_cast<uint32_t>(std::strtoul(s, nullptr, 10)));
    return;
  }
  std::mt19937 seeds(static_cast<uint32_t>(::testing::UnitTest::GetInstance()->random_seed()));
  for (int i = 0, n = test::Scaled(1000); i < n && !HasFatalFailure(); ++i) RunHistory(seeds());
}

TEST(ListsConvergence, RandomHistoriesConverge) {
  if (const char* s = std::getenv("LIST_HISTORY_SEED")) {
    RunHistory(static_cast<uint32_t>(std::strtoul(s, nullptr, 10)), true);
    return;
  }
  std::mt19937 seeds(static_cast<uint32_t>(::testing::UnitTest::GetInstance()->random_seed()));
  for (int i = 0, n = test::Scaled(1000); i < n && !HasFatalFailure(); ++i)
    RunHistory(seeds(), true);
}

}  // namespace
}  // namespace activekv::crdt
