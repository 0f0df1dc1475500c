// Streams (docs/crdt-semantics.md, "Streams"): the rules, one test each, and a seeded property
// test of random histories over three replicas (any delivery order across origins, duplicates,
// snapshot merges checked against replaying the union), as ListsConvergence does for lists.
// A failing history prints its seed: replay it with STREAM_HISTORY_SEED=<seed>.
#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "crdt/values/stream_value.h"
#include "gtest/gtest.h"
#include "replica_sim.h"
#include "tests/unit/test_scale.h"

namespace activekv::crdt {
namespace {

using testing::Replica;

const std::vector<std::string> kNames{"us", "eu", "ap"};

struct Three {
  Replica us{"us", kNames}, eu{"eu", kNames}, ap{"ap", kNames};
  std::vector<v1::Op> log;
  v1::Op Keep(v1::Op op) {
    log.push_back(op);
    return op;
  }
  // Every op to every replica (each origin's in order; duplicates are ignored).
  void DeliverAll() {
    for (Replica* r : {&us, &eu, &ap}) {
      for (const v1::Op& o : log) r->Receive(o);
    }
  }
  void ExpectConverged(const std::string& key, const std::string& want) {
    EXPECT_EQ(us.Show(key), want);
    EXPECT_EQ(eu.Show(key), want);
    EXPECT_EQ(ap.Show(key), want);
    EXPECT_EQ(us.ks().Digest(), eu.ks().Digest());
    EXPECT_EQ(us.ks().Digest(), ap.ks().Digest());
  }
};

TEST(Streams, SameExplicitIdInTwoRegionsKeepsOneEntryTheLaterAddWins) {
  Three t;
  t.us.wall_ms = 1000;
  t.eu.wall_ms = 2000;  // eu's add is later in the LWW order
  t.Keep(t.us.XAdd("s", {5, 1}, {"f", "us"}));
  t.Keep(t.eu.XAdd("s", {5, 1}, {"f", "eu"}));
  t.DeliverAll();
  t.ExpectConverged("s", "stream(5-1,1,0-0):5-1=f;eu;,");
  EXPECT_EQ(t.us.Stream("s")->size(), 1u);
}

TEST(Streams, XdelOfOneCollidingInstanceLeavesTheOther) {
  Three t;
  t.us.wall_ms = 1000;
  t.eu.wall_ms = 2000;
  t.Keep(t.us.XAdd("s", {5, 1}, {"f", "us"}));
  t.Keep(t.eu.XAdd("s", {5, 1}, {"f", "eu"}));
  t.Keep(t.eu.XDel("s", {{5, 1}}));  // eu had seen only its own
  t.DeliverAll();
  t.ExpectConverged("s", "stream(5-1,1,5-1):5-1=f;us;,");
}

TEST(Streams, DelKeepsAConcurrentXadd) {
  Three t;
  t.Keep(t.us.XAdd("s", {1, 1}, {"a", "1"}));
  t.eu.Receive(t.log[0]);
  t.Keep(t.eu.XAdd("s", {2, 2}, {"b", "2"}));  // us has not seen it
  t.Keep(t.us.Del("s"));
  t.DeliverAll();
  t.ExpectConverged("s", "stream(2-2,2,0-0):2-2=b;2;,");
}

TEST(Streams, XdelArrivingBeforeItsAddStillRemovesIt) {
  Three t;
  const v1::Op add = t.Keep(t.us.XAdd("s", {1, 1}, {"a", "1"}));
  t.eu.Receive(add);
  const v1::Op del = t.Keep(t.eu.XDel("s", {{1, 1}}));
  t.ap.Receive(del);                   // before the add
  EXPECT_EQ(t.ap.Show("s"), "(nil)");  // a removal alone does not make the key exist
  t.ap.Receive(add);
  t.DeliverAll();
  t.ExpectConverged("s", "stream(1-1,1,1-1):");
  EXPECT_EQ(t.ap.Stream("s")->pending_size(), 0u);
}

TEST(Streams, XdelConcurrentWithDelDoesNotBringTheKeyBack) {
  Three t;
  t.Keep(t.us.XAdd("s", {1, 1}, {"a", "1"}));
  t.DeliverAll();
  t.Keep(t.eu.XDel("s", {{1, 1}}));
  t.Keep(t.us.Del("s"));
  t.DeliverAll();
  t.ExpectConverged("s", "(nil)");
}

TEST(Streams, MetadataJoinsByMaximum) {
  Three t;
  t.Keep(t.us.XAdd("s", {7, 0}, {"a", "1"}));
  t.Keep(t.eu.XAdd("s", {3, 0}, {"b", "2"}));
  t.Keep(t.eu.XDel("s", {{3, 0}}));
  t.DeliverAll();
  // last id 7-0 (us), entries-added 1 in each region: max 1, max-deleted 3-0 (eu).
  t.ExpectConverged("s", "stream(7-0,1,3-0):7-0=a;1;,");
}

TEST(Streams, XsetidLowersTheLastIdOfTheRegionThatSetIt) {
  Three t;
  t.Keep(t.us.XAdd("s", {5, 0}, {"a", "1"}));
  t.Keep(t.us.XDel("s", {{5, 0}}));
  t.Keep(t.us.XSetId("s", {3, 0}));
  t.DeliverAll();
  t.ExpectConverged("s", "stream(3-0,1,5-0):");
}

TEST(Streams, ConcurrentXaddsInterleaveByIdEverywhere) {
  Three t;
  t.Keep(t.us.XAdd("s", {10, 1}, {"r", "us"}));
  t.Keep(t.eu.XAdd("s", {10, 2}, {"r", "eu"}));
  t.Keep(t.ap.XAdd("s", {9, 3}, {"r", "ap"}));
  t.DeliverAll();
  t.ExpectConverged("s", "stream(10-2,1,0-0):9-3=r;ap;,10-1=r;us;,10-2=r;eu;,");
}

TEST(Streams, TypeConflictWithAStringShowsTheLaterWrite) {
  Three t;
  t.us.wall_ms = 1000;
  t.eu.wall_ms = 2000;
  t.Keep(t.us.Set("k", "v"));
  t.Keep(t.eu.XAdd("k", {1, 1}, {"a", "1"}));
  t.DeliverAll();
  t.ExpectConverged("k", "stream(1-1,1,0-0):1-1=a;1;,");
}

// --- Property test ---

void MergeSnapshot(Keyspace& from, Keyspace& into, std::mt19937& rng) {
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

const std::vector<std::string> kKeys{"s1", "s2", "k"};

// The replica a merge of `x` into `y` must equal: every op either had, replayed.
std::unique_ptr<Replica> ReplayUnion(const std::vector<v1::Op>& log, Keyspace& kx, Keyspace& ky,
                                     const std::string& name) {
  auto replay = std::make_unique<Replica>(name, kNames);
  for (const v1::Op& o : log) {
    RegionId id;
    uint64_t want = 0;
    if (kx.regions().Find(o.origin(), &id)) want = kx.applied().Get(id);
    if (ky.regions().Find(o.origin(), &id)) want = std::max(want, ky.applied().Get(id));
    if (o.seq() <= want) {
      EXPECT_TRUE(replay->Receive(o));
    }
  }
  return replay;
}

void RunStreamHistory(uint32_t seed, bool groups) {
  SCOPED_TRACE(absl::StrCat(groups ? "STREAM_GROUP_HISTORY_SEED=" : "STREAM_HISTORY_SEED=", seed));
  std::mt19937 rng(seed);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  std::vector<std::unique_ptr<Replica>> reps;
  for (const auto& n : kNames) reps.push_back(std::make_unique<Replica>(n, kNames));
  std::vector<v1::Op> log;
  std::vector<std::vector<size_t>> inbox(kNames.size());

  auto deliver_some = [&](size_t to) {
    auto& box = inbox[to];
    std::shuffle(box.begin(), box.end(), rng);
    std::vector<size_t> keep;
    for (size_t idx : box) {
      if (pick(3) == 0 || !reps[to]->Receive(log[idx])) {
        keep.push_back(idx);
      } else if (pick(8) == 0) {
        EXPECT_TRUE(reps[to]->Receive(log[idx]));  // a duplicate: ignored
      }
    }
    box = keep;
  };

  const int steps = 60 + static_cast<int>(pick(100));
  for (int step = 0; step < steps; ++step) {
    const size_t r = pick(kNames.size());
    Replica& rep = *reps[r];
    rep.wall_ms += static_cast<int64_t>(pick(3));
    const std::string& key = kKeys[pick(kKeys.size())];
    const StreamValue* s = rep.Stream(key);
    const size_t len = s == nullptr ? 0 : s->size();
    const StreamId last = s == nullptr ? StreamId{} : s->meta().last_id;
    v1::Op op;
    const size_t k = pick(groups ? 32 : 20);
    if (k < 10 || len == 0) {
      // Mostly ids just after the replica's last one (so regions collide), sometimes ahead.
      StreamId id =
          pick(3) == 0 ? StreamId{last.ms + 1 + pick(3), pick(4)} : StreamId{last.ms, last.seq + 1};
      op = rep.XAdd(key, id, {absl::StrCat("f", pick(3)), absl::StrCat(kNames[r], step)});
    } else if (k < 14) {  // XDEL of some visible ids (and one that may not exist)
      std::vector<StreamId> ids;
      for (const auto& [id, item] : s->items()) {
        if (pick(3) == 0) ids.push_back(id);
      }
      ids.push_back(StreamId{pick(5), pick(5)});
      op = rep.XDel(key, ids);
    } else if (k < 16) {  // trimming: the oldest entries
      std::vector<StreamId> ids;
      size_t n = 1 + pick(len);
      for (auto it = s->items().begin(); n > 0; ++it, --n) ids.push_back(it->first);
      op = rep.XDel(key, ids);
    } else if (k < 17) {
      op = rep.XSetId(key, StreamId{last.ms + pick(2), last.seq + pick(3)});
    } else if (groups && k >= 20) {  // consumer groups
      const std::string g = pick(2) == 0 ? "g1" : "g2";
      const std::string c = pick(2) == 0 ? "c1" : "c2";
      const StreamGroups::Group* grp = rep.Group(key, g);
      const size_t kind = grp == nullptr ? 0 : pick(7);
      if (kind == 0) {
        op = grp == nullptr ? rep.XGroupCreate(key, g, StreamId{0, pick(2)})
                            : rep.XReadGroup(key, g, c, 1 + pick(3), false);
      } else if (kind <= 2) {
        op = rep.XReadGroup(key, g, c, 1 + pick(3), pick(5) == 0);
      } else if (kind == 3) {
        std::vector<StreamId> ids;
        for (const auto& [id, p] : grp->pel) {
          if (pick(2) == 0) ids.push_back(StreamId{id.first, id.second});
        }
        op = rep.XAck(key, g, ids);
      } else if (kind == 4) {
        op = rep.XGroupSetId(key, g, StreamId{pick(3), 0});
      } else if (kind == 5) {
        op = rep.XDelConsumer(key, g, c);
      } else {
        op = rep.XGroupDestroy(key, g);
      }
    } else if (k < 19) {
      op = rep.Del(key);
    } else {
      op = rep.Set(key, absl::StrCat("str", step));
    }
    log.push_back(op);
    for (size_t i = 0; i < kNames.size(); ++i) {
      if (i != r) inbox[i].push_back(log.size() - 1);
    }
    if (pick(5) == 0) deliver_some(pick(kNames.size()));
    if (pick(10) == 0) {
      const size_t from = pick(kNames.size()), to = pick(kNames.size());
      if (from != to)
        reps[to]->ks().ObservePeerApplied(kNames[from], testing::ToEntries(reps[from]->ks()));
    }
    if (pick(12) == 0) {
      const size_t x = pick(kNames.size()), y = pick(kNames.size());
      if (x == y) continue;
      Keyspace& kx = reps[x]->ks();
      Keyspace& ky = reps[y]->ks();
      auto replay = ReplayUnion(log, kx, ky, kNames[y]);
      MergeSnapshot(kx, ky, rng);
      for (const std::string& key2 : kKeys) {
        ASSERT_EQ(reps[y]->Show(key2), replay->Show(key2))
            << "merge of " << kNames[x] << " into " << kNames[y] << " at step " << step << ", key "
            << key2;
      }
      ASSERT_EQ(ky.Digest(), ky.DigestByWalk()) << "the digest drifted at step " << step;
      ASSERT_EQ(ky.Digest(), replay->ks().Digest()) << "merge at step " << step;
    }
  }
  for (int round = 0; round < 2; ++round) {
    for (size_t i = 0; i < kNames.size(); ++i) {
      for (size_t guard = 0; !inbox[i].empty() && guard < log.size() + 5; ++guard) {
        deliver_some(i);
      }
      for (size_t idx : inbox[i]) EXPECT_TRUE(reps[i]->Receive(log[idx]));
      inbox[i].clear();
    }
    for (size_t i = 0; i < kNames.size(); ++i) {
      for (size_t j = 0; j < kNames.size(); ++j) {
        if (i != j) reps[j]->ks().ObservePeerApplied(kNames[i], testing::ToEntries(reps[i]->ks()));
      }
    }
  }
  for (auto& rep : reps) {
    for (const std::string& key : kKeys) {
      ASSERT_EQ(rep->Show(key), reps[0]->Show(key)) << rep->name() << " key " << key;
      // Nothing waits once every op is applied everywhere.
      const StreamValue* s = rep->Stream(key);
      if (s != nullptr) {
        EXPECT_EQ(s->pending_size(), 0u) << key;
      }
    }
    ASSERT_EQ(rep->ks().Digest(), rep->ks().DigestByWalk()) << rep->name();
    ASSERT_EQ(rep->ks().Digest(), reps[0]->ks().Digest()) << rep->name() << " diverged";
  }
  // Round trip of every key's state keeps its digest and visible form.
  Keyspace& ks = reps[0]->ks();
  for (const std::string& key : kKeys) {
    const Entry* e = ks.Find(key);
    if (e == nullptr || e->stream() == nullptr) continue;
    v1::StreamState st;
    e->stream()->ToState(&st);
    std::vector<RegionId> dict;
    for (RegionId i = 0; i < ks.regions().size(); ++i) dict.push_back(i);
    StreamValue back;
    ASSERT_TRUE(StreamValue::FromState(st, dict, ks.regions(), &back).ok());
    EXPECT_EQ(DigestHex(back.digest()), DigestHex(e->stream()->digest())) << key;
    EXPECT_EQ(back.size(), e->stream()->size());
    EXPECT_TRUE(back.meta() == e->stream()->meta());
  }
}

TEST(StreamsConvergence, RandomHistoriesConverge) {
  if (const char* s = std::getenv("STREAM_HISTORY_SEED")) {
    RunStreamHistory(static_cast<uint32_t>(std::strtoul(s, nullptr, 10)), false);
    return;
  }
  std::mt19937 seeds(static_cast<uint32_t>(::testing::UnitTest::GetInstance()->random_seed()));
  for (int i = 0, n = test::Scaled(1000); i < n && !HasFatalFailure(); ++i) {
    RunStreamHistory(seeds(), false);
  }
}

// The same with consumer-group ops (XGROUP CREATE / SETID / DESTROY / DELCONSUMER, XREADGROUP,
// XACK) in a third of the steps.
TEST(StreamsConvergence, RandomHistoriesWithConsumerGroupsConverge) {
  if (const char* s = std::getenv("STREAM_GROUP_HISTORY_SEED")) {
    RunStreamHistory(static_cast<uint32_t>(std::strtoul(s, nullptr, 10)), true);
    return;
  }
  std::mt19937 seeds(static_cast<uint32_t>(::testing::UnitTest::GetInstance()->random_seed()));
  for (int i = 0, n = test::Scaled(1000); i < n && !HasFatalFailure(); ++i) {
    RunStreamHistory(seeds(), true);
  }
}

}  // namespace
}  // namespace activekv::crdt
