// AOF rewrite (Region::StartRewrite / RewriteStep) and snapshot records at startup, through the
// real Server on an in-memory / fault-injecting file system (docs/aof-format.md, "Snapshots and
// rewrite").
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "activekv/v1/snapshot.pb.h"
#include "crdt/keyspace.h"
#include "crdt/op_builder.h"
#include "gtest/gtest.h"
#include "in_process_server.h"
#include "persistence/aof_writer.h"
#include "persistence/fault_env.h"
#include "persistence/mem_env.h"
#include "region-server/snapshot_file.h"

namespace activekv::server {
namespace {

constexpr char kAof[] = "/mem/r1/appendonly.aof";

uint64_t SizeOf(persistence::Env* env, const std::string& path) {
  absl::StatusOr<uint64_t> size = env->GetFileSize(path);
  EXPECT_TRUE(size.ok()) << size.status();
  return size.ok() ? *size : 0;
}

// Runs a rewrite to its end, calling `between` before every step (writes meanwhile).
template <typename F>
void RunRewrite(testing::InProcessServer& s, F between) {
  ASSERT_TRUE(s.region().StartRewrite().ok());
  bool running = true;
  int steps = 0;
  while (running) {
    between(steps++);
    ASSERT_TRUE(s.region().RewriteStep(&running).ok());
    ASSERT_LT(steps, 100000) << "the rewrite never finished";
  }
}

// Every kind of state: overwritten strings, counters (int, float, folded), expiries, deletes.
void Populate(testing::InProcessServer& s) {
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 200; ++i) {
      ASSERT_EQ(s.Run({"set", absl::StrCat("k", i), absl::StrCat("v", round)}), "+OK\r\n");
    }
    s.Run({"incrby", "counter", "3"});
    s.Run({"incrbyfloat", "float", "0.1"});
  }
  ASSERT_EQ(s.Run({"expire", "k1", "1000"}), ":1\r\n");
  ASSERT_EQ(s.Run({"del", "k2", "k3"}), ":2\r\n");
  // A list (packed in snapshots): pushes at both ends, LINSERTs (deeper positions), an LSET, a
  // value with every byte, pops.
  for (int i = 0; i < 500; ++i) s.Run({"rpush", "list", absl::StrCat("r", i)});
  for (int i = 0; i < 100; ++i) s.Run({"lpush", "list", absl::StrCat("l", i)});
  for (int i = 0; i < 50; ++i) s.Run({"linsert", "list", "before", "r7", absl::StrCat("in", i)});
  std::string bytes;
  for (int c = 0; c < 256; ++c) bytes.push_back(static_cast<char>(c));
  ASSERT_EQ(s.Run({"lset", "list", "3", bytes}), "+OK\r\n");
  ASSERT_EQ(s.Run({"lpop", "list", "2"}), "*2\r\n$3\r\nl99\r\n$3\r\nl98\r\n");
  s.Run({"rpop", "list"});
}

TEST(Rewrite, CompactsTheAofWhileWritesGoOnAndARestartRestoresEverything) {
  persistence::MemEnv env;
  std::string digest;
  std::string list;
  uint64_t before = 0;
  {
    testing::InProcessServer s(&env);
    ASSERT_TRUE(s.start_status().ok()) << s.start_status();
    Populate(s);
    before = SizeOf(&env, kAof);
    RunRewrite(s, [&](int step) {
      // Writes during the rewrite: a new key, an overwrite, a delete, a counter.
      s.Run({"set", absl::StrCat("during", step), "x"});
      s.Run({"set", "k4", absl::StrCat("during", step)});
      s.Run({"incr", "counter"});
      if (step == 0) s.Run({"del", "k5"});
    });
    const Region::RewriteStats& st = s.region().rewrite_stats();
    EXPECT_TRUE(st.last_status.ok()) << st.last_status;
    EXPECT_EQ(st.rewrites, 1u);
    EXPECT_FALSE(env.FileExists(std::string(kAof) + ".rewrite"));
    EXPECT_LT(st.snapshot_bytes, before / 5) << "4,000 overwrites of 200 keys compact";
    EXPECT_EQ(st.base_size, SizeOf(&env, kAof));
    s.Run({"set", "after", "y"});
    digest = s.Run({"crdt.digest"});
    list = s.Run({"lrange", "list", "0", "-1"});
  }
  testing::InProcessServer s(&env);
  ASSERT_TRUE(s.start_status().ok()) << s.start_status();
  EXPECT_EQ(s.Run({"crdt.digest"}), digest);
  EXPECT_EQ(s.Run({"lrange", "list", "0", "-1"}), list);
  EXPECT_EQ(s.Run({"llen", "list"}), ":647\r\n");
  EXPECT_EQ(s.Run({"get", "float"}), "$1\r\n2\r\n");
  EXPECT_EQ(s.Run({"get", "k5"}), "$-1\r\n");
  EXPECT_EQ(s.Run({"ttl", "k1"}), ":1000\r\n");
  EXPECT_EQ(s.Run({"get", "after"}), "$1\r\ny\r\n");
}

