// Restart recovery, torn tails, corruption and full disks, through the real Server on an
// in-memory / fault-injecting file system.
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "in_process_server.h"
#include "persistence/fault_env.h"

namespace activekv::server {
namespace {

constexpr char kAof[] = "/mem/r1/appendonly.aof";

std::string ReadAll(persistence::Env* env, const std::string& path) {
  auto file = env->NewSequentialFile(path);
  EXPECT_TRUE(file.ok()) << file.status();
  std::string out;
  std::string scratch(1 << 16, '\0');
  while (true) {
    std::string_view chunk;
    EXPECT_TRUE((*file)->Read(scratch.size(), &chunk, scratch.data()).ok());
    if (chunk.empty()) break;
    out.append(chunk);
  }
  return out;
}

void WriteAll(persistence::Env* env, const std::string& path, const std::string& data) {
  auto file = env->NewWritableFile(path, /*append=*/false);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE((*file)->Append(data).ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Close().ok());
}

TEST(Durability, AcknowledgedAlwaysWritesSurvivePowerLoss) {
  persistence::MemEnv env;
  {
    testing::InProcessServer s(&env, "always");
    ASSERT_TRUE(s.start_status().ok()) << s.start_status();
    for (int i = 0; i < 200; ++i) {
      ASSERT_EQ(s.Run({"incr", "counter"}), absl::StrCat(":", i + 1, "\r\n"));
      ASSERT_EQ(s.Run({"set", absl::StrCat("k", i), absl::StrCat("v", i)}), "+OK\r\n");
    }
    env.DropUnsyncedData();  // power loss right after the last acknowledgement
  }
  testing::InProcessServer s(&env, "always");
  ASSERT_TRUE(s.start_status().ok()) << s.start_status();
  EXPECT_EQ(s.Run({"get", "counter"}), "$3\r\n200\r\n");
  EXPECT_EQ(s.Run({"get", "k199"}), "$4\r\nv199\r\n");
  EXPECT_EQ(s.Run({"dbsize"}), ":201\r\n");
}

TEST(Durability, RestartKeepsExpiriesAndDeletes) {
  persistence::MemEnv env;
  int64_t now;
  {
    testing::InProcessServer s(&env);
    now = s.now_ms;
    ASSERT_EQ(s.Run({"set", "ttl", "v", "ex", "100"}), "+OK\r\n");
    ASSERT_EQ(s.Run({"set", "gone", "v"}), "+OK\r\n");
    ASSERT_EQ(s.Run({"del", "gone"}), ":1\r\n");
    ASSERT_EQ(s.Run({"incrbyfloat", "f", "1.1"}), "$3\r\n1.1\r\n");
  }
  testing::InProcessServer s(&env);
  s.now_ms = now;
  EXPECT_EQ(s.Run({"ttl", "ttl"}), ":100\r\n");
  EXPECT_EQ(s.Run({"exists", "gone"}), ":0\r\n");
  EXPECT_EQ(s.Run({"get", "f"}), "$3\r\n1.1\r\n");
}

TEST(Durability, TornTailIsTruncatedAndTheRestServed) {
  persistence::MemEnv env;
  {
    testing::InProcessServer s(&env);
    ASSERT_EQ(s.Run({"set", "a", "1"}), "+OK\r\n");
    ASSERT_EQ(s.Run({"set", "b", "2"}), "+OK\r\n");
  }
  std::string aof = ReadAll(&env, kAof);
  // Cut the last record in half: a torn write.
  WriteAll(&env, kAof, aof.substr(0, aof.size() - 5));
  testing::InProcessServer s(&env);
  ASSERT_TRUE(s.start_status().ok()) << s.start_status();
  EXPECT_EQ(s.Run({"get", "a"}), "$1\r\n1\r\n");
  EXPECT_EQ(s.Run({"get", "b"}), "$-1\r\n");
  EXPECT_EQ(s.Run({"set", "c", "3"}), "+OK\r\n") << "appends after the cut";
}

TEST(Durability, CorruptionMidFileRefusesToStartNamingFileAndOffset) {
  persistence::MemEnv env;
  {
    testing::InProcessServer s(&env);
    for (int i = 0; i < 10; ++i) ASSERT_EQ(s.Run({"set", absl::StrCat("k", i), "v"}), "+OK\r\n");
  }
  std::string aof = ReadAll(&env, kAof);
  aof[aof.size() / 2] ^= 0x40;
  WriteAll(&env, kAof, aof);
  testing::InProcessServer s(&env);
  ASSERT_FALSE(s.start_status().ok());
  std::string msg(s.start_status().message());
  EXPECT_NE(msg.find(kAof), std::string::npos) << msg;
  EXPECT_NE(msg.find("offset"), std::string::npos) << msg;
}

TEST(Durability, FullDiskRefusesWritesServesReadsAndLosesNothing) {
  persistence::MemEnv mem;
  persistence::FaultInjectionEnv env(&mem);
  std::vector<std::string> acknowledged;
  {
    testing::InProcessServer s(&env);
    ASSERT_TRUE(s.start_status().ok()) << s.start_status();
    ASSERT_EQ(s.Run({"set", "before", "x"}), "+OK\r\n");
    env.SetNoSpaceAfter(100);
    bool refused = false;
    for (int i = 0; i < 50 && !refused; ++i) {
      std::string key = absl::StrCat("k", i);
      std::string r = s.Run({"set", key, std::string(20, 'v')});
      if (r == "+OK\r\n") {
        acknowledged.push_back(key);
      } else {
        EXPECT_EQ(r.substr(0, 40), "-MISCONF Errors writing to the AOF file:") << r;
        refused = true;
      }
    }
    ASSERT_TRUE(refused) << "a full disk must refuse writes";
    EXPECT_EQ(s.Run({"get", "before"}), "$1\r\nx\r\n") << "reads keep working";
    env.ClearNoSpace();
    // The AOF retries failed writes at most every 100 ms: wait for the retry to succeed.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!s.region().aof()->Flush().ok() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_TRUE(s.region().aof()->health().ok());
    EXPECT_EQ(s.Run({"set", "after", "y"}), "+OK\r\n");
  }
  testing::InProcessServer s(&mem);
  ASSERT_TRUE(s.start_status().ok()) << s.start_status();
  for (const std::string& key : acknowledged) {
    EXPECT_EQ(s.Run({"exists", key}), ":1\r\n") << key << " was acknowledged";
  }
  EXPECT_EQ(s.Run({"get", "after"}), "$1\r\ny\r\n");
}

}  // namespace
}  // namespace activekv::server
