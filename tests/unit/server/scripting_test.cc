// Scripting through the dispatcher, in process: a script's writes are one unit (one AOF record),
// SELECT inside a script stays inside it, FUNCTION libraries are persisted ops that a restart
// replays, and the library map is a last-writer-wins register per name.
#include <string>
#include <vector>

#include "activekv/v1/op.pb.h"
#include "gtest/gtest.h"
#include "in_process_server.h"
#include "persistence/aof_reader.h"

namespace activekv::server {
namespace {

constexpr char kAof[] = "/mem/r1/appendonly.aof";

std::vector<v1::OpBatch> Records(persistence::Env* env) { return testing::AofOpRecords(env, kAof); }

TEST(Scripting, AScriptsWritesAreOneUnitInOneRecord) {
  persistence::MemEnv env;
  {
    testing::InProcessServer s(&env);
    ASSERT_TRUE(s.start_status().ok()) << s.start_status();
    ASSERT_EQ(s.Run({"eval",
                     "redis.call('set', KEYS[1], 'a') redis.call('incr', KEYS[2]) "
                     "redis.call('sadd', KEYS[3], 'm') return redis.call('get', KEYS[1])",
                     "3", "k", "n", "s"}),
              "$1\r\na\r\n");
    ASSERT_EQ(s.Run({"eval", "return redis.call('get', 'k')", "0"}), "$1\r\na\r\n");
  }
  std::vector<v1::OpBatch> records = Records(&env);
  ASSERT_EQ(records.size(), 1u);  // the read-only script wrote nothing
  ASSERT_EQ(records[0].ops_size(), 3);
  EXPECT_TRUE(records[0].ops(0).unit_continues());
  EXPECT_TRUE(records[0].ops(1).unit_continues());
  EXPECT_FALSE(records[0].ops(2).unit_continues());
}

TEST(Scripting, SelectInsideAScriptOnlyChangesTheScriptsDatabase) {
  persistence::MemEnv env;
  testing::InProcessServer s(&env);
  ASSERT_TRUE(s.start_status().ok());
  EXPECT_EQ(s.Run({"eval", "redis.call('select', '1') return redis.call('set', 'dbk', '1')", "0"}),
            "+OK\r\n");
  EXPECT_EQ(s.Run({"exists", "dbk"}), ":0\r\n");
  EXPECT_EQ(s.Run({"select", "1"}), "+OK\r\n");
  EXPECT_EQ(s.Run({"exists", "dbk"}), ":1\r\n");
}

TEST(Scripting, ScriptCallsGoThroughTheDispatcherChecks) {
  persistence::MemEnv env;
  testing::InProcessServer s(&env);
  ASSERT_TRUE(s.start_status().ok());
  EXPECT_EQ(s.Run({"eval", "return redis.pcall('get')", "0"}),
            "-ERR Wrong number of args calling Redis command from script\r\n");
  EXPECT_EQ(s.Run({"eval", "return redis.pcall('config', 'get', 'hz')", "0"}),
            "-ERR This Redis command is not allowed from script\r\n");
  EXPECT_EQ(s.Run({"eval_ro", "return redis.pcall('set', 'a', 'b')", "0"}),
            "-ERR Write commands are not allowed from read-only scripts.\r\n");
  EXPECT_EQ(s.Run({"eval", "return redis.pcall('set', 'a')", "0"}),
            "-ERR Wrong number of args calling Redis command from script\r\n");
  EXPECT_EQ(s.Run({"eval", "return redis.pcall('sadd', 'a', 'm')", "0"}), ":1\r\n");
  EXPECT_EQ(s.Run({"eval", "return redis.pcall('get', 'a')", "0"}),
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
}

TEST(Scripting, FunctionLibrariesArePersistedAndReplayed) {
  persistence::MemEnv env;
  const std::string lib =
      "#!lua name=lib\nredis.register_function('f', function(keys, args) return 'v1' end)";
  {
    testing::InProcessServer s(&env);
    ASSERT_TRUE(s.start_status().ok());
    ASSERT_EQ(s.Run({"function", "load", lib}), "$3\r\nlib\r\n");
    ASSERT_EQ(s.Run({"fcall", "f", "0"}), "$2\r\nv1\r\n");
    ASSERT_EQ(s.Run({"function", "load",
                     "#!lua name=gone\nredis.register_function('g', function() return 1 end)"}),
              "$4\r\ngone\r\n");
    ASSERT_EQ(s.Run({"function", "delete", "gone"}), "+OK\r\n");
  }
  std::vector<v1::OpBatch> records = Records(&env);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].ops(0).function().name(), "lib");
  EXPECT_EQ(records[0].ops(0).function().code(), lib);
  EXPECT_TRUE(records[2].ops(0).function().code().empty());
  testing::InProcessServer again(&env);
  ASSERT_TRUE(again.start_status().ok());
  EXPECT_EQ(again.Run({"fcall", "f", "0"}), "$2\r\nv1\r\n");
  EXPECT_EQ(again.Run({"fcall", "g", "0"}), "-ERR Function not found\r\n");
  EXPECT_EQ(again.Run({"function", "stats"}),
            "*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n"
            "$15\r\nlibraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:1\r\n");
}

TEST(Scripting, ConcurrentLoadsOfALibraryKeepTheLaterOne) {
  persistence::MemEnv env;
  testing::InProcessServer s(&env);
  ASSERT_TRUE(s.start_status().ok());
  crdt::Keyspace& ks = s.region().ks();
  auto remote = [&](const std::string& origin, uint64_t hlc, const std::string& code) {
    v1::Op op;
    op.set_origin(origin);
    op.set_seq(1);
    op.set_hlc(hlc);
    op.mutable_function()->set_name("lib");
    op.mutable_function()->set_code(code);
    ASSERT_TRUE(ks.Apply(op).ok());
  };
  const std::string v2 = "#!lua name=lib\nredis.register_function('f', function() return 'v2' end)";
  const std::string v3 = "#!lua name=lib\nredis.register_function('f', function() return 'v3' end)";
  remote("b", uint64_t{2000} << 16, v3);
  remote("a", uint64_t{1999} << 16, v2);  // earlier: loses
  EXPECT_EQ(s.Run({"fcall", "f", "0"}), "$2\r\nv3\r\n");
  remote("c", uint64_t{3000} << 16, "");  // a later delete
  EXPECT_EQ(s.Run({"fcall", "f", "0"}), "-ERR Function not found\r\n");
}

}  // namespace
}  // namespace activekv::server