// A key whose state alone is larger than SnapshotFileWriter::kBufferedChunkBytes is streamed
// into its record in blocks (checksum first): the file must read back the same.
TEST(Rewrite, AKeyLargerThanTheChunkBufferIsStreamedAndReadBackWhole) {
  persistence::MemEnv env;
  std::string digest;
  std::string list;
  {
    testing::InProcessServer s(&env);
    ASSERT_TRUE(s.start_status().ok()) << s.start_status();
    for (int i = 0; i < 300; ++i) {
      std::string value(20 << 10, static_cast<char>('a' + i % 26));
      value += std::to_string(i);
      s.Run({"rpush", "big", value});
    }
    s.Run({"set", "small", "v"});
    RunRewrite(s, [&](int step) { s.Run({"rpush", "big", absl::StrCat("during", step)}); });
    const Region::RewriteStats& st = s.region().rewrite_stats();
    EXPECT_TRUE(st.last_status.ok()) << st.last_status;
    EXPECT_GT(st.snapshot_bytes, SnapshotFileWriter::kBufferedChunkBytes);
    digest = s.Run({"crdt.digest"});
    list = s.Run({"lrange", "big", "0", "-1"});
  }
  testing::InProcessServer s(&env);
  ASSERT_TRUE(s.start_status().ok()) << s.start_status();
  EXPECT_EQ(s.Run({"crdt.digest"}), digest);
  EXPECT_EQ(s.Run({"lrange", "big", "0", "-1"}), list);
  EXPECT_EQ(s.Run({"get", "small"}), "$1\r\nv\r\n");
}

// Numbered databases (docs/crdt-semantics.md, "Databases") through the commands, an AOF rewrite
// (snapshot records carry each key's namespace, the SWAPDB mapping and the FLUSHDB frontiers) and
// a restart that replays the rewritten AOF plus its tail.
TEST(Rewrite, DatabasesAndTheSwapDbMappingSurviveARewriteAndARestart) {
  persistence::MemEnv env;
  std::string digest;
  {
    testing::InProcessServer s(&env);
    ASSERT_TRUE(s.start_status().ok()) << s.start_status();
    EXPECT_EQ(s.Run({"select", "3"}), "+OK\r\n");
    EXPECT_EQ(s.Run({"set", "k", "three"}), "+OK\r\n");
    EXPECT_EQ(s.Run({"sadd", "s", "m"}), ":1\r\n");
    EXPECT_EQ(s.Run({"dbsize"}), ":2\r\n");
    EXPECT_EQ(s.Run({"select", "0"}), "+OK\r\n");
    EXPECT_EQ(s.Run({"get", "k"}), "$-1\r\n");
    EXPECT_EQ(s.Run({"set", "k", "zero"}), "+OK\r\n");
    EXPECT_EQ(s.Run({"move", "k", "3"}), ":0\r\n") << "db 3 has k";
    EXPECT_EQ(s.Run({"move", "k", "7"}), ":1\r\n");
    EXPECT_EQ(s.Run({"swapdb", "3", "4"}), "+OK\r\n");
    RunRewrite(s, [&](int step) {
      // A write per step (in db 0), as the other rewrite tests: the steps wait on the AOF.
      s.Run({"set", absl::StrCat("during", step), "x"});
      if (step == 0) {
        EXPECT_EQ(s.Run({"swapdb", "7", "8"}), "+OK\r\n");
      }
    });
    EXPECT_TRUE(s.region().rewrite_stats().last_status.ok());
    EXPECT_EQ(s.Run({"select", "4"}), "+OK\r\n");
    EXPECT_EQ(s.Run({"flushdb"}), "+OK\r\n");
    EXPECT_EQ(s.Run({"set", "after", "flush"}), "+OK\r\n");
    digest = s.Run({"crdt.digest"});
  }
  testing::InProcessServer s(&env);
  ASSERT_TRUE(s.start_status().ok()) << s.start_status();
  EXPECT_EQ(s.Run({"crdt.digest"}), digest);
  EXPECT_EQ(s.Run({"select", "8"}), "+OK\r\n");
  EXPECT_EQ(s.Run({"get", "k"}), "$4\r\nzero\r\n");
  EXPECT_EQ(s.Run({"select", "4"}), "+OK\r\n");
  EXPECT_EQ(s.Run({"keys", "*"}), "*1\r\n$5\r\nafter\r\n");
  EXPECT_EQ(s.Run({"select", "3"}), "+OK\r\n");
  EXPECT_EQ(s.Run({"dbsize"}), ":0\r\n");
  std::string info = s.Run({"info", "keyspace"});
  EXPECT_NE(info.find("db4:keys=1,expires=0,avg_ttl=0"), std::string::npos) << info;
  EXPECT_NE(info.find("db8:keys=1,expires=0,avg_ttl=0"), std::string::npos) << info;
  EXPECT_EQ(info.find("db3:"), std::string::npos) << info;
}

