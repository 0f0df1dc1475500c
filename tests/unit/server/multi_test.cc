// MULTI / EXEC / DISCARD / WATCH / UNWATCH (region-server/multi.h, watch.h): Redis 7.0's replies,
// EXEC as one unit, and what makes a watching client's EXEC abort -- writes of any client, ops
// from another region, expiry, flushes, SWAPDB.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "activekv/v1/op.pb.h"
#include "gtest/gtest.h"
#include "in_process_server.h"
#include "persistence/aof_reader.h"
#include "persistence/fault_env.h"

namespace activekv::server {
namespace {

constexpr char kAof[] = "/mem/r1/appendonly.aof";
constexpr char kNullArray[] = "*-1\r\n";
constexpr char kExecAbort[] = "-EXECABORT Transaction discarded because of previous errors.\r\n";

std::vector<v1::OpBatch> Records(persistence::Env* env) { return testing::AofOpRecords(env, kAof); }

// An op batch from another region ("x") that SETs `key` in namespace 0 to "remote".
std::string RemoteSet(uint64_t seq, const std::string& key) {
  v1::OpBatch batch;
  v1::Op* op = batch.add_ops();
  op->set_origin("x");
  op->set_seq(seq);
  op->set_hlc(uint64_t{1'700'000'000'000} << 16);
  op->set_key(key);
  op->mutable_set()->set_value("remote");
  return batch.SerializeAsString();
}

class TransactionTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(s_.start_status().ok()) << s_.start_status(); }
  std::string Run(std::initializer_list<std::string_view> args) { return s_.Run(args); }
  std::string Other(std::initializer_list<std::string_view> args) { return s_.Run(&other_, args); }

  Client other_;  // a second connection (declared before the server: destroyed after it)
  persistence::MemEnv env_;
  testing::InProcessServer s_{&env_};
};

TEST_F(TransactionTest, QueuedCommandsRunAtExecAndReplyAsOneArray) {
  EXPECT_EQ(Run({"multi"}), "+OK\r\n");
  EXPECT_EQ(Run({"set", "a", "1"}), "+QUEUED\r\n");
  EXPECT_EQ(Run({"incr", "a"}), "+QUEUED\r\n");
  EXPECT_EQ(Run({"get", "a"}), "+QUEUED\r\n");
  EXPECT_EQ(Other({"get", "a"}), "$-1\r\n") << "nothing runs before EXEC";
  EXPECT_EQ(Run({"exec"}), "*3\r\n+OK\r\n:2\r\n$1\r\n2\r\n");
  EXPECT_EQ(Run({"exec"}), "-ERR EXEC without MULTI\r\n");
  EXPECT_EQ(Run({"multi"}), "+OK\r\n");
  EXPECT_EQ(Run({"exec"}), "*0\r\n");
}

TEST_F(TransactionTest, ErrorsOfQueuedCommandsArePerCommand) {
  ASSERT_EQ(Run({"set", "s", "v"}), "+OK\r\n");
  EXPECT_EQ(Run({"multi"}), "+OK\r\n");
  EXPECT_EQ(Run({"sadd", "s", "m"}), "+QUEUED\r\n");
  EXPECT_EQ(Run({"incr", "n"}), "+QUEUED\r\n");
  EXPECT_EQ(Run({"exec"}),
            "*2\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n:1\r\n");
}

