// Keyspace::BeginBulkLoad / EndBulkLoad (the startup replay): whatever a bulk load applies --
// ops creating keys in any order, deletes that erase keys, snapshot adoption in index order,
// both mixed -- the ordered index afterwards is exactly the one the same history builds without
// it, and SCAN-style walks and snapshots work on it. Failing seeds are printed (replay with
// BULK_LOAD_SEED=<seed>).
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "replica_sim.h"

namespace activekv::crdt {
namespace {

using testing::Replica;

uint64_t Seed() {
  if (const char* s = std::getenv("BULK_LOAD_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

// The index of every namespace as (namespace, hash, key) in order.
std::vector<std::string> IndexOf(const Keyspace& ks) {
  std::vector<std::string> out;
  for (uint32_t ns = 0; ns < kDatabases; ++ns) {
    for (const Keyspace::Indexed& i : ks.entries(ns)) {
      out.push_back(absl::StrCat(ns, "/", i.hash, "/", std::string(i.key())));
    }
  }
  return out;
}

// A random history at `origin`: SETs of a few hundred keys, DELs (which erase entries), HSETs.
std::vector<v1::Op> History(std::mt19937_64& rng) {
  Replica origin("a", {"a", "b"});
  std::vector<v1::Op> ops;
  for (int i = 0; i < 2000; ++i) {
    const std::string key = absl::StrCat("k", rng() % 400);
    switch (rng() % 4) {
      case 0:
      case 1:
        ops.push_back(origin.Set(key, absl::StrCat("v", i)));
        break;
      case 2:
        ops.push_back(origin.Del(key));
        break;
      default:
        ops.push_back(origin.HSet(absl::StrCat("h", rng() % 50), {{"f", "v"}}));
        break;
    }
  }
  return ops;
}

TEST(BulkLoad, ReplayedOpsLeaveTheIndexOfTheSameHistoryWithoutIt) {
  const uint64_t seed = Seed();
  SCOPED_TRACE(::testing::Message() << "BULK_LOAD_SEED=" << seed);
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 20; ++round) {
    const std::vector<v1::Op> ops = History(rng);
    Replica plain("b", {"a", "b"});
    Replica bulk("b", {"a", "b"});
    bulk.ks().BeginBulkLoad();
    for (const v1::Op& op : ops) {
      ASSERT_TRUE(plain.Receive(op));
      ASSERT_TRUE(bulk.Receive(op));
    }
    bulk.ks().EndBulkLoad();
    ASSERT_FALSE(IndexOf(plain.ks()).empty());
    EXPECT_EQ(IndexOf(bulk.ks()), IndexOf(plain.ks()));
    EXPECT_EQ(bulk.ks().Digest(), plain.ks().Digest());
    EXPECT_EQ(bulk.ks().DigestByWalk(), plain.ks().DigestByWalk());
    // And the index serves a snapshot afterwards.
    bulk.ks().BeginSnapshot();
    v1::Snapshot chunk;
    size_t keys = 0;
    while (bulk.ks().snapshot_active()) {
      bulk.ks().NextSnapshotChunk(7, &chunk);
      keys += static_cast<size_t>(chunk.keys_size());
    }
    EXPECT_EQ(keys, IndexOf(plain.ks()).size());
  }
}

TEST(BulkLoad, AnAdoptedSnapshotThenOpsOutOfOrderLeaveTheSameIndex) {
  const uint64_t seed = Seed();
  SCOPED_TRACE(::testing::Message() << "BULK_LOAD_SEED=" << seed);
  std::mt19937_64 rng(seed);
  const std::vector<v1::Op> ops = History(rng);
  Replica origin("c", {"a", "b", "c"});
  for (size_t i = 0; i < ops.size() / 2; ++i) ASSERT_TRUE(origin.Receive(ops[i]));
  origin.ks().BeginSnapshot();
  std::vector<v1::Snapshot> chunks;
  while (origin.ks().snapshot_active()) {
    chunks.emplace_back();
    origin.ks().NextSnapshotChunk(16, &chunks.back());
  }

  for (bool more_ops : {false, true}) {
    SCOPED_TRACE(more_ops ? "snapshot, then ops" : "snapshot only");
    Replica plain("b", {"a", "b", "c"});
    Replica bulk("b", {"a", "b", "c"});
    bulk.ks().BeginBulkLoad();
    for (const v1::Snapshot& chunk : chunks) {
      ASSERT_TRUE(plain.ks().AdoptChunk(chunk).ok());
      ASSERT_TRUE(bulk.ks().AdoptChunk(chunk).ok());
    }
    if (more_ops) {
      for (size_t i = ops.size() / 2; i < ops.size(); ++i) {
        ASSERT_TRUE(plain.Receive(ops[i]));
        ASSERT_TRUE(bulk.Receive(ops[i]));
      }
    }
    bulk.ks().EndBulkLoad();
    ASSERT_FALSE(IndexOf(plain.ks()).empty());
    EXPECT_EQ(IndexOf(bulk.ks()), IndexOf(plain.ks()));
    EXPECT_EQ(bulk.ks().Digest(), plain.ks().Digest());
  }
}

}  // namespace
}  // namespace activekv::crdt
