// resp::Parser on whole buffers: commands, bytes consumed, Redis 7.0 quirks, limits and the exact
// error texts. Expected behaviour was checked against redis-server 7.0.15 over a raw socket.
#include "region-server/resp/parser.h"

#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/resp/feeder.h"

namespace activekv::resp {
namespace {

using testing::Command;
using ::testing::ElementsAre;
using testing::Multibulk;
using testing::ParseWhole;
using Result = Parser::Result;

struct One {
  Result result;
  size_t consumed;
  std::vector<std::string> args;
};

One ParseOnce(Parser& p, std::string_view input) {
  One one;
  std::vector<std::string_view> args;
  one.result = p.Parse(input, &one.consumed, &args);
  one.args.assign(args.begin(), args.end());
  return one;
}

One ParseOnce(std::string_view input, Parser::Limits limits = {}) {
  Parser p(limits);
  return ParseOnce(p, input);
}

// The protocol error `input` produces, "" if none.
std::string ErrorOf(std::string_view input, Parser::Limits limits = {}) {
  return ParseWhole(input, limits).error;
}

TEST(ParserTest, ParsesOneMultibulkCommand) {
  const std::string in = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
  const One one = ParseOnce(in);
  EXPECT_EQ(one.result, Result::kOk);
  EXPECT_EQ(one.consumed, in.size());
  EXPECT_THAT(one.args, ElementsAre("SET", "key", "value"));
}

TEST(ParserTest, MultibulkArgumentsAreViewsIntoTheInput) {
  const std::string in = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
  Parser p;
  size_t consumed;
  std::vector<std::string_view> args;
  ASSERT_EQ(p.Parse(in, &consumed, &args), Result::kOk);
  ASSERT_EQ(args.size(), 2u);
  EXPECT_EQ(args[0].data(), in.data() + 8);
  EXPECT_EQ(args[1].data(), in.data() + 17);
}

TEST(ParserTest, ParsesOnlyTheFirstCommandOfAPipeline) {
  std::string in;
  for (int i = 0; i < 1000; ++i) in += Multibulk({"SET", "key" + std::to_string(i), "v"});
  Parser p;
  std::string_view rest = in;
  for (int i = 0; i < 1000; ++i) {
    const One one = ParseOnce(p, rest);
    ASSERT_EQ(one.result, Result::kOk);
    ASSERT_THAT(one.args, ElementsAre("SET", "key" + std::to_string(i), "v"));
    ASSERT_EQ(one.consumed, Multibulk(one.args).size());
    rest.remove_prefix(one.consumed);
  }
  EXPECT_TRUE(rest.empty());
  EXPECT_EQ(ParseOnce(p, rest).result, Result::kInputPending);
}

TEST(ParserTest, BulkPayloadIsBinarySafe) {
  const std::string value("a\r\nb\0c\r\n*$", 10);
  const One one = ParseOnce(Multibulk({"SET", "k", value}));
  EXPECT_EQ(one.result, Result::kOk);
  EXPECT_THAT(one.args, ElementsAre("SET", "k", value));
}

TEST(ParserTest, EmptyBulkIsAnEmptyArgument) {
  EXPECT_THAT(ParseOnce("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n").args, ElementsAre("ECHO", ""));
}

TEST(ParserTest, EmptyMultibulksAreConsumedAndSkipped) {
  const std::string in = "*0\r\n*-1\r\n*-5\r\n*-9223372036854775808\r\n*1\r\n$4\r\nPING\r\n";
  const One one = ParseOnce(in);
  EXPECT_EQ(one.result, Result::kOk);
  EXPECT_EQ(one.consumed, in.size());
  EXPECT_THAT(one.args, ElementsAre("PING"));
}

TEST(ParserTest, PendingReportsSkippedEmptyCommandsAsConsumed) {
  const One one = ParseOnce("*0\r\n\r\n  \n*1\r\n$4\r\nPI");
  EXPECT_EQ(one.result, Result::kInputPending);
  EXPECT_EQ(one.consumed, 9u);  // "*0\r\n" "\r\n" "  \n"
}

TEST(ParserTest, EmptyInputIsPending) {
  const One one = ParseOnce("");
  EXPECT_EQ(one.result, Result::kInputPending);
  EXPECT_EQ(one.consumed, 0u);
}

TEST(ParserTest, HeaderLineEndsAtFirstCrAndTheNextByteIsNotChecked) {
  EXPECT_THAT(ParseOnce("*1\rX$4\rYPING\r\n").args, ElementsAre("PING"));
}

TEST(ParserTest, TwoBytesAfterABulkPayloadAreNotChecked) {
  EXPECT_THAT(ParseOnce("*2\r\n$4\r\nECHOXX$2\r\nhi\n\n").args, ElementsAre("ECHO", "hi"));
}

TEST(ParserTest, WaitsForTheByteAfterAHeaderCr) {
  EXPECT_EQ(ParseOnce("*1\r").result, Result::kInputPending);
  EXPECT_EQ(ParseOnce("*1\r\n$4\r").result, Result::kInputPending);
}

TEST(ParserTest, WaitsForBothBytesAfterABulkPayload) {
  EXPECT_EQ(ParseOnce("*1\r\n$4\r\nPING").result, Result::kInputPending);
  EXPECT_EQ(ParseOnce("*1\r\n$4\r\nPINGX").result, Result::kInputPending);
  EXPECT_EQ(ParseOnce("*1\r\n$4\r\nPINGXY").result, Result::kOk);
}

TEST(ParserTest, BytesHintIsTheRestOfTheBulk) {
  Parser p;
  const One one = ParseOnce(p, "*2\r\n$3\r\nSET\r\n$100\r\n0123456789");
  EXPECT_EQ(one.result, Result::kInputPending);
  EXPECT_EQ(p.bytes_hint(), 92u);  // 90 payload bytes + "\r\n"
  ParseOnce(p, "*2\r\n$3\r\nSET\r\n$10");
  EXPECT_EQ(p.bytes_hint(), 0u);  // re-sent shorter input: restarted, length unknown again
}

// --- multibulk count -------------------------------------------------------------------------

TEST(ParserTest, MultibulkCountMustBeAStrictInteger) {
  for (const char* count : {"", "abc", "01", "00", "-0", "-05", "+1", " 1", "1 ", "1x", "-",
                            "99999999999999999999", "-9223372036854775809"}) {
    EXPECT_EQ(ErrorOf(std::string("*") + count + "\r\n*1\r\n$4\r\nPING\r\n"),
              "ERR Protocol error: invalid multibulk length")
        << "count '" << count << "'";
  }
}

TEST(ParserTest, MultibulkCountUpToIntMaxIsAccepted) {
  EXPECT_EQ(ParseOnce("*2147483647\r\n").result, Result::kInputPending);
  EXPECT_EQ(ErrorOf("*2147483648\r\n"), "ERR Protocol error: invalid multibulk length");
}

TEST(ParserTest, MultibulkCountLimitIsConfigurable) {
  Parser::Limits limits;
  limits.max_multibulk_len = size_t{1024} * 1024;  // Redis 6.x
  EXPECT_EQ(ParseOnce("*1048576\r\n", limits).result, Result::kInputPending);
  EXPECT_EQ(ErrorOf("*1048577\r\n", limits), "ERR Protocol error: invalid multibulk length");
}

TEST(ParserTest, CountLineWithoutCrWaitsUpTo64KiB) {
  const std::string digits(65535, '1');
  EXPECT_EQ(ParseOnce("*" + digits).result, Result::kInputPending);  // 65536 bytes
  EXPECT_EQ(ErrorOf("*" + digits + "1"), "ERR Protocol error: too big mbulk count string");
}

TEST(ParserTest, LongCountLineIsJudgedOnItsValueOnceItsCrArrives) {
  EXPECT_EQ(ErrorOf("*" + std::string(70000, '1') + "\r\n"),
            "ERR Protocol error: invalid multibulk length");
}

// --- bulk header -----------------------------------------------------------------------------

TEST(ParserTest, BulkLengthMustBeAStrictNonNegativeInteger) {
  for (const char* len : {"", "-1", "01", "04", "-0", "+4", "4 ", "x", "99999999999999999999"}) {
    EXPECT_EQ(ErrorOf(std::string("*1\r\n$") + len + "\r\nPING\r\n"),
              "ERR Protocol error: invalid bulk length")
        << "length '" << len << "'";
  }
}

TEST(ParserTest, BulkLongerThanProtoMaxBulkLenIsRefused) {
  Parser p;
  EXPECT_EQ(ParseOnce(p, "*1\r\n$536870912\r\n").result, Result::kInputPending);
  EXPECT_EQ(p.bytes_hint(), 536870914u);
  EXPECT_EQ(ErrorOf("*1\r\n$536870913\r\n"), "ERR Protocol error: invalid bulk length");
  Parser::Limits small;
  small.max_bulk_len = 10;
  EXPECT_EQ(ParseOnce("*1\r\n$10\r\n0123456789\r\n", small).result, Result::kOk);
  EXPECT_EQ(ErrorOf("*1\r\n$11\r\n", small), "ERR Protocol error: invalid bulk length");
}

TEST(ParserTest, ElementWithoutDollarIsRefusedWithTheByteSeen) {
  EXPECT_EQ(ErrorOf("*1\r\nX\r\n"), "ERR Protocol error: expected '$', got 'X'");
  EXPECT_EQ(ErrorOf("*2\r\n$4\r\nECHO\r\n:1\r\n"), "ERR Protocol error: expected '$', got ':'");
  EXPECT_EQ(ErrorOf("*1\r\n\xff\r\n"), "ERR Protocol error: expected '$', got '\xff'");
}

TEST(ParserTest, CrOrLfSeenInsteadOfDollarIsShownAsASpace) {
  EXPECT_EQ(ErrorOf("*1\r\n\r\n"), "ERR Protocol error: expected '$', got ' '");
  EXPECT_EQ(ErrorOf("*1\r\n\n\r\n"), "ERR Protocol error: expected '$', got ' '");
}

TEST(ParserTest, DollarIsCheckedOnlyOnceTheLineIsComplete) {
  EXPECT_EQ(ParseOnce("*1\r\nX").result, Result::kInputPending);
  EXPECT_EQ(ParseOnce("*1\r\nX\r").result, Result::kInputPending);
  EXPECT_EQ(ParseOnce("*1\r\nX\r\n").result, Result::kError);
}

TEST(ParserTest, BulkLineWithoutCrWaitsUpTo64KiB) {
  const std::string head = "*2\r\n$4\r\nECHO\r\n";
  EXPECT_EQ(ParseOnce(head + "$" + std::string(65535, '1')).result, Result::kInputPending);
  EXPECT_EQ(ErrorOf(head + "$" + std::string(65536, '1')),
            "ERR Protocol error: too big bulk count string");
}

TEST(ParserTest, BulkLineSizeIsCheckedBeforeItsPrefix) {
  EXPECT_EQ(ErrorOf("*1\r\n" + std::string(70000, 'X')),
            "ERR Protocol error: too big bulk count string");
}

// --- NUL bytes: Redis finds line ends with strchr() on a NUL-terminated buffer ----------------

TEST(ParserTest, NulBeforeHeaderCrHidesTheLineEnd) {
  Parser p;
  std::string in("*1\0\r\n*1\r\n$4\r\nPING\r\n", 19);
  EXPECT_EQ(ParseOnce(p, in).result, Result::kInputPending);
  in += std::string(70000, 'a');
  EXPECT_EQ(ParseOnce(p, in).result, Result::kError);
  EXPECT_EQ(p.error(), "ERR Protocol error: too big mbulk count string");

  EXPECT_EQ(ParseOnce(std::string("*1\r\n$4\0\r\nPING\r\n", 15)).result, Result::kInputPending);
}

TEST(ParserTest, NulBeforeInlineNewlineHidesTheLineEnd) {
  const std::string in("PING\0\r\nPING\r\n", 13);
  EXPECT_EQ(ParseOnce(in).result, Result::kInputPending);
  EXPECT_EQ(ErrorOf(in + std::string(70000, 'a')), "ERR Protocol error: too big inline request");
}

TEST(ParserTest, NulInsideABulkPayloadIsData) {
  EXPECT_THAT(ParseOnce(std::string("*2\r\n$4\r\nECHO\r\n$3\r\na\0b\r\n", 23)).args,
              ElementsAre("ECHO", std::string("a\0b", 3)));
}

// --- authentication limits -------------------------------------------------------------------

TEST(ParserTest, UnauthenticatedConnectionsGetSmallerLimits) {
  Parser p;
  p.set_auth_required(true);
  EXPECT_EQ(ParseOnce(p, "*10\r\n").result, Result::kInputPending);
  p.Reset();
  EXPECT_EQ(ParseOnce(p, "*11\r\n").result, Result::kError);
  EXPECT_EQ(p.error(), "ERR Protocol error: unauthenticated multibulk length");

  p.Reset();
  EXPECT_EQ(ParseOnce(p, "*1\r\n$16384\r\n").result, Result::kInputPending);
  p.Reset();
  EXPECT_EQ(ParseOnce(p, "*1\r\n$16385\r\n").result, Result::kError);
  EXPECT_EQ(p.error(), "ERR Protocol error: unauthenticated bulk length");

  p.Reset();  // the plain limits are checked first
  EXPECT_EQ(ParseOnce(p, "*1\r\n$99999999999\r\n").result, Result::kError);
  EXPECT_EQ(p.error(), "ERR Protocol error: invalid bulk length");

  p.Reset();
  p.set_auth_required(false);
  EXPECT_EQ(ParseOnce(p, "*11\r\n$16385\r\n").result, Result::kInputPending);
}

// --- error state -----------------------------------------------------------------------------

TEST(ParserTest, ErrorIsStickyUntilReset) {
  Parser p;
  const One bad = ParseOnce(p, "*0\r\n*x\r\n");
  EXPECT_EQ(bad.result, Result::kError);
  EXPECT_EQ(bad.consumed, 4u);  // the empty command before the bad one
  EXPECT_EQ(ParseOnce(p, "PING\r\n").result, Result::kError);
  EXPECT_EQ(p.error(), "ERR Protocol error: invalid multibulk length");
  p.Reset();
  EXPECT_EQ(p.error(), "");
  EXPECT_THAT(ParseOnce(p, "PING\r\n").args, ElementsAre("PING"));
}

TEST(ParserTest, CommandsBeforeAnErrorAreParsed) {
  const testing::Outcome out = ParseWhole("PING\r\n*1\r\n$4\r\nPING\r\n*1\r\nX\r\nPING\r\n");
  EXPECT_THAT(out.commands, ElementsAre(Command{"PING"}, Command{"PING"}));
  EXPECT_EQ(out.error, "ERR Protocol error: expected '$', got 'X'");
}

}  // namespace
}  // namespace activekv::resp