TEST_F(TransactionTest, ErrorsWhileQueueingAbortTheTransaction) {
  const std::vector<std::vector<std::string_view>> refused = {
      {"nosuchcommand", "a"}, {"set", "a"},      {"client", "foo"},
      {"client", "setname"},  {"config", "get"}, {"object", "nosuch", "k"},
  };
  const std::vector<std::string> errors = {
      "-ERR unknown command 'nosuchcommand', with args beginning with: 'a' \r\n",
      "-ERR wrong number of arguments for 'set' command\r\n",
      "-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n",
      "-ERR wrong number of arguments for 'client|setname' command\r\n",
      "-ERR wrong number of arguments for 'config|get' command\r\n",
      "-ERR unknown subcommand 'nosuch'. Try OBJECT HELP.\r\n",
  };
  for (size_t i = 0; i < refused.size(); ++i) {
    SCOPED_TRACE(refused[i][0]);
    ASSERT_EQ(Run({"multi"}), "+OK\r\n");
    EXPECT_EQ(Run({"set", "k", "1"}), "+QUEUED\r\n");
    EXPECT_EQ(s_.Run(refused[i]), errors[i]);
    EXPECT_EQ(Run({"incr", "k"}), "+QUEUED\r\n");
    EXPECT_EQ(Run({"exec"}), kExecAbort);
    EXPECT_EQ(Run({"get", "k"}), "$-1\r\n") << "nothing of it ran";
    EXPECT_EQ(Run({"exec"}), "-ERR EXEC without MULTI\r\n") << "the transaction is over";
  }
  // DISCARD ends a flagged transaction too.
  ASSERT_EQ(Run({"multi"}), "+OK\r\n");
  ASSERT_EQ(Run({"get"}), "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(Run({"discard"}), "+OK\r\n");
  EXPECT_EQ(Run({"discard"}), "-ERR DISCARD without MULTI\r\n");
}

TEST_F(TransactionTest, TransactionCommandsOutOfPlace) {
  EXPECT_EQ(Run({"discard"}), "-ERR DISCARD without MULTI\r\n");
  EXPECT_EQ(Run({"exec", "x"}),
            "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' "
            "command\r\n");
  ASSERT_EQ(Run({"multi"}), "+OK\r\n");
  // Neither refusal flags the transaction (they are run, not rejected, as in Redis).
  EXPECT_EQ(Run({"multi"}), "-ERR MULTI calls can not be nested\r\n");
  EXPECT_EQ(Run({"watch", "k"}), "-ERR WATCH inside MULTI is not allowed\r\n");
  EXPECT_EQ(Run({"unwatch"}), "+QUEUED\r\n");
  EXPECT_EQ(Run({"exec"}), "*1\r\n+OK\r\n");
}

TEST_F(TransactionTest, ExecOfManyCommandsIsOneUnitInOneRecord) {
  ASSERT_EQ(Run({"multi"}), "+OK\r\n");
  ASSERT_EQ(Run({"set", "a", "1"}), "+QUEUED\r\n");
  ASSERT_EQ(Run({"get", "a"}), "+QUEUED\r\n");
  ASSERT_EQ(Run({"incrby", "c", "5"}), "+QUEUED\r\n");
  ASSERT_EQ(Run({"hset", "h", "f", "v"}), "+QUEUED\r\n");
  ASSERT_EQ(Run({"exec"}), "*4\r\n+OK\r\n$1\r\n1\r\n:5\r\n:1\r\n");
  ASSERT_EQ(Run({"set", "after", "1"}), "+OK\r\n");
  std::vector<v1::OpBatch> records = Records(&env_);
  ASSERT_EQ(records.size(), 2u);
  ASSERT_EQ(records[0].ops_size(), 3);
  EXPECT_TRUE(records[0].ops(0).unit_continues());
  EXPECT_TRUE(records[0].ops(1).unit_continues());
  EXPECT_FALSE(records[0].ops(2).unit_continues()) << "the EXEC's last op closes its unit";
}

TEST_F(TransactionTest, AnotherClientsWriteAbortsExec) {
  ASSERT_EQ(Run({"set", "k", "1"}), "+OK\r\n");
  EXPECT_EQ(Run({"watch", "k", "other"}), "+OK\r\n");
  EXPECT_EQ(Other({"set", "k", "2"}), "+OK\r\n");
  ASSERT_EQ(Run({"multi"}), "+OK\r\n");
  ASSERT_EQ(Run({"set", "k", "mine"}), "+QUEUED\r\n");
  EXPECT_EQ(Run({"exec"}), kNullArray);
  EXPECT_EQ(Run({"get", "k"}), "$1\r\n2\r\n");
  // The watch ended with EXEC: the next transaction commits.
  EXPECT_EQ(Other({"set", "k", "3"}), "+OK\r\n");
  ASSERT_EQ(Run({"multi"}), "+OK\r\n");
  ASSERT_EQ(Run({"set", "k", "mine"}), "+QUEUED\r\n");
  EXPECT_EQ(Run({"exec"}), "*1\r\n+OK\r\n");
}

TEST_F(TransactionTest, WritesToOtherKeysOrDatabasesDoNotAbort) {
  EXPECT_EQ(Run({"watch", "k"}), "+OK\r\n");
  EXPECT_EQ(Other({"set", "k2", "x"}), "+OK\r\n");
  EXPECT_EQ(Other({"select", "1"}), "+OK\r\n");
  EXPECT_EQ(Other({"set", "k", "x"}), "+OK\r\n") << "k of database 1 is another key";
  ASSERT_EQ(Run({"multi"}), "+OK\r\n");
  EXPECT_EQ(Run({"exec"}), "*0\r\n");
}

TEST_F(TransactionTest, OwnWriteBetweenWatchAndExecAborts) {
  EXPECT_EQ(Run({"watch", "k"}), "+OK\r\n");
  EXPECT_EQ(Run({"set", "k", "1"}), "+OK\r\n");
  ASSERT_EQ(Run({"multi"}), "+OK\r\n");
  EXPECT_EQ(Run({"exec"}), kNullArray);
}

TEST_F(TransactionTest, UnwatchAndDiscardForgetTheWatchedKeys) {
  EXPECT_EQ(Run({"watch", "k"}), "+OK\r\n");
  EXPECT_EQ(Run({"unwatch"}), "+OK\r\n");
  EXPECT_EQ(Other({"set", "k", "1"}), "+OK\r\n");
  ASSERT_EQ(Run({"multi"}), "+OK\r\n");
  EXPECT_EQ(Run({"exec"}), "*0\r\n");
  // UNWATCH also clears the dirty flag.
  EXPECT_EQ(Run({"watch", "k"}), "+OK\r\n");
  EXPECT_EQ(Other({"set", "k", "2"}), "+OK\r\n");
  EXPECT_EQ(Run({"unwatch"}), "+OK\r\n");
  ASSERT_EQ(Run({"multi"}), "+OK\r\n");
  EXPECT_EQ(Run({"exec"}), "*0\r\n");
  // DISCARD unwatches.
  EXPECT_EQ(Run({"watch", "k"}), "+OK\r\n");
  ASSERT_EQ(Run({"multi"}), "+OK\r\n");
  EXPECT_EQ(Run({"discard"}), "+OK\r\n");
  EXPECT_EQ(Other({"set", "k", "3"}), "+OK\r\n");
  ASSERT_EQ(Run({"multi"}), "+OK\r\n");
  EXPECT_EQ(Run({"exec"}), "*0\r\n");
  EXPECT_TRUE(s_.server().watches().empty());
}

TEST_F(TransactionTest, ResetEndsTheTransactionAndTheWatches) {
  EXPECT_EQ(Run({"watch", "k"}), "+OK\r\n");
  ASSERT_EQ(Run({"multi"}), "+OK\r\n");
  ASSERT_EQ(Run({"set", "k", "1"}), "+QUEUED\r\n");
  EXPECT_EQ(Run({"reset"}), "+RESET\r\n");
  EXPECT_EQ(Run({"exec"}), "-ERR EXEC without MULTI\r\n");
  EXPECT_EQ(Run({"get", "k"}), "$-1\r\n");
  EXPECT_TRUE(s_.server().watches().empty());
}

TEST(Transactions, AnOpFromAnotherRegionAbortsExec) {
  persistence::MemEnv env;
  testing::InProcessServer s(&env, "everysec", /*peer=*/"x");
  ASSERT_TRUE(s.start_status().ok()) << s.start_status();
  ASSERT_TRUE(s.region().FinishJoin(0).ok());    // no peer to ask: take the region's name
  ASSERT_TRUE(s.region().FinishCatchUp().ok());  // and nothing to catch up with
  EXPECT_EQ(s.Run({"watch", "k"}), "+OK\r\n");
  size_t ops = 0;
  ASSERT_TRUE(s.region().ApplyRemote(RemoteSet(1, "unrelated"), &ops).ok());
  ASSERT_EQ(s.Run({"multi"}), "+OK\r\n");
  ASSERT_EQ(s.Run({"exec"}), "*0\r\n") << "an op on another key changes nothing";
  EXPECT_EQ(s.Run({"watch", "k"}), "+OK\r\n");
  ASSERT_TRUE(s.region().ApplyRemote(RemoteSet(2, "k"), &ops).ok());
  ASSERT_EQ(s.Run({"multi"}), "+OK\r\n");
  ASSERT_EQ(s.Run({"set", "k", "local"}), "+QUEUED\r\n");
  EXPECT_EQ(s.Run({"exec"}), kNullArray);
  EXPECT_EQ(s.Run({"get", "k"}), "$6\r\nremote\r\n");
  // A duplicate (already applied) changes nothing.
  EXPECT_EQ(s.Run({"watch", "k"}), "+OK\r\n");
  ASSERT_TRUE(s.region().ApplyRemote(RemoteSet(2, "k"), &ops).ok());
  ASSERT_EQ(s.Run({"multi"}), "+OK\r\n");
  EXPECT_EQ(s.Run({"exec"}), "*0\r\n");
  EXPECT_EQ(s.Run({"unwatch"}), "+OK\r\n");
}

TEST(Transactions, ExecRefusedWhileTheRegionJoinsIsAbortedWithTheReason) {
  persistence::MemEnv env;
  testing::InProcessServer s(&env, "everysec", /*peer=*/"x");
  ASSERT_TRUE(s.start_status().ok()) << s.start_status();
  ASSERT_TRUE(s.region().joining());
  ASSERT_EQ(s.Run({"multi"}), "+OK\r\n");
  const std::string tryagain = s.Run({"set", "k", "1"});
  ASSERT_EQ(tryagain.substr(0, 10), "-TRYAGAIN ") << tryagain;
  EXPECT_EQ(s.Run({"exec"}), kExecAbort) << "refused while queueing";
  ASSERT_EQ(s.Run({"multi"}), "+OK\r\n");
  ASSERT_EQ(s.Run({"get", "k"}), "+QUEUED\r\n");
  EXPECT_EQ(s.Run({"exec"}), "*1\r\n$-1\r\n") << "reads run while joining";
}

TEST_F(TransactionTest, AWatchedKeyThatExpiresAbortsExec) {
  ASSERT_EQ(Run({"set", "k", "v", "px", "100"}), "+OK\r\n");
  EXPECT_EQ(Run({"watch", "k"}), "+OK\r\n");
  s_.now_ms += 200;  // expired, not deleted yet
  ASSERT_EQ(Run({"multi"}), "+OK\r\n");
  EXPECT_EQ(Run({"exec"}), kNullArray);
}

TEST_F(TransactionTest, AKeyExpiredAtWatchTimeIsNoChangeWhenDeleted) {
  ASSERT_EQ(Run({"set", "k", "v", "px", "100"}), "+OK\r\n");
  s_.now_ms += 200;
  EXPECT_EQ(Run({"watch", "k"}), "+OK\r\n");
  // Active expiry deletes it: logically it was gone already (Redis 7.0's watchedKey.expired).
  s_.region().RefreshClock();
  EXPECT_EQ(s_.region().ExpireSome(10), 1u);
  s_.region().Commit();
  ASSERT_EQ(Run({"multi"}), "+OK\r\n");
  EXPECT_EQ(Run({"exec"}), "*0\r\n");
  // Creating it afterwards is a change.
  EXPECT_EQ(Run({"watch", "k"}), "+OK\r\n");
  EXPECT_EQ(Other({"set", "k", "new"}), "+OK\r\n");
  ASSERT_EQ(Run({"multi"}), "+OK\r\n");
  EXPECT_EQ(Run({"exec"}), kNullArray);
}

TEST_F(TransactionTest, FlushAbortsExecOnlyWhenAWatchedKeyExisted) {
  EXPECT_EQ(Run({"watch", "missing"}), "+OK\r\n");
  EXPECT_EQ(Other({"set", "other", "1"}), "+OK\r\n");
  EXPECT_EQ(Other({"flushall"}), "+OK\r\n");
  ASSERT_EQ(Run({"multi"}), "+OK\r\n");
  EXPECT_EQ(Run({"exec"}), "*0\r\n");
  for (std::string_view flush : {"flushall", "flushdb"}) {
    SCOPED_TRACE(flush);
    ASSERT_EQ(Run({"set", "k", "1"}), "+OK\r\n");
    EXPECT_EQ(Run({"watch", "k"}), "+OK\r\n");
    EXPECT_EQ(Other({flush}), "+OK\r\n");
    ASSERT_EQ(Run({"multi"}), "+OK\r\n");
    EXPECT_EQ(Run({"exec"}), kNullArray);
  }
  // FLUSHDB of another database leaves the watch alone.
  ASSERT_EQ(Run({"set", "k", "1"}), "+OK\r\n");
  EXPECT_EQ(Run({"watch", "k"}), "+OK\r\n");
  EXPECT_EQ(Other({"select", "2"}), "+OK\r\n");
  EXPECT_EQ(Other({"flushdb"}), "+OK\r\n");
  ASSERT_EQ(Run({"multi"}), "+OK\r\n");
  EXPECT_EQ(Run({"exec"}), "*0\r\n");
}

TEST_F(TransactionTest, SwapDbAbortsExecWhenTheKeyExistsOnEitherSide) {
  // k only in database 1: swapping it into database 0 changes the watched k.
  ASSERT_EQ(Other({"select", "1"}), "+OK\r\n");
  ASSERT_EQ(Other({"set", "k", "in1"}), "+OK\r\n");
  EXPECT_EQ(Run({"watch", "k"}), "+OK\r\n");
  EXPECT_EQ(Other({"swapdb", "0", "1"}), "+OK\r\n");
  ASSERT_EQ(Run({"multi"}), "+OK\r\n");
  ASSERT_EQ(Run({"get", "k"}), "+QUEUED\r\n");
  EXPECT_EQ(Run({"exec"}), kNullArray);
  // Neither side has it: no change.
  EXPECT_EQ(Run({"watch", "nowhere"}), "+OK\r\n");
  EXPECT_EQ(Other({"swapdb", "0", "1"}), "+OK\r\n");
  ASSERT_EQ(Run({"multi"}), "+OK\r\n");
  EXPECT_EQ(Run({"exec"}), "*0\r\n");
  // A swap of two other databases: no change.
  EXPECT_EQ(Run({"watch", "k"}), "+OK\r\n");
  EXPECT_EQ(Other({"swapdb", "2", "3"}), "+OK\r\n");
  ASSERT_EQ(Run({"multi"}), "+OK\r\n");
  EXPECT_EQ(Run({"exec"}), "*0\r\n");
}

TEST_F(TransactionTest, MoveRenameCopyAndDelTouchTheirKeys) {
  const std::vector<std::vector<std::string_view>> writes = {
      {"del", "k"},          {"move", "k", "1"},           {"rename", "src", "k"},
      {"copy", "src", "k2"}, {"rename", "k", "elsewhere"}, {"expire", "k", "100"},
  };
  const std::vector<std::string_view> watched = {"k", "k", "k", "k2", "k", "k"};
  for (size_t i = 0; i < writes.size(); ++i) {
    SCOPED_TRACE(writes[i][0]);
    ASSERT_EQ(Run({"flushall"}), "+OK\r\n");
    ASSERT_EQ(Run({"set", "k", "v"}), "+OK\r\n");
    ASSERT_EQ(Run({"set", "src", "s"}), "+OK\r\n");
    EXPECT_EQ(Run({"watch", watched[i]}), "+OK\r\n");
    std::string r = s_.Run(&other_, writes[i]);
    ASSERT_NE(r[0], '-') << r;
    ASSERT_EQ(Run({"multi"}), "+OK\r\n");
    EXPECT_EQ(Run({"exec"}), kNullArray);
  }
}

TEST_F(TransactionTest, WritesRedisDoesNotSignalLeaveTheWatchAlone) {
  // The CRDT re-adds present members (add-wins), Redis changes nothing: no abort, as Redis.
  ASSERT_EQ(Run({"sadd", "s", "m"}), ":1\r\n");
  ASSERT_EQ(Run({"zadd", "z", "1", "m"}), ":1\r\n");
  ASSERT_EQ(Run({"sadd", "src", "m"}), ":1\r\n");
  EXPECT_EQ(Run({"watch", "s", "z"}), "+OK\r\n");
  EXPECT_EQ(Other({"sadd", "s", "m"}), ":0\r\n");
  EXPECT_EQ(Other({"zadd", "z", "1", "m"}), ":0\r\n");
  EXPECT_EQ(Other({"zincrby", "z", "0", "m"}), "$1\r\n1\r\n");
  EXPECT_EQ(Other({"smove", "src", "s", "m"}), ":1\r\n");
  ASSERT_EQ(Run({"multi"}), "+OK\r\n");
  EXPECT_EQ(Run({"exec"}), "*0\r\n");
  // ... and that never spills over to the next write: a ZADD XX that writes nothing, then a
  // write of the watched key.
  EXPECT_EQ(Run({"watch", "s"}), "+OK\r\n");
  EXPECT_EQ(Other({"zadd", "z", "xx", "5", "nosuch"}), ":0\r\n");
  EXPECT_EQ(Other({"sadd", "s", "new"}), ":1\r\n");
  ASSERT_EQ(Run({"multi"}), "+OK\r\n");
  EXPECT_EQ(Run({"exec"}), kNullArray);
}

TEST_F(TransactionTest, WatchOnceDirtyIsANoOp) {
  EXPECT_EQ(Run({"watch", "k"}), "+OK\r\n");
  EXPECT_EQ(Other({"set", "k", "1"}), "+OK\r\n");
  EXPECT_TRUE(s_.server().watches().empty()) << "a dirty client watches nothing further";
  EXPECT_EQ(Run({"watch", "j"}), "+OK\r\n");
  EXPECT_TRUE(s_.server().watches().empty());
  ASSERT_EQ(Run({"multi"}), "+OK\r\n");
  EXPECT_EQ(Run({"exec"}), kNullArray);
}

TEST_F(TransactionTest, Resp3AbortedExecIsNull) {
  s_.client().protocol = 3;
  EXPECT_EQ(Run({"watch", "k"}), "+OK\r\n");
  EXPECT_EQ(Other({"set", "k", "1"}), "+OK\r\n");
  ASSERT_EQ(Run({"multi"}), "+OK\r\n");
  EXPECT_EQ(Run({"exec"}), "_\r\n");
}

TEST(Transactions, ExecRefusedWhileWritesAreRefusedIsAbortedWithTheReason) {
  persistence::MemEnv mem;
  persistence::FaultInjectionEnv env(&mem);
  testing::InProcessServer s(&env);
  ASSERT_TRUE(s.start_status().ok()) << s.start_status();
  ASSERT_EQ(s.Run({"multi"}), "+OK\r\n");
  ASSERT_EQ(s.Run({"set", "queued", "1"}), "+QUEUED\r\n");
  Client writer;
  env.SetNoSpaceAfter(100);
  std::string refused;
  for (int i = 0; i < 50 && refused.empty(); ++i) {
    std::string r = s.Run(&writer, {"set", absl::StrCat("k", i), std::string(20, 'v')});
    if (r != "+OK\r\n") refused = r;
  }
  ASSERT_EQ(refused.substr(0, 40), "-MISCONF Errors writing to the AOF file:") << refused;
  const std::string reason = refused.substr(1);
  EXPECT_EQ(s.Run({"exec"}), absl::StrCat("-EXECABORT Transaction discarded because of: ", reason));
  EXPECT_EQ(s.Run({"exec"}), "-ERR EXEC without MULTI\r\n");
  // A read-only transaction runs.
  ASSERT_EQ(s.Run({"multi"}), "+OK\r\n");
  ASSERT_EQ(s.Run({"get", "queued"}), "+QUEUED\r\n");
  EXPECT_EQ(s.Run({"exec"}), "*1\r\n$-1\r\n");
  // A write queued meanwhile was refused while queueing: the transaction is flagged.
  ASSERT_EQ(s.Run({"multi"}), "+OK\r\n");
  EXPECT_EQ(s.Run({"set", "x", "1"}), refused);
  EXPECT_EQ(s.Run({"exec"}), kExecAbort);
  env.ClearNoSpace();
}

}  // namespace
}  // namespace activekv::server
