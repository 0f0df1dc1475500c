// SAVE / BGSAVE / LASTSAVE and the snapshot file (Region::StartSave / SaveStep), through the real
// Server on an in-memory / fault-injecting file system (docs/aof-format.md, "Snapshot files";
// docs/operations.md, "Snapshots").
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "in_process_server.h"
#include "persistence/env.h"
#include "persistence/fault_env.h"
#include "persistence/mem_env.h"

namespace activekv::server {
namespace {

constexpr char kDump[] = "/mem/r1/dump.akv";
constexpr char kAof[] = "/mem/r1/appendonly.aof";

void Populate(testing::InProcessServer& s, int keys) {
  for (int i = 0; i < keys; ++i) {
    ASSERT_EQ(s.Run({"set", absl::StrCat("k", i), std::string(100, 'v')}), "+OK\r\n");
  }
  s.Run({"incrby", "counter", "7"});
  s.Run({"hset", "h", "f", "1"});
  s.Run({"rpush", "l", "a", "b"});
}

// Runs a save to its end, calling `between` before every step.
template <typename F>
void RunSave(testing::InProcessServer& s, F between) {
  ASSERT_TRUE(s.region().StartSave().ok());
  bool running = true;
  int steps = 0;
  while (running) {
    between(steps++);
    s.region().SaveStep(&running);
    ASSERT_LT(steps, 1000000) << "the save never finished";
  }
}

// The file holds the keyspace as it was when the save started, whatever was written meanwhile:
// a server started on it as its AOF has exactly that state.
TEST(Save, TheSnapshotFileHoldsTheStateOfItsMomentWhileWritesGoOn) {
  persistence::MemEnv env;
  std::string digest_at_moment;
  {
    testing::InProcessServer s(&env);
    ASSERT_TRUE(s.start_status().ok()) << s.start_status();
    // About 13 MB: at least three steps of snapshot (kRewriteStepBytes is 4 MiB), whether or not
    // the file's fsync is done when the last one ends.
    Populate(s, 100000);
    digest_at_moment = s.Run({"crdt.digest"});
    int writes = 0;
    RunSave(s, [&](int step) {
      if (step == 0) return;
      // Overwrites, deletes and new keys between the steps, none of which may reach the file.
      s.Run({"set", absl::StrCat("k", step), "changed"});
      s.Run({"del", absl::StrCat("k", 30000 + step)});
      s.Run({"set", absl::StrCat("new", step), "x"});
      s.Run({"incrby", "counter", "1"});
      ++writes;
    });
    EXPECT_GT(writes, 1) << "the save ran in one step: the test shows nothing";
    const Region::SaveStats& st = s.region().save_stats();
    ASSERT_TRUE(st.last_status.ok()) << st.last_status;
    EXPECT_EQ(st.saves, 1u);
    EXPECT_FALSE(env.FileExists(std::string(kDump) + ".tmp"));
    EXPECT_NE(s.Run({"crdt.digest"}), digest_at_moment);
  }
  absl::StatusOr<std::string> dump = persistence::ReadFileToString(&env, kDump);
  ASSERT_TRUE(dump.ok()) << dump.status();
  persistence::MemEnv fresh;
  ASSERT_TRUE(fresh.CreateDirs("/mem/r1").ok());
  ASSERT_TRUE(persistence::WriteStringToFile(&fresh, *dump, kAof, true).ok());
  testing::InProcessServer restored(&fresh);
  ASSERT_TRUE(restored.start_status().ok()) << restored.start_status();
  EXPECT_EQ(restored.Run({"crdt.digest"}), digest_at_moment);
  EXPECT_EQ(restored.Run({"get", "counter"}), "$1\r\n7\r\n");
  EXPECT_EQ(restored.Run({"exists", "new1", "new2"}), ":0\r\n");
}

// One snapshot of the keyspace at a time: BGSAVE and BGREWRITEAOF wait for each other as
// Redis's children do, with Redis's replies.
TEST(Save, SaveAndRewriteNeverOverlapAndScheduleEachOther) {
  persistence::MemEnv env;
  testing::InProcessServer s(&env);
  ASSERT_TRUE(s.start_status().ok()) << s.start_status();
  Populate(s, 100);
  EXPECT_EQ(s.Run({"bgsave", "x"}), "-ERR syntax error\r\n");
  EXPECT_EQ(s.Run({"bgsave", "schedule", "x"}), "-ERR syntax error\r\n");
  ASSERT_EQ(s.Run({"bgsave"}), "+Background saving started\r\n");
  EXPECT_EQ(s.Run({"bgsave"}), "-ERR Background save already in progress\r\n");
  EXPECT_EQ(s.Run({"save"}), "-ERR Background save already in progress\r\n");
  EXPECT_EQ(s.Run({"bgrewriteaof"}), "+Background append only file rewriting scheduled\r\n");
  EXPECT_FALSE(s.region().StartRewrite().ok());
  EXPECT_NE(s.Run({"info", "persistence"}).find("rdb_bgsave_in_progress:1"), std::string::npos);
  EXPECT_NE(s.Run({"info", "persistence"}).find("aof_rewrite_scheduled:1"), std::string::npos);
  bool running = true;
  while (running) s.region().SaveStep(&running);
  ASSERT_TRUE(s.region().save_stats().last_status.ok());
  // A rewrite running: BGSAVE is refused unless scheduled; SAVE finishes the rewrite first.
  ASSERT_TRUE(s.region().StartRewrite().ok());
  EXPECT_EQ(s.Run({"bgsave"}),
            "-ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE "
            "SCHEDULE in order to schedule a BGSAVE whenever possible.\r\n");
  EXPECT_EQ(s.Run({"bgsave", "SCHEDULE"}), "+Background saving scheduled\r\n");
  EXPECT_FALSE(s.region().StartSave().ok());
  EXPECT_EQ(s.Run({"save"}), "+OK\r\n");
  EXPECT_EQ(s.region().rewrite_stats().rewrites, 1u);
  EXPECT_EQ(s.region().save_stats().saves, 2u);
  EXPECT_NE(s.Run({"info", "persistence"}).find("rdb_bgsave_scheduled:1"), std::string::npos);
}

TEST(Save, AFailedSaveKeepsThePreviousFileAndReportsTheError) {
  persistence::MemEnv mem;
  persistence::FaultInjectionEnv env(&mem);
  testing::InProcessServer s(&env);
  ASSERT_TRUE(s.start_status().ok()) << s.start_status();
  Populate(s, 100);
  ASSERT_EQ(s.Run({"save"}), "+OK\r\n");
  absl::StatusOr<std::string> before = persistence::ReadFileToString(&mem, kDump);
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(s.Run({"set", "later", "x"}), "+OK\r\n");
  EXPECT_EQ(s.Run({"info", "persistence"}).find("rdb_changes_since_last_save:0"),
            std::string::npos);
  env.SetSyncError(true);  // the snapshot's fsync fails
  EXPECT_EQ(s.Run({"save"}), "-ERR\r\n");
  env.SetSyncError(false);
  const std::string info = s.Run({"info", "persistence"});
  EXPECT_NE(info.find("rdb_last_bgsave_status:err"), std::string::npos) << info;
  EXPECT_NE(info.find("rdb_saves:1\r\n"), std::string::npos) << info;
  EXPECT_FALSE(mem.FileExists(std::string(kDump) + ".tmp"));
  absl::StatusOr<std::string> after = persistence::ReadFileToString(&mem, kDump);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, *before);
  // The next save succeeds and covers the change.
  EXPECT_EQ(s.Run({"save"}), "+OK\r\n");
  EXPECT_NE(s.Run({"info", "persistence"}).find("rdb_changes_since_last_save:0"),
            std::string::npos);
}

TEST(Save, LastSaveIsTheStartUntilASaveSucceeds) {
  persistence::MemEnv env;
  testing::InProcessServer s(&env);
  ASSERT_TRUE(s.start_status().ok()) << s.start_status();
  const std::string at_start = s.Run({"lastsave"});
  ASSERT_EQ(at_start.front(), ':');
  EXPECT_GE(std::stoll(at_start.substr(1)), 1700000000);  // the test clock's start
  ASSERT_EQ(s.Run({"save"}), "+OK\r\n");
  EXPECT_GE(std::stoll(s.Run({"lastsave"}).substr(1)), std::stoll(at_start.substr(1)));
}

TEST(Save, ALeftoverTemporaryFileIsRemovedAtStartup) {
  persistence::MemEnv env;
  ASSERT_TRUE(env.CreateDirs("/mem/r1").ok());
  ASSERT_TRUE(
      persistence::WriteStringToFile(&env, "half a snapshot", std::string(kDump) + ".tmp", true)
          .ok());
  testing::InProcessServer s(&env);
  ASSERT_TRUE(s.start_status().ok()) << s.start_status();
  EXPECT_FALSE(env.FileExists(std::string(kDump) + ".tmp"));
}

TEST(Save, SaveRulesAreValidatedAsRedisDoes) {
  persistence::MemEnv env;
  testing::InProcessServer s(&env);
  ASSERT_TRUE(s.start_status().ok()) << s.start_status();
  const std::string bad =
      "-ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters\r\n";
  for (std::string_view v : {"3600", "x 1", "-1 5", "0 0", "  3600   1  ", "3600 +1", "1 -1"}) {
    EXPECT_EQ(s.Run({"config", "set", "save", v}), bad) << v;
  }
  EXPECT_EQ(s.Run({"config", "set", "save", "3600 1 300 100"}), "+OK\r\n");
  EXPECT_EQ(s.Run({"config", "get", "save"}), "*2\r\n$4\r\nsave\r\n$14\r\n3600 1 300 100\r\n");
  EXPECT_EQ(s.Run({"config", "set", "save", ""}), "+OK\r\n");
  EXPECT_EQ(s.Run({"config", "get", "save"}), "*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
}

}  // namespace
}  // namespace activekv::server