// A SET appended to the AOF without waiting for it, as a reply that waits on its LSN would be:
// at the next step it is still in the AOF's buffer. Returns that LSN.
uint64_t SetUnwaited(testing::InProcessServer& s, const std::string& key) {
  s.region().RefreshClock();
  s.region().SelectDb(0);
  s.region().EmitSet(key, "v", v1::ExpiryChange::PERSIST);
  return s.region().Commit();
}

// Every write the region counts as durable (a reply waiting on it would go out) survives.
template <typename Pending>
void KeepDurable(testing::InProcessServer& s, const Pending& pending,
                 std::vector<std::string>* acked) {
  for (const auto& [key, lsn] : pending) {
    if (s.region().durable_lsn() >= lsn) acked->push_back(key);
  }
}

TEST(Rewrite, AcknowledgedAlwaysWritesSurvivePowerLossRightAfterTheSwitch) {
  persistence::MemEnv env;
  std::vector<std::string> acked;
  {
    testing::InProcessServer s(&env, "always");
    ASSERT_TRUE(s.start_status().ok()) << s.start_status();
    Populate(s);
    std::vector<std::pair<std::string, uint64_t>> pending;
    RunRewrite(s, [&](int step) {
      std::string key = absl::StrCat("acked", step);
      if (s.Run({"set", key, "v"}) == "+OK\r\n") acked.push_back(key);
      key = absl::StrCat("pending", step);
      pending.emplace_back(key, SetUnwaited(s, key));
    });
    ASSERT_TRUE(s.region().rewrite_stats().last_status.ok());
    KeepDurable(s, pending, &acked);
    env.DropUnsyncedData();
  }
  testing::InProcessServer s(&env, "always");
  ASSERT_TRUE(s.start_status().ok()) << s.start_status();
  ASSERT_FALSE(acked.empty());
  for (const std::string& key : acked) EXPECT_EQ(s.Run({"exists", key}), ":1\r\n") << key;
  EXPECT_EQ(s.Run({"get", "counter"}), "$2\r\n60\r\n");
}

// The old AOF is closed without an fsync only once the new file's rename is durable: when the
// rename fails, the old AOF is synced and stays the AOF.
TEST(Rewrite, AcknowledgedAlwaysWritesSurvivePowerLossAfterAFailedSwitch) {
  persistence::MemEnv mem;
  persistence::FaultInjectionEnv env(&mem);
  std::vector<std::string> acked;
  {
    testing::InProcessServer s(&env, "always");
    ASSERT_TRUE(s.start_status().ok()) << s.start_status();
    Populate(s);
    env.SetRenameError(true);
    std::vector<std::pair<std::string, uint64_t>> pending;
    RunRewrite(s, [&](int step) {
      std::string key = absl::StrCat("acked", step);
      if (s.Run({"set", key, "v"}) == "+OK\r\n") acked.push_back(key);
      key = absl::StrCat("pending", step);
      pending.emplace_back(key, SetUnwaited(s, key));
    });
    env.SetRenameError(false);
    EXPECT_FALSE(s.region().rewrite_stats().last_status.ok());
    KeepDurable(s, pending, &acked);
    EXPECT_FALSE(mem.FileExists(std::string(kAof) + ".rewrite"));
    if (s.Run({"set", "after", "v"}) == "+OK\r\n") acked.push_back("after");
    mem.DropUnsyncedData();
  }
  testing::InProcessServer s(&mem, "always");
  ASSERT_TRUE(s.start_status().ok()) << s.start_status();
  ASSERT_GT(acked.size(), 1u);
  for (const std::string& key : acked) EXPECT_EQ(s.Run({"exists", key}), ":1\r\n") << key;
  EXPECT_EQ(s.Run({"get", "counter"}), "$2\r\n60\r\n");
}

