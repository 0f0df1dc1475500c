// The bitmap commands' writes (region-server/bit_family.cc): which commands emit ops, how many,
// and what they do to the expiry. Replies are checked byte for byte against redis-server 7.0 by
// the differential test; these check what a reply cannot show.
#include <string>

#include "gtest/gtest.h"
#include "in_process_server.h"

namespace activekv::server {
namespace {

class BitCommands : public ::testing::Test {
 protected:
  persistence::MemEnv env_;
  testing::InProcessServer s_{&env_};
  void SetUp() override { ASSERT_TRUE(s_.start_status().ok()) << s_.start_status(); }

  // Ops this region has created so far.
  uint64_t Ops() {
    const crdt::Keyspace& ks = s_.region().ks();
    uint64_t n = 0;
    for (size_t r = 0; r < ks.regions().size(); ++r) {
      n += ks.applied().Get(static_cast<crdt::RegionId>(r));
    }
    return n;
  }
};

TEST_F(BitCommands, BitfieldWritesOnceAndGetsAloneDoNotCreateTheKey) {
  uint64_t ops = Ops();
  EXPECT_EQ(s_.Run({"bitfield", "k", "get", "u8", "0", "get", "i4", "#3"}), "*2\r\n:0\r\n:0\r\n");
  EXPECT_EQ(s_.Run({"bitfield_ro", "k", "get", "u8", "0"}), "*1\r\n:0\r\n");
  EXPECT_EQ(s_.Run({"exists", "k"}), ":0\r\n");
  EXPECT_EQ(Ops(), ops);
  EXPECT_EQ(s_.Run({"bitfield", "k", "set", "u8", "0", "1", "incrby", "u8", "0", "1", "incrby",
                    "u8", "8", "5", "get", "u16", "0"}),
            "*4\r\n:0\r\n:2\r\n:5\r\n:517\r\n");
  EXPECT_EQ(Ops(), ops + 1) << "one write for the whole command";
  EXPECT_EQ(s_.Run({"get", "k"}), "$2\r\n\x02\x05\r\n");
  // Every write fails: nothing changes, nothing is written.
  EXPECT_EQ(s_.Run({"bitfield", "k", "overflow", "fail", "incrby", "u2", "0", "9"}),
            "*1\r\n$-1\r\n");
  EXPECT_EQ(Ops(), ops + 1);
  // ... but a missing key is created (zero bytes up to the field), as Redis does.
  EXPECT_EQ(s_.Run({"bitfield", "n", "overflow", "fail", "incrby", "u2", "17", "9"}),
            "*1\r\n$-1\r\n");
  EXPECT_EQ(s_.Run({"get", "n"}), std::string("$3\r\n\0\0\0\r\n", 9));
}

TEST_F(BitCommands, SetbitWritesOnlyWhenTheValueChangesAndKeepsTheTtl) {
  EXPECT_EQ(s_.Run({"set", "k", "a", "ex", "100"}), "+OK\r\n");
  uint64_t ops = Ops();
  EXPECT_EQ(s_.Run({"setbit", "k", "1", "1"}), ":1\r\n");  // 'a' = 0x61: already set
  EXPECT_EQ(Ops(), ops);
  EXPECT_EQ(s_.Run({"setbit", "k", "0", "1"}), ":0\r\n");
  EXPECT_EQ(Ops(), ops + 1);
  EXPECT_EQ(s_.Run({"get", "k"}), "$1\r\n\xe1\r\n");
  EXPECT_EQ(s_.Run({"setbit", "k", "9", "0"}), ":0\r\n") << "growing is a change";
  EXPECT_EQ(Ops(), ops + 2);
  EXPECT_EQ(s_.Run({"ttl", "k"}), ":100\r\n");
  EXPECT_EQ(s_.Run({"setbit", "z", "3", "0"}), ":0\r\n") << "creates the key";
  EXPECT_EQ(s_.Run({"get", "z"}), std::string("$1\r\n\0\r\n", 7));
  EXPECT_EQ(s_.Run({"ttl", "z"}), ":-1\r\n");
}

TEST_F(BitCommands, BitopSetsTheDestinationOrDeletesIt) {
  EXPECT_EQ(s_.Run({"set", "a", "abc"}), "+OK\r\n");
  EXPECT_EQ(s_.Run({"hset", "d", "f", "v"}), ":1\r\n");
  EXPECT_EQ(s_.Run({"expire", "d", "100"}), ":1\r\n");
  EXPECT_EQ(s_.Run({"bitop", "or", "d", "a", "missing"}), ":3\r\n");
  EXPECT_EQ(s_.Run({"type", "d"}), "+string\r\n") << "any type is replaced";
  EXPECT_EQ(s_.Run({"ttl", "d"}), ":-1\r\n") << "and the expiry goes, as with SET";
  uint64_t ops = Ops();
  EXPECT_EQ(s_.Run({"bitop", "and", "e", "missing"}), ":0\r\n");
  EXPECT_EQ(Ops(), ops) << "nothing to delete";
  EXPECT_EQ(s_.Run({"bitop", "xor", "d", "missing", "missing2"}), ":0\r\n");
  EXPECT_EQ(Ops(), ops + 1);
  EXPECT_EQ(s_.Run({"exists", "d"}), ":0\r\n");
}

TEST_F(BitCommands, ReadsEmitNothing) {
  EXPECT_EQ(s_.Run({"set", "a", "ohmytext"}), "+OK\r\n");
  EXPECT_EQ(s_.Run({"set", "b", "mynewtext"}), "+OK\r\n");
  uint64_t ops = Ops();
  EXPECT_EQ(s_.Run({"getbit", "a", "1"}), ":1\r\n");
  EXPECT_EQ(s_.Run({"bitcount", "a", "0", "-1", "bit"}), ":35\r\n");
  EXPECT_EQ(s_.Run({"bitpos", "a", "0"}), ":0\r\n");
  EXPECT_EQ(s_.Run({"lcs", "a", "b"}), "$6\r\nmytext\r\n");
  EXPECT_EQ(s_.Run({"touch", "a", "b", "a", "c"}), ":3\r\n");
  EXPECT_EQ(Ops(), ops);
}

}  // namespace
}  // namespace activekv::server
