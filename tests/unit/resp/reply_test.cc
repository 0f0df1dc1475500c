// resp::ReplyBuilder: byte-exact RESP2 and RESP3 encodings. Expected bytes were captured from
// redis-server 7.0.15 (e.g. ZSCORE, HELLO 3, INFO) where a command produces them.
#include "region-server/resp/reply.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace activekv::resp {
namespace {

class ReplyTest : public ::testing::Test {
 protected:
  // The bytes `build` appends with protocol `protocol`.
  template <typename Build>
  std::string Encode(int protocol, Build build) {
    std::string out = "prefix:";
    ReplyBuilder reply(&out, protocol);
    build(reply);
    EXPECT_EQ(out.substr(0, 7), "prefix:");  // appends, never overwrites
    return out.substr(7);
  }
  template <typename Build>
  std::string Resp2(Build build) {
    return Encode(2, build);
  }
  template <typename Build>
  std::string Resp3(Build build) {
    return Encode(3, build);
  }
};

TEST_F(ReplyTest, SimpleStringAndError) {
  for (int proto : {2, 3}) {
    EXPECT_EQ(Encode(proto, [](ReplyBuilder& r) { r.SimpleString("OK"); }), "+OK\r\n");
    EXPECT_EQ(Encode(proto, [](ReplyBuilder& r) { r.Ok(); }), "+OK\r\n");
    EXPECT_EQ(Encode(proto, [](ReplyBuilder& r) { r.Error("ERR syntax error"); }),
              "-ERR syntax error\r\n");
    EXPECT_EQ(Encode(proto, [](ReplyBuilder& r) { r.Error("WRONGTYPE Operation"); }),
              "-WRONGTYPE Operation\r\n");
  }
}

TEST_F(ReplyTest, NewlinesInLinesBecomeSpaces) {
  EXPECT_EQ(Resp2([](ReplyBuilder& r) { r.Error("ERR bad\r\nthing\n"); }), "-ERR bad  thing \r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& r) { r.SimpleString("a\rb"); }), "+a b\r\n");
}

TEST_F(ReplyTest, Integers) {
  for (int proto : {2, 3}) {
    EXPECT_EQ(Encode(proto, [](ReplyBuilder& r) { r.Integer(0); }), ":0\r\n");
    EXPECT_EQ(Encode(proto, [](ReplyBuilder& r) { r.Integer(-1); }), ":-1\r\n");
    EXPECT_EQ(Encode(proto, [](ReplyBuilder& r) { r.Integer(1234567890123); }),
              ":1234567890123\r\n");
    EXPECT_EQ(Encode(proto, [](ReplyBuilder& r) { r.Integer(INT64_MAX); }),
              ":9223372036854775807\r\n");
    EXPECT_EQ(Encode(proto, [](ReplyBuilder& r) { r.Integer(INT64_MIN); }),
              ":-9223372036854775808\r\n");
  }
}

TEST_F(ReplyTest, IntegersMatchToStringForRandomValues) {
  const uint32_t seed = static_cast<uint32_t>(::testing::UnitTest::GetInstance()->random_seed());
  std::printf("random seed: %u\n", seed);
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 20000; ++i) {
    const int64_t v = static_cast<int64_t>(rng()) >> (rng() % 64);
    ASSERT_EQ(Resp2([v](ReplyBuilder& r) { r.Integer(v); }), ":" + std::to_string(v) + "\r\n");
  }
}

TEST_F(ReplyTest, BulkStrings) {
  for (int proto : {2, 3}) {
    EXPECT_EQ(Encode(proto, [](ReplyBuilder& r) { r.Bulk("hello"); }), "$5\r\nhello\r\n");
    EXPECT_EQ(Encode(proto, [](ReplyBuilder& r) { r.Bulk(""); }), "$0\r\n\r\n");
    EXPECT_EQ(Encode(proto, [](ReplyBuilder& r) { r.Bulk(std::string("a\r\n\0", 4)); }),
              std::string("$4\r\na\r\n\0\r\n", 10));
    EXPECT_EQ(Encode(proto, [](ReplyBuilder& r) { r.BulkInteger(-42); }), "$3\r\n-42\r\n");
  }
}

TEST_F(ReplyTest, NullsDependOnTheProtocol) {
  EXPECT_EQ(Resp2([](ReplyBuilder& r) { r.Null(); }), "$-1\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& r) { r.NullArray(); }), "*-1\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& r) { r.Null(); }), "_\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& r) { r.NullArray(); }), "_\r\n");
}

TEST_F(ReplyTest, AggregateHeaders) {
  EXPECT_EQ(Resp2([](ReplyBuilder& r) { r.ArrayLen(0); }), "*0\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& r) { r.ArrayLen(12); }), "*12\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& r) { r.MapLen(7); }), "*14\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& r) { r.MapLen(7); }), "%7\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& r) { r.SetLen(3); }), "*3\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& r) { r.SetLen(3); }), "~3\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& r) { r.PushLen(3); }), "*3\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& r) { r.PushLen(3); }), ">3\r\n");
}

