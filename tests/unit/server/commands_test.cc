// Each command's replies and errors, byte-exact against what redis-server 7.0 sends.
#include <string>

#include "gtest/gtest.h"
#include "in_process_server.h"

namespace activekv::server {
namespace {

class Commands : public ::testing::Test {
 protected:
  persistence::MemEnv env_;
  testing::InProcessServer s_{&env_};
  void SetUp() override { ASSERT_TRUE(s_.start_status().ok()) << s_.start_status(); }
};

TEST_F(Commands, SetGetBasics) {
  EXPECT_EQ(s_.Run({"SET", "k", "v"}), "+OK\r\n");
  EXPECT_EQ(s_.Run({"get", "k"}), "$1\r\nv\r\n");
  EXPECT_EQ(s_.Run({"get", "missing"}), "$-1\r\n");
  EXPECT_EQ(s_.Run({"set", "k", "v2", "get"}), "$1\r\nv\r\n");
  EXPECT_EQ(s_.Run({"set", "k", "v3", "nx"}), "$-1\r\n");
  EXPECT_EQ(s_.Run({"set", "new", "x", "xx"}), "$-1\r\n");
  EXPECT_EQ(s_.Run({"set", "k", "v", "nx", "xx"}), "-ERR syntax error\r\n");
  EXPECT_EQ(s_.Run({"set", "k", "v", "ex", "0"}), "-ERR invalid expire time in 'set' command\r\n");
  EXPECT_EQ(s_.Run({"set", "k", "v", "ex", "abc"}),
            "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(s_.Run({"set", "k", "v", "keepttl", "ex", "10"}), "-ERR syntax error\r\n");
  EXPECT_EQ(s_.Run({"set", "k"}), "-ERR wrong number of arguments for 'set' command\r\n");
  EXPECT_EQ(s_.Run({"setnx", "k", "x"}), ":0\r\n");
  EXPECT_EQ(s_.Run({"setnx", "k2", "x"}), ":1\r\n");
  EXPECT_EQ(s_.Run({"getset", "k2", "y"}), "$1\r\nx\r\n");
  EXPECT_EQ(s_.Run({"getdel", "k2"}), "$1\r\ny\r\n");
  EXPECT_EQ(s_.Run({"exists", "k2"}), ":0\r\n");
}

TEST_F(Commands, CountersAndTheirErrors) {
  EXPECT_EQ(s_.Run({"incr", "c"}), ":1\r\n");
  EXPECT_EQ(s_.Run({"incrby", "c", "41"}), ":42\r\n");
  EXPECT_EQ(s_.Run({"decrby", "c", "2"}), ":40\r\n");
  EXPECT_EQ(s_.Run({"decr", "c"}), ":39\r\n");
  EXPECT_EQ(s_.Run({"get", "c"}), "$2\r\n39\r\n");
  EXPECT_EQ(s_.Run({"incrbyfloat", "c", "0.5"}), "$4\r\n39.5\r\n");
  EXPECT_EQ(s_.Run({"incr", "c"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(s_.Run({"incrbyfloat", "c", "-0.5"}), "$2\r\n39\r\n");
  EXPECT_EQ(s_.Run({"incr", "c"}), ":40\r\n");
  EXPECT_EQ(s_.Run({"set", "big", "9223372036854775807"}), "+OK\r\n");
  EXPECT_EQ(s_.Run({"incr", "big"}), "-ERR increment or decrement would overflow\r\n");
  EXPECT_EQ(s_.Run({"decrby", "big", "-9223372036854775808"}), "-ERR decrement would overflow\r\n");
  EXPECT_EQ(s_.Run({"incrby", "c", "1.5"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(s_.Run({"incrbyfloat", "c", "abc"}), "-ERR value is not a valid float\r\n");
  EXPECT_EQ(s_.Run({"incrbyfloat", "c", "inf"}),
            "-ERR increment would produce NaN or Infinity\r\n");
  EXPECT_EQ(s_.Run({"set", "s", "010"}), "+OK\r\n");
  EXPECT_EQ(s_.Run({"incr", "s"}), "-ERR value is not an integer or out of range\r\n");
}

TEST_F(Commands, StringRangesAndAppend) {
  EXPECT_EQ(s_.Run({"append", "a", "Hello"}), ":5\r\n");
  EXPECT_EQ(s_.Run({"append", "a", " World"}), ":11\r\n");
  EXPECT_EQ(s_.Run({"strlen", "a"}), ":11\r\n");
  EXPECT_EQ(s_.Run({"getrange", "a", "0", "4"}), "$5\r\nHello\r\n");
  EXPECT_EQ(s_.Run({"getrange", "a", "-5", "-1"}), "$5\r\nWorld\r\n");
  EXPECT_EQ(s_.Run({"getrange", "a", "-1", "-5"}), "$0\r\n\r\n");
  EXPECT_EQ(s_.Run({"getrange", "a", "5", "100"}), "$6\r\n World\r\n");
  EXPECT_EQ(s_.Run({"setrange", "a", "6", "Redis"}), ":11\r\n");
  EXPECT_EQ(s_.Run({"get", "a"}), "$11\r\nHello Redis\r\n");
  EXPECT_EQ(s_.Run({"setrange", "z", "3", "ab"}), ":5\r\n");
  EXPECT_EQ(s_.Run({"get", "z"}), std::string("$5\r\n\0\0\0ab\r\n", 11));
  EXPECT_EQ(s_.Run({"setrange", "z", "-1", "x"}), "-ERR offset is out of range\r\n");
  EXPECT_EQ(s_.Run({"setrange", "z", "536870912", "x"}),
            "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n");
  EXPECT_EQ(s_.Run({"setrange", "none", "5", ""}), ":0\r\n");
}

TEST_F(Commands, MultiKey) {
  EXPECT_EQ(s_.Run({"mset", "a", "1", "b", "2"}), "+OK\r\n");
  EXPECT_EQ(s_.Run({"mset", "a", "1", "b"}),
            "-ERR wrong number of arguments for 'mset' command\r\n");
  EXPECT_EQ(s_.Run({"mget", "a", "x", "b"}), "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n");
  EXPECT_EQ(s_.Run({"msetnx", "a", "9", "c", "3"}), ":0\r\n");
  EXPECT_EQ(s_.Run({"msetnx", "c", "3", "d", "4"}), ":1\r\n");
  EXPECT_EQ(s_.Run({"dbsize"}), ":4\r\n");
  EXPECT_EQ(s_.Run({"del", "a", "b", "zz"}), ":2\r\n");
  EXPECT_EQ(s_.Run({"exists", "c", "c", "a"}), ":2\r\n");
  EXPECT_EQ(s_.Run({"type", "c"}), "+string\r\n");
  EXPECT_EQ(s_.Run({"type", "a"}), "+none\r\n");
}

TEST_F(Commands, ExpiryFollowsTheClock) {
  EXPECT_EQ(s_.Run({"set", "k", "v", "px", "1500"}), "+OK\r\n");
  EXPECT_EQ(s_.Run({"pttl", "k"}), ":1500\r\n");
  EXPECT_EQ(s_.Run({"ttl", "k"}), ":2\r\n");  // (1500 + 500) / 1000, as Redis rounds
  s_.now_ms += 1499;
  EXPECT_EQ(s_.Run({"get", "k"}), "$1\r\nv\r\n");
  s_.now_ms += 1;
  EXPECT_EQ(s_.Run({"get", "k"}), "$-1\r\n");
  EXPECT_EQ(s_.Run({"ttl", "k"}), ":-2\r\n");
  EXPECT_EQ(s_.Run({"dbsize"}), ":0\r\n") << "lazy expiry deletes the key";
  EXPECT_EQ(s_.Run({"set", "k", "v"}), "+OK\r\n");
  EXPECT_EQ(s_.Run({"ttl", "k"}), ":-1\r\n");
  EXPECT_EQ(s_.Run({"expire", "k", "100", "xx"}), ":0\r\n");
  EXPECT_EQ(s_.Run({"expire", "k", "100", "nx"}), ":1\r\n");
  EXPECT_EQ(s_.Run({"expire", "k", "50", "gt"}), ":0\r\n");
  EXPECT_EQ(s_.Run({"expire", "k", "50", "lt"}), ":1\r\n");
  EXPECT_EQ(s_.Run({"expire", "k", "50", "nx", "xx"}),
            "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n");
  EXPECT_EQ(s_.Run({"expire", "k", "50", "gt", "lt"}),
            "-ERR GT and LT options at the same time are not compatible\r\n");
  EXPECT_EQ(s_.Run({"expire", "k", "50", "foo"}), "-ERR Unsupported option foo\r\n");
  EXPECT_EQ(s_.Run({"expiretime", "k"}),
            absl::StrCat(":", (s_.now_ms + 50'000 + 500) / 1000, "\r\n"));
  EXPECT_EQ(s_.Run({"pexpiretime", "k"}), absl::StrCat(":", s_.now_ms + 50'000, "\r\n"));
  EXPECT_EQ(s_.Run({"persist", "k"}), ":1\r\n");
  EXPECT_EQ(s_.Run({"persist", "k"}), ":0\r\n");
  EXPECT_EQ(s_.Run({"set", "k", "v", "ex", "10"}), "+OK\r\n");
  EXPECT_EQ(s_.Run({"set", "k", "w", "keepttl"}), "+OK\r\n");
  EXPECT_EQ(s_.Run({"ttl", "k"}), ":10\r\n");
  EXPECT_EQ(s_.Run({"append", "k", "x"}), ":2\r\n");
  EXPECT_EQ(s_.Run({"ttl", "k"}), ":10\r\n") << "APPEND keeps the TTL";
  EXPECT_EQ(s_.Run({"set", "k", "w"}), "+OK\r\n");
  EXPECT_EQ(s_.Run({"ttl", "k"}), ":-1\r\n") << "plain SET clears the TTL";
  EXPECT_EQ(s_.Run({"expire", "k", "-1"}), ":1\r\n") << "a past deadline deletes";
  EXPECT_EQ(s_.Run({"exists", "k"}), ":0\r\n");
  EXPECT_EQ(s_.Run({"expire", "missing", "10"}), ":0\r\n");
}

TEST_F(Commands, ExpireTimeAtTheEndOfTimeDoesNotOverflow) {
  EXPECT_EQ(s_.Run({"set", "k", "v"}), "+OK\r\n");
  EXPECT_EQ(s_.Run({"pexpireat", "k", "9223372036854775807"}), ":1\r\n");
  EXPECT_EQ(s_.Run({"expiretime", "k"}), ":9223372036854776\r\n");  // as redis-server
  EXPECT_EQ(s_.Run({"pexpiretime", "k"}), ":9223372036854775807\r\n");
}

TEST_F(Commands, GetExOptions) {
  EXPECT_EQ(s_.Run({"set", "k", "v"}), "+OK\r\n");
  EXPECT_EQ(s_.Run({"getex", "k", "ex", "10"}), "$1\r\nv\r\n");
  EXPECT_EQ(s_.Run({"ttl", "k"}), ":10\r\n");
  EXPECT_EQ(s_.Run({"getex", "k", "persist"}), "$1\r\nv\r\n");
  EXPECT_EQ(s_.Run({"ttl", "k"}), ":-1\r\n");
  EXPECT_EQ(s_.Run({"getex", "k", "nx"}), "-ERR syntax error\r\n");
  EXPECT_EQ(s_.Run({"getex", "missing", "ex", "abc"}), "$-1\r\n") << "lookup comes first";
  EXPECT_EQ(s_.Run({"getex", "k", "exat", "1"}), "$1\r\nv\r\n");
  EXPECT_EQ(s_.Run({"exists", "k"}), ":0\r\n");
}

TEST_F(Commands, RenameKeepsValueAndTtl) {
  EXPECT_EQ(s_.Run({"rename", "nokey", "x"}), "-ERR no such key\r\n");
  EXPECT_EQ(s_.Run({"set", "a", "1", "ex", "100"}), "+OK\r\n");
  EXPECT_EQ(s_.Run({"rename", "a", "a"}), "+OK\r\n");
  EXPECT_EQ(s_.Run({"rename", "a", "b"}), "+OK\r\n");
  EXPECT_EQ(s_.Run({"get", "b"}), "$1\r\n1\r\n");
  EXPECT_EQ(s_.Run({"ttl", "b"}), ":100\r\n");
  EXPECT_EQ(s_.Run({"exists", "a"}), ":0\r\n");
  EXPECT_EQ(s_.Run({"set", "c", "3"}), "+OK\r\n");
  EXPECT_EQ(s_.Run({"renamenx", "b", "c"}), ":0\r\n");
  EXPECT_EQ(s_.Run({"renamenx", "b", "d"}), ":1\r\n");
}

TEST_F(Commands, KeysScanRandomKey) {
  for (int i = 0; i < 100; ++i) {
    std::string k = absl::StrCat("key:", i);
    ASSERT_EQ(s_.Run({"set", k, "v"}), "+OK\r\n");
  }
  EXPECT_EQ(s_.Run({"set", "other", "v"}), "+OK\r\n");
  std::string keys = s_.Run({"keys", "key:1?"});
  EXPECT_EQ(keys.substr(0, 5), "*10\r\n");
  // A full SCAN returns every key exactly once, whatever is added meanwhile.
  std::string cursor = "0";
  std::set<std::string> seen;
  int calls = 0;
  do {
    std::string r = s_.Run({"scan", cursor, "match", "key:*", "count", "7"});
    // *2\r\n$<n>\r\n<cursor>\r\n*<m>\r\n($<len>\r\n<key>\r\n)*
    size_t p = r.find("\r\n", 4);
    size_t q = r.find("\r\n", p + 2);
    cursor = r.substr(p + 2, q - p - 2);
    size_t pos = r.find("\r\n", q + 2) + 2;
    while (pos < r.size()) {
      size_t e = r.find("\r\n", pos);
      size_t len = std::stoul(r.substr(pos + 1, e - pos - 1));
      std::string key = r.substr(e + 2, len);
      EXPECT_TRUE(seen.insert(key).second) << "duplicate " << key;
      pos = e + 2 + len + 2;
    }
    ASSERT_EQ(s_.Run({"set", absl::StrCat("added:", calls), "v"}), "+OK\r\n");
  } while (cursor != "0" && ++calls < 1000);
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_EQ(s_.Run({"scan", "x"}), "-ERR invalid cursor\r\n");
  EXPECT_EQ(s_.Run({"scan", "0", "count", "0"}), "-ERR syntax error\r\n");
  EXPECT_NE(s_.Run({"randomkey"}), "$-1\r\n");
  EXPECT_EQ(s_.Run({"flushall"}), "+OK\r\n");
  EXPECT_EQ(s_.Run({"randomkey"}), "$-1\r\n");
  EXPECT_EQ(s_.Run({"dbsize"}), ":0\r\n");
}

TEST_F(Commands, ConnectionAndServerCommands) {
  EXPECT_EQ(s_.Run({"ping"}), "+PONG\r\n");
  EXPECT_EQ(s_.Run({"ping", "hi"}), "$2\r\nhi\r\n");
  EXPECT_EQ(s_.Run({"ping", "a", "b"}), "-ERR wrong number of arguments for 'ping' command\r\n");
  EXPECT_EQ(s_.Run({"echo", "x"}), "$1\r\nx\r\n");
  EXPECT_EQ(s_.Run({"select", "0"}), "+OK\r\n");
  EXPECT_EQ(s_.Run({"select", "16"}), "-ERR DB index is out of range\r\n");
  EXPECT_EQ(s_.Run({"select", "x"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(s_.Run({"nosuch", "a", "b"}),
            "-ERR unknown command 'nosuch', with args beginning with: 'a' 'b' \r\n");
  EXPECT_EQ(s_.Run({"client", "setname", "me"}), "+OK\r\n");
  EXPECT_EQ(s_.Run({"client", "getname"}), "$2\r\nme\r\n");
  EXPECT_EQ(s_.Run({"client", "setname", "a b"}),
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
  EXPECT_EQ(s_.Run({"client", "nope"}), "-ERR unknown subcommand 'nope'. Try CLIENT HELP.\r\n");
  EXPECT_EQ(s_.Run({"config", "get", "appendfsync"}),
            "*2\r\n$11\r\nappendfsync\r\n$8\r\neverysec\r\n");
  EXPECT_EQ(s_.Run({"config", "set", "port", "1"}),
            "-ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable "
            "config\r\n");
  EXPECT_EQ(s_.Run({"config", "set", "nosuch", "1"}),
            "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n");
  EXPECT_EQ(s_.Run({"hello", "4"}), "-NOPROTO unsupported protocol version\r\n");
  std::string hello = s_.Run({"hello", "3"});
  EXPECT_EQ(hello.substr(0, 4), "%7\r\n");
  EXPECT_EQ(s_.Run({"get", "nothing"}), "_\r\n") << "RESP3 null";
  std::string info = s_.Run({"info"});
  EXPECT_NE(info.find("loading:0"), std::string::npos);
  EXPECT_NE(info.find("redis_version:7.0.15"), std::string::npos);
  EXPECT_NE(info.find("crdt_region:r1"), std::string::npos);
  EXPECT_EQ(info[0], '=') << "INFO is a verbatim string in RESP3";
  EXPECT_EQ(s_.Run({"command", "count"}).substr(0, 1), ":");
}

TEST_F(Commands, DigestChangesWithDataAndIsStable) {
  std::string empty = s_.Run({"crdt.digest"});
  EXPECT_EQ(s_.Run({"set", "a", "1"}), "+OK\r\n");
  std::string one = s_.Run({"crdt.digest"});
  EXPECT_NE(one, empty);
  EXPECT_EQ(s_.Run({"set", "a", "1"}), "+OK\r\n");
  EXPECT_EQ(s_.Run({"crdt.digest"}), one) << "same visible state, same digest";
}

// An SADD / ZADD / SMOVE that changes nothing: a lone region writes nothing, as Redis (no AOF
// record); a replicated one writes the re-add, which a concurrent SREM / ZREM elsewhere must not
// remove (docs/crdt-semantics.md, "Sets").
TEST(ReAdds, ALoneRegionWritesNothingAReplicatedOneWritesTheReAdd) {
  for (const bool replicated : {false, true}) {
    SCOPED_TRACE(replicated ? "replicated" : "lone");
    persistence::MemEnv env;
    testing::InProcessServer s(&env, "everysec", replicated ? "r2" : "");
    ASSERT_TRUE(s.start_status().ok()) << s.start_status();
    if (replicated) {
      ASSERT_TRUE(s.region().FinishJoin(0).ok());    // no peer to ask
      ASSERT_TRUE(s.region().FinishCatchUp().ok());  // and nothing to catch up with
    }
    ASSERT_EQ(s.Run({"sadd", "s", "a", "b"}), ":2\r\n");
    ASSERT_EQ(s.Run({"sadd", "d", "a"}), ":1\r\n");
    ASSERT_EQ(s.Run({"zadd", "z", "1", "m"}), ":1\r\n");
    const uint64_t before = s.region().aof()->appended_lsn();
    EXPECT_EQ(s.Run({"sadd", "s", "a", "b", "a"}), ":0\r\n");
    EXPECT_EQ(s.Run({"zadd", "z", "1", "m"}), ":0\r\n");
    EXPECT_EQ(s.Run({"zadd", "z", "ch", "1.0", "m"}), ":0\r\n");
    const uint64_t after_readds = s.region().aof()->appended_lsn();
    EXPECT_EQ(after_readds - before, replicated ? 3u : 0u);
    // SMOVE into a set that has the member: the source's removal is written either way.
    EXPECT_EQ(s.Run({"smove", "s", "d", "a"}), ":1\r\n");
    EXPECT_EQ(s.region().aof()->appended_lsn() - after_readds, 1u);
    EXPECT_EQ(s.Run({"smembers", "d"}), "*1\r\n$1\r\na\r\n");
    EXPECT_EQ(s.Run({"smembers", "s"}), "*1\r\n$1\r\nb\r\n");
    EXPECT_EQ(s.Run({"zscore", "z", "m"}), "$1\r\n1\r\n");
  }
}

}  // namespace
}  // namespace activekv::server