TEST(Rewrite, ASecondRewriteWhileOneRunsIsRefused) {
  persistence::MemEnv env;
  testing::InProcessServer s(&env);
  ASSERT_TRUE(s.start_status().ok()) << s.start_status();
  Populate(s);
  ASSERT_EQ(s.Run({"bgrewriteaof"}), "+Background append only file rewriting started\r\n");
  EXPECT_EQ(s.Run({"bgrewriteaof"}),
            "-ERR Background append only file rewriting already in progress\r\n");
}

TEST(Rewrite, AFailedRewriteKeepsTheOldAofAndReportsTheError) {
  persistence::MemEnv mem;
  persistence::FaultInjectionEnv env(&mem);
  std::string digest;
  {
    testing::InProcessServer s(&env);
    ASSERT_TRUE(s.start_status().ok()) << s.start_status();
    Populate(s);
    const uint64_t before = SizeOf(&mem, kAof);
    ASSERT_TRUE(s.region().StartRewrite().ok());
    env.SetSyncError(true);  // the snapshot's fsync fails
    bool running = true;
    while (running) ASSERT_TRUE(s.region().RewriteStep(&running).ok());
    env.SetSyncError(false);
    const Region::RewriteStats& st = s.region().rewrite_stats();
    EXPECT_FALSE(st.last_status.ok());
    EXPECT_EQ(st.rewrites, 0u);
    EXPECT_FALSE(mem.FileExists(std::string(kAof) + ".rewrite"));
    EXPECT_GE(SizeOf(&mem, kAof), before);
    EXPECT_NE(s.Run({"info", "persistence"}).find("aof_last_bgrewrite_status:err"),
              std::string::npos);
    EXPECT_EQ(s.Run({"set", "after", "y"}), "+OK\r\n");
    digest = s.Run({"crdt.digest"});
  }
  testing::InProcessServer s(&mem);
  ASSERT_TRUE(s.start_status().ok()) << s.start_status();
  EXPECT_EQ(s.Run({"crdt.digest"}), digest);
}

// Appends to the AOF the first chunk of a snapshot a peer sent, without its last one (a crash
// while appending): key "from-peer".
void AppendIncompleteSnapshot(persistence::Env* env) {
  v1::Snapshot chunk;
  chunk.set_first(true);
  v1::VersionEntry* v = chunk.add_version();
  v->set_region("r2");
  v->set_seq(1);
  v1::KeyState* key = chunk.add_keys();
  key->set_key("from-peer");
  v1::KeyState::Write* w = key->add_writes();
  w->set_region("r2");
  w->set_seq(1);
  w->set_hlc(1);
  w->set_value("x");
  std::string record;
  persistence::aof::EncodeRecord(chunk.SerializeAsString(), &record,
                                 persistence::aof::kSnapshotType);
  auto file = env->NewWritableFile(kAof, /*append=*/true);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append(record).ok());
  ASSERT_TRUE((*file)->Close().ok());
}

TEST(Rewrite, AnIncompleteSnapshotAtTheEndIsCutOffLikeATornTail) {
  persistence::MemEnv env;
  std::string digest;
  uint64_t good = 0;
  {
    testing::InProcessServer s(&env);
    ASSERT_TRUE(s.start_status().ok()) << s.start_status();
    Populate(s);
    digest = s.Run({"crdt.digest"});
  }
  good = SizeOf(&env, kAof);
  AppendIncompleteSnapshot(&env);
  testing::InProcessServer s(&env);
  ASSERT_TRUE(s.start_status().ok()) << s.start_status();
  EXPECT_EQ(s.Run({"crdt.digest"}), digest);
  EXPECT_EQ(s.Run({"exists", "from-peer"}), ":0\r\n");
  EXPECT_EQ(SizeOf(&env, kAof), good);
}