TEST_F(ReplyTest, HelloMapIsByteIdenticalToRedis) {
  auto hello = [](ReplyBuilder& r) {
    r.MapLen(2);
    r.Bulk("server");
    r.Bulk("redis");
    r.Bulk("proto");
    r.Integer(3);
  };
  EXPECT_EQ(Resp3(hello), "%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n");
  EXPECT_EQ(Resp2(hello), "*4\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n");
}

TEST_F(ReplyTest, DoublesUseSeventeenSignificantDigitsLikeRedis70) {
  EXPECT_EQ(Resp2([](ReplyBuilder& r) { r.Double(1.1); }), "$18\r\n1.1000000000000001\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& r) { r.Double(1.1); }), ",1.1000000000000001\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& r) { r.Double(3); }), "$1\r\n3\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& r) { r.Double(0); }), ",0\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& r) { r.Double(-0.0); }), "$2\r\n-0\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& r) { r.Double(0.1); }), "$19\r\n0.10000000000000001\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& r) { r.Double(1e-7); }), ",9.9999999999999995e-08\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& r) { r.Double(1e300); }), "$23\r\n1.0000000000000001e+300\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& r) { r.Double(1e17); }), "$5\r\n1e+17\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& r) { r.Double(12345678901234567.0); }),
            "$17\r\n12345678901234568\r\n");
}

TEST_F(ReplyTest, InfinitiesAreSpelledOut) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(Resp2([](ReplyBuilder& r) { r.Double(kInf); }), "$3\r\ninf\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& r) { r.Double(-kInf); }), "$4\r\n-inf\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& r) { r.Double(kInf); }), ",inf\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& r) { r.Double(-kInf); }), ",-inf\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& r) { r.Double(std::nan("")); }), ",nan\r\n");
}

TEST_F(ReplyTest, DoublesMatchPrintfForRandomValues) {
  const uint32_t seed = static_cast<uint32_t>(::testing::UnitTest::GetInstance()->random_seed());
  std::printf("random seed: %u\n", seed);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(-1, 1);
  for (int i = 0; i < 20000; ++i) {
    double d = unit(rng) * std::pow(10.0, static_cast<int>(rng() % 80) - 40);
    if (i % 4 == 0) d = std::round(d * 1000) / 1000;
    char expected[64];
    std::snprintf(expected, sizeof(expected), ",%.17g\r\n", d);
    ASSERT_EQ(Resp3([d](ReplyBuilder& r) { r.Double(d); }), expected);
  }
}

TEST_F(ReplyTest, BoolsAreIntegersInResp2) {
  EXPECT_EQ(Resp2([](ReplyBuilder& r) { r.Bool(true); }), ":1\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& r) { r.Bool(false); }), ":0\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& r) { r.Bool(true); }), "#t\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& r) { r.Bool(false); }), "#f\r\n");
}

TEST_F(ReplyTest, VerbatimIsABulkInResp2) {
  const std::string info = "# Server\r\nredis_version:7.0.15\r\n";
  EXPECT_EQ(Resp2([&](ReplyBuilder& r) { r.Verbatim(info); }), "$32\r\n" + info + "\r\n");
  EXPECT_EQ(Resp3([&](ReplyBuilder& r) { r.Verbatim(info); }), "=36\r\ntxt:" + info + "\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& r) { r.Verbatim("# x", "mkd"); }), "=7\r\nmkd:# x\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& r) { r.Verbatim("x", "markdown"); }), "=5\r\ntxt:x\r\n");
}

TEST_F(ReplyTest, BigNumbers) {
  EXPECT_EQ(Resp3([](ReplyBuilder& r) { r.BigNumber("1234567890123456789012"); }),
            "(1234567890123456789012\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& r) { r.BigNumber("12"); }), "$2\r\n12\r\n");
}

TEST_F(ReplyTest, ProtocolCanBeSwitched) {
  std::string out;
  ReplyBuilder r(&out);
  EXPECT_EQ(r.protocol(), 2);
  r.Null();
  r.set_protocol(3);
  EXPECT_EQ(r.protocol(), 3);
  r.Null();
  r.set_protocol(7);  // unknown: RESP2
  r.Null();
  EXPECT_EQ(out, "$-1\r\n_\r\n$-1\r\n");
}

TEST_F(ReplyTest, PreEncodedConstants) {
  EXPECT_EQ(kReplyOk, "+OK\r\n");
  EXPECT_EQ(kReplyPong, "+PONG\r\n");
  EXPECT_EQ(kReplyQueued, "+QUEUED\r\n");
  EXPECT_EQ(kReplyZero, ":0\r\n");
  EXPECT_EQ(kReplyOne, ":1\r\n");
  EXPECT_EQ(kReplyMinusOne, ":-1\r\n");
  EXPECT_EQ(kReplyMinusTwo, ":-2\r\n");
  EXPECT_EQ(kReplyEmptyArray, "*0\r\n");
  EXPECT_EQ(kReplyEmptyBulk, "$0\r\n\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& r) { r.Raw(kReplyPong); }), "+PONG\r\n");
}

}  // namespace
}  // namespace activekv::resp
