// FUNCTION libraries in the keyspace (docs/crdt-semantics.md, "Scripts and function libraries"):
// a last-writer-wins map from library name to code, deletions kept as tombstones; the same in
// any delivery order, carried by snapshots, covered by the digest.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "replica_sim.h"

namespace activekv::crdt {
namespace {

using testing::Replica;

v1::Op Load(Replica& r, const std::string& name, const std::string& code) {
  v1::Op op;
  MakeFunctionOp(r.ks(), r.Tick(), name, code, &op);
  return r.Local(std::move(op));
}

std::string Code(Replica& r, const std::string& name) {
  auto it = r.ks().functions().find(name);
  return it == r.ks().functions().end() ? "(none)" : it->second.code;
}

TEST(Functions, LaterLoadWinsAndADeleteIsATombstone) {
  Replica a("a", {"a", "b"});
  Replica b("b", {"a", "b"});
  v1::Op v1 = Load(a, "lib", "v1");
  ASSERT_TRUE(b.Receive(v1));
  b.wall_ms += 10;
  v1::Op v3 = Load(b, "lib", "v3");  // later HLC than a's concurrent v2
  v1::Op v2 = Load(a, "lib", "v2");
  ASSERT_TRUE(a.Receive(v3));
  ASSERT_TRUE(b.Receive(v2));
  EXPECT_EQ(Code(a, "lib"), "v3");
  EXPECT_EQ(Code(b, "lib"), "v3");
  a.wall_ms += 100;
  v1::Op del = Load(a, "lib", "");
  ASSERT_TRUE(b.Receive(del));
  EXPECT_EQ(Code(b, "lib"), "");
  EXPECT_EQ(a.ks().Digest(), b.ks().Digest());
}

TEST(Functions, AnOpWithoutALibraryNameIsRefused) {
  Replica a("a", {"a", "b"});
  v1::Op op;
  MakeFunctionOp(a.ks(), a.Tick(), "", "code", &op);
  EXPECT_FALSE(a.ks().Apply(op).ok());
}

TEST(Functions, TheDigestCoversLiveLibrariesOnly) {
  Replica a("a", {"a"});
  const std::string empty = a.ks().Digest();
  Load(a, "lib", "code");
  EXPECT_NE(a.ks().Digest(), empty);
  EXPECT_EQ(a.ks().Digest(), a.ks().DigestByWalk());
  Load(a, "lib", "");
  EXPECT_EQ(a.ks().Digest(), empty);
}

TEST(Functions, AnyDeliveryOrderAndSnapshotMergeConverge) {
  // Seeded from GoogleTest's random seed (--gtest_random_seed replays a failure).
  std::mt19937 rng(static_cast<uint32_t>(::testing::UnitTest::GetInstance()->random_seed()));
  for (int round = 0; round < 50; ++round) {
    std::vector<std::string> names = {"a", "b", "c", "x", "y", "z"};
    Replica r0("a", names), r1("b", names), r2("c", names);
    std::vector<Replica*> origins = {&r0, &r1, &r2};
    std::vector<std::vector<v1::Op>> ops(3);
    for (int i = 0; i < 12; ++i) {
      int o = static_cast<int>(rng() % 3);
      origins[o]->wall_ms += static_cast<int64_t>(rng() % 3);
      std::string lib = "lib" + std::to_string(rng() % 3);
      std::string code = rng() % 4 == 0 ? "" : "code" + std::to_string(rng() % 100);
      ops[o].push_back(Load(*origins[o], lib, code));
    }
    // Two fresh replicas get every op, each origin's ops in order, interleaved differently.
    Replica x("x", names), y("y", names);
    for (Replica* target : {&x, &y}) {
      std::vector<size_t> next(3, 0);
      while (next[0] < ops[0].size() || next[1] < ops[1].size() || next[2] < ops[2].size()) {
        int o = static_cast<int>(rng() % 3);
        if (next[o] == ops[o].size()) continue;
        ASSERT_TRUE(target->Receive(ops[o][next[o]++]));
      }
    }
    EXPECT_EQ(x.ks().functions().size(), y.ks().functions().size());
    for (const auto& [name, lib] : x.ks().functions()) EXPECT_EQ(Code(y, name), lib.code);
    EXPECT_EQ(x.ks().Digest(), y.ks().Digest());
    // A snapshot of x merged into a replica that saw only r0's ops: the same map.
    Replica z("z", names);
    for (const v1::Op& op : ops[0]) ASSERT_TRUE(z.Receive(op));
    x.ks().BeginSnapshot();
    std::vector<v1::Snapshot> chunks;
    while (x.ks().snapshot_active()) {
      chunks.emplace_back();
      x.ks().NextSnapshotChunk(1, &chunks.back());
    }
    std::vector<const v1::Snapshot*> ptrs;
    for (const auto& c : chunks) ptrs.push_back(&c);
    ASSERT_TRUE(z.ks().MergeSnapshot(ptrs).ok());
    EXPECT_EQ(z.ks().Digest(), x.ks().Digest()) << "round " << round;
    for (const auto& [name, lib] : x.ks().functions()) EXPECT_EQ(Code(z, name), lib.code);
  }
}

}  // namespace
}  // namespace activekv::crdt
