// Property: replicas that receive the same ops in different orders, with duplicates, converge to
// identical digests, and counters equal the sum of all increments. Seeded; failures print the
// seed of the history (replay with --gtest_random_seed=<run seed> or CRDT_HISTORY_SEED=<seed>).
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
using testing::ToEntries;

struct History {
  std::vector<std::unique_ptr<Replica>> replicas;
  std::vector<v1::Op> log;                 // every op created, in creation order
  std::vector<std::vector<size_t>> inbox;  // per replica: indexes into log not yet applied
  // Counter keys are only ever incremented or flushed: the expected value is the sum of the
  // increments no FLUSHALL observed.
  struct Increment {
    std::string key, origin;
    uint64_t seq;
    int64_t delta;
  };
  std::vector<Increment> increments;
  std::vector<v1::Op> flushes;
  int64_t Expected(const std::string& key) const {
    int64_t sum = 0;
    for (const Increment& i : increments) {
      if (i.key != key) continue;
      bool removed = false;
      for (const v1::Op& f : flushes) removed |= testing::Observed(f, i.origin, i.seq);
      if (!removed) sum += i.delta;
    }
    return sum;
  }
};

// One seeded history: 3 regions, a few hundred ops on a handful of keys, random partial
// deliveries (shuffled, duplicated, out of order) while ops are still being created, occasional
// acks, then full delivery.
void RunHistory(uint32_t seed) {
  SCOPED_TRACE(absl::StrCat("history seed=", seed));
  std::mt19937 rng(seed);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  const std::vector<std::string> names{"us", "eu", "ap"};
  History h;
  for (const auto& n : names) h.replicas.push_back(std::make_unique<Replica>(n, names));
  h.inbox.resize(names.size());
  const std::vector<std::string> keys{"k1", "k2", "k3", "k4"};
  const std::vector<std::string> counters{"c1", "c2"};

  auto deliver_some = [&](size_t to) {
    auto& box = h.inbox[to];
    std::shuffle(box.begin(), box.end(), rng);
    std::vector<size_t> keep;
    for (size_t idx : box) {
      if (pick(3) == 0) {
        keep.push_back(idx);
        continue;
      }
      if (!h.replicas[to]->Receive(h.log[idx])) {
        keep.push_back(idx);  // out of order: retry later
      } else if (pick(8) == 0) {
        EXPECT_TRUE(h.replicas[to]->Receive(h.log[idx]));  // duplicate: ignored
      }
    }
    box = keep;
  };

  int steps = 150 + static_cast<int>(pick(150));
  for (int step = 0; step < steps; ++step) {
    size_t r = pick(names.size());
    Replica& rep = *h.replicas[r];
    rep.wall_ms += static_cast<int64_t>(pick(5));
    if (pick(4) == 0) rep.wall_ms -= 3;  // clocks wobble
    v1::Op op;
    int kind = static_cast<int>(pick(100));
    if (kind < 30) {
      const std::string& c = counters[pick(counters.size())];
      int64_t d = static_cast<int64_t>(pick(21)) - 10;
      op = rep.Incr(c, d);
      h.increments.push_back({c, rep.name(), op.seq(), d});
    } else if (kind < 50) {
      op = rep.Set(keys[pick(keys.size())], absl::StrCat("v", step));
    } else if (kind < 60) {
      op = rep.Incr(keys[pick(keys.size())], static_cast<int64_t>(pick(7)));
    } else if (kind < 65) {
      op = rep.IncrFloat(keys[pick(keys.size())], pick(2) ? "0.1" : "-2.5");
    } else if (kind < 78) {
      op = rep.Del(keys[pick(keys.size())]);
    } else if (kind < 88) {
      op = rep.Expire(keys[pick(keys.size())], 2'000'000 + static_cast<int64_t>(pick(1000)));
    } else if (kind < 93) {
      op = rep.Persist(keys[pick(keys.size())]);
    } else if (kind < 95) {
      op = rep.Flush();
      h.flushes.push_back(op);
    } else {
      // An ack: another replica learns what r has applied.
      size_t to = pick(names.size());
      if (to != r) h.replicas[to]->ks().ObservePeerApplied(rep.name(), ToEntries(rep.ks()));
      continue;
    }
    h.log.push_back(op);
    for (size_t i = 0; i < names.size(); ++i) {
      if (i != r) h.inbox[i].push_back(h.log.size() - 1);
    }
    if (pick(4) == 0) deliver_some(pick(names.size()));
  }
  // Heal: deliver everything (retrying out-of-order ops until all apply).
  for (int round = 0; round < 1000; ++round) {
    bool pending = false;
    for (size_t i = 0; i < names.size(); ++i) {
      auto& box = h.inbox[i];
      std::vector<size_t> keep;
      for (size_t idx : box) {
        if (!h.replicas[i]->Receive(h.log[idx])) keep.push_back(idx);
      }
      box = keep;
      pending |= !box.empty();
    }
    if (!pending) break;
  }
  for (size_t i = 0; i < names.size(); ++i) ASSERT_TRUE(h.inbox[i].empty());

  auto dump = [&] {
    std::string out;
    for (auto& rep : h.replicas) {
      absl::StrAppend(&out, rep->name(), ":");
      for (const auto& k : keys) {
        absl::StrAppend(&out, " ", k, "=", rep->Get(k), "@", rep->Deadline(k));
      }
      for (const auto& k : counters)
        absl::StrAppend(&out, " ", k, "=", rep->Get(k), "(want ", h.Expected(k), ")");
      out += "\n";
    }
    return out;
  };
  const std::string digest = h.replicas[0]->ks().Digest();
  for (auto& rep : h.replicas) {  // the incremental digest never drifts from the state
    ASSERT_EQ(rep->ks().Digest(), rep->ks().DigestByWalk()) << rep->name() << "\n" << dump();
  }
  for (size_t i = 1; i < names.size(); ++i) {
    ASSERT_EQ(h.replicas[i]->ks().Digest(), digest) << "replica " << names[i] << " diverged\n"
                                                    << dump();
    ASSERT_EQ(h.replicas[i]->ks().key_count(), h.replicas[0]->ks().key_count());
  }
  for (const std::string& c : counters) {
    for (auto& rep : h.replicas) {
      std::string v = rep->Get(c);
      if (v == "(nil)") v = "0";
      ASSERT_EQ(v, absl::StrCat(h.Expected(c))) << "counter " << c << " in " << rep->name();
    }
  }
  // Once everyone has acked everything, every increment is stable; digests still agree.
  for (auto& to : h.replicas) {
    for (auto& from : h.replicas) {
      if (to != from) to->ks().ObservePeerApplied(from->name(), ToEntries(from->ks()));
    }
  }
  for (size_t i = 1; i < names.size(); ++i) {
    ASSERT_EQ(h.replicas[i]->ks().Digest(), digest);
  }
}

TEST(Convergence, ThousandSeededHistoriesConverge) {
  uint32_t base = static_cast<uint32_t>(::testing::UnitTest::GetInstance()->random_seed());
  if (const char* s = std::getenv("CRDT_HISTORY_SEED")) {
    RunHistory(static_cast<uint32_t>(std::strtoul(s, nullptr, 10)));
    return;
  }
  for (uint32_t i = 0, n = static_cast<uint32_t>(test::Scaled(1000)); i < n; ++i) {
    uint32_t seed = base * 7919u + i;
    RunHistory(seed);
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "replay with CRDT_HISTORY_SEED=" << seed;
      return;
    }
  }
}

}  // namespace
}  // namespace activekv::crdt
