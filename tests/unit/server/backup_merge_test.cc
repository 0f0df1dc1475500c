// restore --merge, the region's side (region-server/backup_merge.h, merge_plan.h;
// docs/crdt-semantics.md "Restore --merge"), through the real Server on in-memory file systems:
// one region's snapshot merged into another region.
//
// Properties: merged into an empty region, a snapshot of random data of every type gives the
// same visible state (every key's type, value, order, TTL, stream groups and pending entries as
// replies show them); merged into the region it came from, counters double and
// every other value stays; a malformed chunk sequence is refused.
// Seeds: MERGE_SEED=<seed> replays one history (each failure prints its seed).
#include "region-server/backup_merge.h"

#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "in_process_server.h"
#include "persistence/mem_env.h"

namespace activekv::server {
namespace {

using testing::InProcessServer;

// The source's snapshot, `keys_per_chunk` keys a chunk.
std::vector<v1::Snapshot> SnapshotOf(InProcessServer& s, size_t keys_per_chunk) {
  crdt::Keyspace& ks = s.region().ks();
  ks.BeginSnapshot();
  std::vector<v1::Snapshot> chunks;
  while (ks.snapshot_active()) {
    chunks.emplace_back();
    ks.NextSnapshotChunk(keys_per_chunk, &chunks.back());
  }
  return chunks;
}

v1::ImportReply Merge(InProcessServer& into, const std::vector<v1::Snapshot>& chunks) {
  into.region().RefreshClock();
  BackupMerge merge(&into.server(), "test-backup");
  for (const v1::Snapshot& chunk : chunks) {
    absl::Status s = merge.Add(chunk);
    EXPECT_TRUE(s.ok()) << s;
  }
  EXPECT_TRUE(merge.done());
  return merge.counts();
}

// A random dataset of every type over a few databases, with counters, TTLs, consumer groups
// and pending entries; every command must succeed.
void Populate(InProcessServer& s, uint32_t seed) {
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  auto run = [&](std::vector<std::string> args) {
    std::vector<std::string_view> views(args.begin(), args.end());
    const std::string reply = s.Run(views);
    ASSERT_FALSE(!reply.empty() && reply[0] == '-') << args[0] << " " << args[1] << ": " << reply;
  };
  for (int i = 0; i < 300; ++i) {
    run({"SELECT", absl::StrCat(pick(4) == 0 ? 1 + pick(3) : 0)});
    const std::string key = absl::StrCat("k", pick(80));
    // Each key keeps one type: its number decides it.
    const int type = static_cast<int>(std::hash<std::string>{}(key) % 8);
    const std::string e = absl::StrCat("e", pick(30));
    switch (type) {
      case 0:
        run({"SET", key, absl::StrCat("v", pick(1000))});
        break;
      case 1:
        run({"INCRBY", key, absl::StrCat(pick(1000) - 500)});
        break;
      case 2:
        run({"INCRBYFLOAT", key, absl::StrCat(pick(100), ".25")});
        break;
      case 3:
        if (pick(3) == 0) {
          run({"HINCRBY", key, absl::StrCat("n", pick(3)), absl::StrCat(pick(50))});
        } else {
          run({"HSET", key, e, absl::StrCat("v", pick(1000))});
        }
        break;
      case 4:
        if (pick(4) == 0) {
          run({"SREM", key, e});
        } else {
          run({"SADD", key, e, absl::StrCat("m", pick(5))});
        }
        break;
      case 5:
        if (pick(3) == 0) {
          run({"ZINCRBY", key, absl::StrCat(pick(10), ".5"), e});
        } else {
          run({"ZADD", key, absl::StrCat(pick(1000) - 500), e});
        }
        break;
      case 6:
        run({pick(2) == 0 ? "LPUSH" : "RPUSH", key, e});
        if (pick(5) == 0) run({"LPOP", key});
        break;
      case 7:
        run({"XADD", key, "*", "f", e});
        if (pick(4) == 0) {
          s.Run({"XGROUP", "CREATE", key, "g", "0"});  // BUSYGROUP the second time
          run({"XREADGROUP", "GROUP", "g", absl::StrCat("c", pick(2)), "COUNT", "1", "STREAMS", key,
               ">"});
        }
        break;
    }
    if (pick(10) == 0) {
      run({"PEXPIREAT", key, absl::StrCat(s.now_ms + 100000 + pick(100000))});
    }
    if (pick(40) == 0) run({"DEL", key});
  }
  run({"SELECT", "0"});
  run({"FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function() end)"});
}

// Every key of databases 0..3 (every key Populate writes) with its type, TTL, value and, for a
// stream, XINFO STREAM FULL, as replies show them.
std::map<std::string, std::string> Show(InProcessServer& s) {
  std::map<std::string, std::string> out;
  for (int db = 0; db < 4; ++db) {
    s.Run({"SELECT", absl::StrCat(db)});
    std::string keys = s.Run({"KEYS", "*"});
    std::vector<std::string> names;
    for (size_t at = keys.find("\r\nk"); at != std::string::npos; at = keys.find("\r\nk", at + 2)) {
      names.push_back(keys.substr(at + 2, keys.find('\r', at + 2) - at - 2));
    }
    for (const std::string& k : names) {
      std::string v = s.Run({"TYPE", k}) + s.Run({"PTTL", k}) + s.Run({"GET", k}) +
                      s.Run({"HGETALL", k}) + s.Run({"SMEMBERS", k}) +
                      s.Run({"ZRANGE", k, "0", "-1", "WITHSCORES"}) +
                      s.Run({"LRANGE", k, "0", "-1"}) + s.Run({"XRANGE", k, "-", "+"}) +
                      s.Run({"XINFO", "STREAM", k, "FULL"});
      out[absl::StrCat(db, ":", k)] = v;
    }
  }
  s.Run({"SELECT", "0"});
  return out;
}

uint32_t SeedOrRandom() {
  if (const char* s = std::getenv("MERGE_SEED")) return static_cast<uint32_t>(std::atoll(s));
  return std::random_device{}();
}

TEST(BackupMerge, IntoAnEmptyRegionGivesTheSameVisibleState) {
  for (int round = 0; round < 8; ++round) {
    const uint32_t seed = SeedOrRandom();
    SCOPED_TRACE(absl::StrCat("MERGE_SEED=", seed));
    persistence::MemEnv source_env, target_env;
    InProcessServer source(&source_env), target(&target_env);
    ASSERT_TRUE(source.start_status().ok() && target.start_status().ok());
    Populate(source, seed);
    if (::testing::Test::HasFatalFailure()) return;
    const v1::ImportReply counts = Merge(target, SnapshotOf(source, 7));
    EXPECT_EQ(counts.created(), counts.keys());
    EXPECT_EQ(
        counts.merged() + counts.type_conflicts() + counts.expired() + counts.value_conflicts(),
        0u);
    EXPECT_EQ(counts.libraries_loaded(), 1u);
    // As clients see it. (Not CRDT.DIGEST: a list's digest hashes its elements' position ids,
    // which a list rebuilt by RPUSH does not share with one built by LPUSH and LINSERT.)
    const auto want = Show(source), got = Show(target);
    for (const auto& [k, v] : want) {
      auto it = got.find(k);
      EXPECT_TRUE(it != got.end() && it->second == v)
          << k << "\nsource: " << v << "\nmerged: " << (it == got.end() ? "-" : it->second);
    }
    EXPECT_EQ(got.size(), want.size());
    EXPECT_EQ(target.Run({"FUNCTION", "LIST", "WITHCODE"}),
              source.Run({"FUNCTION", "LIST", "WITHCODE"}));
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(BackupMerge, IntoItsOwnRegionCountersAddAndTheRestStays) {
  persistence::MemEnv env;
  InProcessServer s(&env);
  ASSERT_TRUE(s.start_status().ok());
  s.Run({"INCRBY", "ctr", "7"});
  s.Run({"SET", "str", "v"});
  s.Run({"HSET", "h", "f", "x"});
  s.Run({"HINCRBY", "h", "n", "3"});
  s.Run({"ZADD", "z", "1.5", "a"});
  s.Run({"ZINCRBY", "z", "2", "b"});
  s.Run({"SADD", "s", "a"});
  s.Run({"RPUSH", "l", "a", "b"});
  s.Run({"XADD", "x", "1-1", "f", "v"});
  s.Run({"SET", "t", "v", "PX", "100000"});
  const v1::ImportReply counts = Merge(s, SnapshotOf(s, 3));
  EXPECT_EQ(counts.keys(), 8u);
  EXPECT_EQ(counts.merged(), 8u);
  EXPECT_EQ(counts.libraries_loaded() + counts.libraries_kept(), 0u);
  EXPECT_EQ(s.Run({"GET", "ctr"}), "$2\r\n14\r\n");
  EXPECT_EQ(s.Run({"GET", "str"}), "$1\r\nv\r\n");
  EXPECT_EQ(s.Run({"HGET", "h", "n"}), "$1\r\n6\r\n");
  EXPECT_EQ(s.Run({"HGET", "h", "f"}), "$1\r\nx\r\n");
  EXPECT_EQ(s.Run({"ZSCORE", "z", "a"}), "$3\r\n1.5\r\n");
  EXPECT_EQ(s.Run({"ZSCORE", "z", "b"}), "$1\r\n4\r\n");
  EXPECT_EQ(s.Run({"SCARD", "s"}), ":1\r\n");
  EXPECT_EQ(s.Run({"LRANGE", "l", "0", "-1"}),
            "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nb\r\n");
  EXPECT_EQ(s.Run({"XLEN", "x"}), ":1\r\n");
  EXPECT_EQ(s.Run({"PTTL", "t"}), ":100000\r\n");  // a live key keeps its expiry
}

TEST(BackupMerge, LogicalDatabasesFollowTheBackupsSwapdb) {
  persistence::MemEnv source_env, target_env;
  InProcessServer source(&source_env), target(&target_env);
  source.Run({"SET", "a", "in-db0"});
  source.Run({"SWAPDB", "0", "1"});  // "a" is now in logical database 1 (namespace 0)
  source.Run({"SET", "b", "in-db0"});
  Merge(target, SnapshotOf(source, 10));
  EXPECT_EQ(target.Run({"GET", "b"}), "$6\r\nin-db0\r\n");
  EXPECT_EQ(target.Run({"GET", "a"}), "$-1\r\n");
  target.Run({"SELECT", "1"});
  EXPECT_EQ(target.Run({"GET", "a"}), "$6\r\nin-db0\r\n");
}

TEST(BackupMerge, ExpiredKeysAreSkippedAndCreatedKeysKeepTheirDeadline) {
  persistence::MemEnv source_env, target_env;
  InProcessServer source(&source_env), target(&target_env);
  source.Run({"SET", "soon", "v", "PX", "1000"});
  source.Run({"SET", "later", "v", "PX", "5000"});
  const std::vector<v1::Snapshot> chunks = SnapshotOf(source, 10);
  target.now_ms = source.now_ms + 2000;
  const v1::ImportReply counts = Merge(target, chunks);
  EXPECT_EQ(counts.expired(), 1u);
  EXPECT_EQ(counts.created(), 1u);
  EXPECT_EQ(target.Run({"EXISTS", "soon"}), ":0\r\n");
  EXPECT_EQ(target.Run({"PTTL", "later"}), ":3000\r\n");
}

TEST(BackupMerge, ChunksOutOfOrderAreRefused) {
  persistence::MemEnv source_env, target_env;
  InProcessServer source(&source_env), target(&target_env);
  for (int i = 0; i < 10; ++i) source.Run({"SET", absl::StrCat("k", i), "v"});
  const std::vector<v1::Snapshot> chunks = SnapshotOf(source, 4);
  ASSERT_GE(chunks.size(), 3u);
  {
    BackupMerge merge(&target.server(), "b");
    EXPECT_EQ(merge.Add(chunks[1]).code(), absl::StatusCode::kInvalidArgument);
  }
  {
    BackupMerge merge(&target.server(), "b");
    ASSERT_TRUE(merge.Add(chunks[0]).ok());
    EXPECT_EQ(merge.Add(chunks[0]).code(), absl::StatusCode::kInvalidArgument);
  }
  {
    BackupMerge merge(&target.server(), "b");
    for (const v1::Snapshot& c : chunks) ASSERT_TRUE(merge.Add(c).ok());
    EXPECT_EQ(merge.Add(chunks.back()).code(), absl::StatusCode::kInvalidArgument);
  }
  v1::Snapshot bad = chunks[0];
  bad.mutable_keys(0)->add_writes();  // a write without its region: malformed
  BackupMerge merge(&target.server(), "b");
  EXPECT_EQ(merge.Add(bad).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace activekv::server