// The same as the first thing in the AOF (a joining region's first full resync): replay adopts a
// snapshot into an empty keyspace chunk by chunk (Keyspace::AdoptChunk), and undoes the chunks
// it took when the last one never comes.
TEST(Rewrite, AnIncompleteSnapshotAloneInTheAofIsCutOffAndLeavesNothing) {
  persistence::MemEnv env;
  std::string empty_digest;
  {
    testing::InProcessServer s(&env);
    ASSERT_TRUE(s.start_status().ok()) << s.start_status();
    empty_digest = s.Run({"crdt.digest"});
  }
  const uint64_t good = SizeOf(&env, kAof);  // the file's header
  AppendIncompleteSnapshot(&env);
  testing::InProcessServer s(&env);
  ASSERT_TRUE(s.start_status().ok()) << s.start_status();
  EXPECT_EQ(s.Run({"exists", "from-peer"}), ":0\r\n");
  EXPECT_EQ(s.Run({"dbsize"}), ":0\r\n");
  EXPECT_EQ(s.Run({"crdt.digest"}), empty_digest);
  EXPECT_EQ(SizeOf(&env, kAof), good);
  // And the region works on from there.
  EXPECT_EQ(s.Run({"set", "k", "v"}), "+OK\r\n");
  EXPECT_EQ(s.Run({"dbsize"}), ":1\r\n");
}

// The clock observes every HLC a merged snapshot carries, hash and set elements included: a local
// write made afterwards is later in the LWW order than everything the snapshot held.
TEST(Rewrite, AMergedSnapshotAdvancesTheClockPastItsCollectionElements) {
  persistence::MemEnv env;
  testing::InProcessServer s(&env);
  crdt::Keyspace peer("r2", {"r1", "r2"});
  const crdt::Hlc future = crdt::HlcFromMs(s.region().NowMs() + 3'600'000);
  v1::Op op;
  crdt::MakeSetAddOp(peer, future, "s", &op);
  crdt::AddSetElement("m", &op);
  ASSERT_TRUE(peer.Apply(op).ok());
  v1::Op hop;
  crdt::MakeHashSetOp(peer, future + 1, "h", &hop);
  crdt::AddHashElement("f", "v", &hop);
  ASSERT_TRUE(peer.Apply(hop).ok());
  v1::Op lop;
  crdt::MakeListInsertOp(peer, future + 100, "l", crdt::ListValue().PlaceAtTail(future + 100),
                         &lop);
  crdt::AddListValue("e", &lop);
  ASSERT_TRUE(peer.Apply(lop).ok());
  peer.BeginSnapshot();
  std::vector<v1::Snapshot> chunks;
  while (peer.snapshot_active()) {
    chunks.emplace_back();
    peer.NextSnapshotChunk(16, &chunks.back());
  }
  ASSERT_TRUE(s.region().ApplySnapshot(chunks).ok());
  ASSERT_EQ(s.Run({"sadd", "s", "local"}), ":1\r\n");
  const crdt::SetValue* set = s.region().ks().Find("s")->set();
  const crdt::SetValue::Member* local = set->Find("local");
  ASSERT_NE(local, nullptr);
  EXPECT_GT(local->instances[0].hlc, future + 1);
  // A list's elements are packed in the snapshot: their stamps count too.
  ASSERT_EQ(s.Run({"rpush", "l", "local"}), ":2\r\n");
  const crdt::ListValue* list = s.region().ks().Find("l")->list();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_GT(list->at(1).hlc, future + 100);
}

TEST(Rewrite, ALeftoverRewriteFileIsRemovedAtStartup) {
  persistence::MemEnv env;
  std::string digest;
  {
    testing::InProcessServer s(&env);
    ASSERT_TRUE(s.start_status().ok()) << s.start_status();
    Populate(s);
    digest = s.Run({"crdt.digest"});
  }
  {
    auto file = env.NewWritableFile(std::string(kAof) + ".rewrite", /*append=*/false);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append("half a rewrite").ok());
    ASSERT_TRUE((*file)->Close().ok());
  }
  testing::InProcessServer s(&env);
  ASSERT_TRUE(s.start_status().ok()) << s.start_status();
  EXPECT_FALSE(env.FileExists(std::string(kAof) + ".rewrite"));
  EXPECT_EQ(s.Run({"crdt.digest"}), digest);
}

}  // namespace
}  // namespace activekv::server
