// INLINE commands ("SET k v\r\n"): line framing in resp::Parser and argument splitting in
// SplitInlineArgs. Every expected split was checked on redis-server 7.0.15
// ("RPUSH l <line>" then LRANGE).
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "region-server/resp/inline_args.h"
#include "region-server/resp/parser.h"
#include "tests/unit/resp/feeder.h"

namespace activekv::resp {
namespace {

using testing::Command;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::ParseWhole;
using Result = Parser::Result;

// The arguments of one line, or {"<unbalanced>"}.
std::vector<std::string> Split(std::string_view line) {
  std::string storage;
  std::vector<std::string_view> args;
  if (!SplitInlineArgs(line, &storage, &args)) return {"<unbalanced>"};
  return {args.begin(), args.end()};
}

TEST(InlineTest, ParsesAnInlineCommand) {
  Parser p;
  size_t consumed;
  std::vector<std::string_view> args;
  ASSERT_EQ(p.Parse("SET key value\r\nGET key\r\n", &consumed, &args), Result::kOk);
  EXPECT_EQ(consumed, 15u);
  EXPECT_THAT(args, ElementsAre("SET", "key", "value"));
}

TEST(InlineTest, ALoneLfEndsALine) {
  EXPECT_THAT(ParseWhole("ECHO hi\nPING\r\n").commands,
              ElementsAre(Command{"ECHO", "hi"}, Command{"PING"}));
}

TEST(InlineTest, OnlyTheCrJustBeforeTheLfIsPartOfTheTerminator) {
  EXPECT_THAT(ParseWhole("ECHO a\rb\r\n").commands, ElementsAre(Command{"ECHO", "a", "b"}));
  EXPECT_THAT(ParseWhole("ECHO a\r\r\n").commands, ElementsAre(Command{"ECHO", "a"}));
}

TEST(InlineTest, BlankLinesAreConsumedAndSkipped) {
  const std::string in = "\r\n\n  \t \r\n\v\f\r\nPING\r\n";
  Parser p;
  size_t consumed;
  std::vector<std::string_view> args;
  ASSERT_EQ(p.Parse(in, &consumed, &args), Result::kOk);
  EXPECT_EQ(consumed, in.size());
  EXPECT_THAT(args, ElementsAre("PING"));
}

TEST(InlineTest, AnyFirstByteButStarStartsAnInlineCommand) {
  EXPECT_THAT(ParseWhole("$4\r\nPING\r\n").commands, ElementsAre(Command{"$4"}, Command{"PING"}));
}

TEST(InlineTest, LineLongerThan64KiBIsServedWhenItsNewlineIsThere) {
  const std::string value(70000, 'v');
  EXPECT_THAT(ParseWhole("ECHO " + value + "\r\n").commands, ElementsAre(Command{"ECHO", value}));
}

TEST(InlineTest, LineWithoutNewlineWaitsUpTo64KiB) {
  EXPECT_TRUE(ParseWhole(std::string(65536, 'a')).error.empty());
  EXPECT_EQ(ParseWhole(std::string(65537, 'a')).error,
            "ERR Protocol error: too big inline request");
}

TEST(InlineTest, InlineLimitCountsFromTheStartOfTheRequest) {
  const testing::Outcome out = ParseWhole("PING\r\n" + std::string(65536, 'a'));
  EXPECT_THAT(out.commands, ElementsAre(Command{"PING"}));
  EXPECT_EQ(out.error, "");
}

TEST(InlineTest, UnbalancedQuotesAreAProtocolError) {
  for (const char* line : {"ECHO \"a\"b", "ECHO 'a'b", "ECHO \"abc", "ECHO \"a\\", "ECHO 'abc",
                           "ECHO a\"b", "ECHO \"a\"\"b\"", "ECHO 'a\\\\'"}) {
    EXPECT_EQ(ParseWhole(std::string(line) + "\r\n").error,
              "ERR Protocol error: unbalanced quotes in request")
        << line;
  }
}

TEST(InlineTest, SplitsOnBlanks) {
  EXPECT_THAT(Split("SET  k\tv "), ElementsAre("SET", "k", "v"));
  EXPECT_THAT(Split(""), IsEmpty());
  EXPECT_THAT(Split(" \t\v\f\r"), IsEmpty());
  // Leading blanks include \v and \f; an unquoted argument ends only at ' ' \t \n \r.
  EXPECT_THAT(Split("\va"), ElementsAre("a"));
  EXPECT_THAT(Split("a\vb"), ElementsAre("a\vb"));
  EXPECT_THAT(Split("a\fb"), ElementsAre("a\fb"));
  EXPECT_THAT(Split("a\rb"), ElementsAre("a", "b"));
  EXPECT_THAT(Split("\xe9\xff"), ElementsAre("\xe9\xff"));
}

TEST(InlineTest, DoubleQuotesTakeEscapes) {
  EXPECT_THAT(Split("\"a b\""), ElementsAre("a b"));
  EXPECT_THAT(Split("\"\\x41\\x4\""), ElementsAre("Ax4"));
  EXPECT_THAT(Split("\"\\x4g\""), ElementsAre("x4g"));
  EXPECT_THAT(Split("\"\\xFf\""), ElementsAre("\xff"));
  EXPECT_THAT(Split("\"\\x00\""), ElementsAre(std::string(1, '\0')));
  EXPECT_THAT(Split("\"\\n\\q\\\\\""), ElementsAre("\nq\\"));
  EXPECT_THAT(Split("\"\\t\\b\\a\\r\""), ElementsAre("\t\b\a\r"));
  EXPECT_THAT(Split("\"a\\\"b\""), ElementsAre("a\"b"));
  EXPECT_THAT(Split("\"a\rb\""), ElementsAre("a\rb"));
}

TEST(InlineTest, SingleQuotesTakeOnlyEscapedQuote) {
  EXPECT_THAT(Split("'it\\'s'"), ElementsAre("it's"));
  EXPECT_THAT(Split("'\\''"), ElementsAre("'"));
  EXPECT_THAT(Split("'a\\x41'"), ElementsAre("a\\x41"));
  EXPECT_THAT(Split("'a\\n'"), ElementsAre("a\\n"));
}

TEST(InlineTest, QuotesMayOpenInsideAnArgument) {
  EXPECT_THAT(Split("foo\"bar baz\""), ElementsAre("foobar baz"));
  EXPECT_THAT(Split("foo'bar baz'"), ElementsAre("foobar baz"));
}

TEST(InlineTest, ClosingQuoteMayBeFollowedByAnyBlank) {
  EXPECT_THAT(Split("\"a\"\vb"), ElementsAre("a", "b"));
  EXPECT_THAT(Split("\"a\"\f"), ElementsAre("a"));
  EXPECT_THAT(Split("\"x\"  \t y"), ElementsAre("x", "y"));
  EXPECT_THAT(Split("\"a\"b"), ElementsAre("<unbalanced>"));
}

TEST(InlineTest, EmptyQuotesAreEmptyArguments) {
  EXPECT_THAT(Split("ECHO \"\""), ElementsAre("ECHO", ""));
  EXPECT_THAT(Split("'' a"), ElementsAre("", "a"));
  EXPECT_THAT(ParseWhole("ECHO \"\"\r\n").commands, ElementsAre(Command{"ECHO", ""}));
}

TEST(InlineTest, ArgumentsStayValidUntilTheNextParse) {
  Parser p;
  size_t consumed;
  std::vector<std::string_view> args;
  std::string in = "SET \"k 1\" 'v 2'\r\n";
  ASSERT_EQ(p.Parse(in, &consumed, &args), Result::kOk);
  in.assign(in.size(), '#');  // the arguments were decoded into the parser's own storage
  EXPECT_THAT(args, ElementsAre("SET", "k 1", "v 2"));
}

}  // namespace
}  // namespace activekv::resp
