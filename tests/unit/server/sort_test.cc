// SORT's pure parts (region-server/sort_ops.h) and what its writes do (sort_family.cc). Replies
// are checked byte for byte against redis-server 7.0 by the differential test; these pin the
// edge rules and what a reply cannot show.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "in_process_server.h"
#include "region-server/sort_ops.h"

namespace activekv::server {
namespace {

using sort::CompareMode;
using sort::PatternTarget;
using sort::SortItem;
using sort::SortOptions;

SortItem Item(std::string element, double score = 0) {
  SortItem item;
  item.element = std::move(element);
  item.score = score;
  return item;
}

bool Parse(std::vector<std::string_view> args, bool readonly, SortOptions* out,
           std::string_view* error) {
  return sort::ParseSortOptions(args, readonly, out, error);
}

TEST(SortOptionsTest, LastRepeatedOptionWinsAndBadOnesAreSyntaxErrors) {
  SortOptions o;
  std::string_view error;
  ASSERT_TRUE(Parse({"sort", "k", "desc", "ASC", "by", "w_*", "limit", "1", "2", "get", "#", "GET",
                     "x", "alpha", "store", "d"},
                    false, &o, &error));
  EXPECT_FALSE(o.desc);
  EXPECT_TRUE(o.alpha);
  EXPECT_FALSE(o.dontsort);
  EXPECT_EQ(o.limit_start, 1);
  EXPECT_EQ(o.limit_count, 2);
  EXPECT_EQ(o.gets, (std::vector<std::string_view>{"#", "x"}));
  EXPECT_EQ(o.store, "d");

  SortOptions nosort;
  ASSERT_TRUE(Parse({"sort", "k", "by", "nosort"}, false, &nosort, &error));
  EXPECT_TRUE(nosort.dontsort);
  SortOptions nul;  // strchr stops at a NUL: the '*' after it does not count
  ASSERT_TRUE(Parse({"sort", "k", "by", std::string_view("a\0*", 3)}, false, &nul, &error));
  EXPECT_TRUE(nul.dontsort);

  for (const auto& args : std::vector<std::vector<std::string_view>>{{"sort", "k", "limit", "1"},
                                                                     {"sort", "k", "get"},
                                                                     {"sort", "k", "foo"},
                                                                     {"sort", "k", "store"}}) {
    SortOptions bad;
    EXPECT_FALSE(Parse(args, false, &bad, &error));
    EXPECT_EQ(error, "ERR syntax error");
  }
  SortOptions ro;
  EXPECT_FALSE(Parse({"sort_ro", "k", "store", "d"}, true, &ro, &error));
  EXPECT_EQ(error, "ERR syntax error") << "SORT_RO has no STORE";
  SortOptions limit;
  EXPECT_FALSE(Parse({"sort", "k", "limit", "x", "1"}, false, &limit, &error));
  EXPECT_EQ(error, "ERR value is not an integer or out of range");
}

TEST(SortPatternTest, StarIsTheElementArrowIsAHashFieldHashIsTheElement) {
  PatternTarget t = sort::ResolvePattern("w_*_x", "a");
  EXPECT_EQ(t.kind, PatternTarget::Kind::kKey);
  EXPECT_EQ(t.key, "w_a_x");
  EXPECT_FALSE(t.has_field);

  t = sort::ResolvePattern("h_*->f", "a");
  EXPECT_EQ(t.key, "h_a");
  ASSERT_TRUE(t.has_field);
  EXPECT_EQ(t.field, "f");

  t = sort::ResolvePattern("h_*->", "a");  // nothing after the arrow: a plain key
  EXPECT_FALSE(t.has_field);
  EXPECT_EQ(t.key, "h_a->");

  t = sort::ResolvePattern("a->b*", "e");  // the arrow must follow the '*'
  EXPECT_FALSE(t.has_field);
  EXPECT_EQ(t.key, "a->be");

  EXPECT_EQ(sort::ResolvePattern("#", "e").kind, PatternTarget::Kind::kElement);
  EXPECT_EQ(sort::ResolvePattern("nosort", "e").kind, PatternTarget::Kind::kNothing);
  EXPECT_EQ(sort::ResolvePattern("#x", "e").kind, PatternTarget::Kind::kNothing);
}

TEST(SortScoreTest, StrtodRules) {
  double d;
  EXPECT_TRUE(sort::ParseSortScore("1.5", &d));
  EXPECT_EQ(d, 1.5);
  EXPECT_TRUE(sort::ParseSortScore("", &d));
  EXPECT_EQ(d, 0);
  EXPECT_TRUE(sort::ParseSortScore(" 5", &d));
  EXPECT_TRUE(sort::ParseSortScore("0x10", &d));
  EXPECT_EQ(d, 16);
  EXPECT_TRUE(sort::ParseSortScore("-inf", &d));
  EXPECT_TRUE(sort::ParseSortScore(std::string_view("2\0x", 3), &d));
  EXPECT_EQ(d, 2);
  for (std::string_view bad : {"abc", "1x", "nan", "1e400", "1e-400", " ", "5 "}) {
    EXPECT_FALSE(sort::ParseSortScore(bad, &d)) << bad;
  }
}

TEST(SortLimitTest, WindowIsClampedToTheLength) {
  int64_t start, end;
  sort::NormalizeLimit(0, -1, 5, &start, &end);
  EXPECT_EQ(start, 0);
  EXPECT_EQ(end, 4);
  sort::NormalizeLimit(2, INT64_MAX, 5, &start, &end);  // no overflow
  EXPECT_EQ(start, 2);
  EXPECT_EQ(end, 4);
  sort::NormalizeLimit(-5, 2, 5, &start, &end);
  EXPECT_EQ(start, 0);
  EXPECT_EQ(end, 1);
  sort::NormalizeLimit(9, 2, 5, &start, &end);
  EXPECT_LT(end, start);
  sort::NormalizeLimit(1, 0, 5, &start, &end);
  EXPECT_LT(end, start);
  sort::NormalizeLimit(0, -1, 0, &start, &end);
  EXPECT_LT(end, start);
}

TEST(SortCompareTest, NumericTiesByElementAlphaByTiesAreEqual) {
  SortItem a = Item("b", 1), b = Item("a", 1), c = Item("z", 0);
  CompareMode numeric;
  EXPECT_GT(sort::Compare(a, b, numeric), 0);
  EXPECT_LT(sort::Compare(c, a, numeric), 0);
  numeric.desc = true;
  EXPECT_GT(sort::Compare(c, a, numeric), 0);

  CompareMode alpha_by;
  alpha_by.alpha = true;
  alpha_by.by_pattern = true;
  SortItem x = Item("x"), y = Item("y");
  EXPECT_EQ(sort::Compare(x, y, alpha_by), 0) << "both missing";
  y.has_cmp = true;
  EXPECT_LT(sort::Compare(x, y, alpha_by), 0) << "a missing value sorts first";

  CompareMode alpha;
  alpha.alpha = true;
  SortItem nul1 = Item(std::string("\0a", 2)), nul2 = Item(std::string("\0b", 2));
  EXPECT_EQ(sort::Compare(nul1, nul2, alpha), 0) << "strcoll stops at the NUL";
  alpha.store = true;
  EXPECT_LT(sort::Compare(nul1, nul2, alpha), 0) << "STORE compares bytes";
}

class SortCommands : public ::testing::Test {
 protected:
  persistence::MemEnv env_;
  testing::InProcessServer s_{&env_};
  void SetUp() override { ASSERT_TRUE(s_.start_status().ok()) << s_.start_status(); }
};

TEST_F(SortCommands, ByAndGetPatternsReadStringsAndHashFields) {
  s_.Run({"rpush", "l", "a", "b", "c"});
  s_.Run({"mset", "w_a", "3", "w_b", "1", "w_c", "2"});
  s_.Run({"hset", "h_a", "f", "x"});
  EXPECT_EQ(s_.Run({"sort", "l", "by", "w_*", "get", "#", "get", "h_*->f"}),
            "*6\r\n$1\r\nb\r\n$-1\r\n$1\r\nc\r\n$-1\r\n$1\r\na\r\n$1\r\nx\r\n");
  EXPECT_EQ(s_.Run({"sort", "l", "by", "nosort", "desc", "limit", "1", "5"}),
            "*2\r\n$1\r\nb\r\n$1\r\na\r\n");
  EXPECT_EQ(s_.Run({"sort", "l"}), "-ERR One or more scores can't be converted into double\r\n");
}

TEST_F(SortCommands, StoreReplacesTheDestinationWithAListOrDeletesIt) {
  s_.Run({"sadd", "s", "2", "10", "1"});
  s_.Run({"set", "d", "string"});
  EXPECT_EQ(s_.Run({"sort", "s", "store", "d"}), ":3\r\n");
  EXPECT_EQ(s_.Run({"lrange", "d", "0", "-1"}), "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$2\r\n10\r\n");
  EXPECT_EQ(s_.Run({"sort", "s", "get", "nokey_*", "store", "d"}), ":3\r\n");
  EXPECT_EQ(s_.Run({"lrange", "d", "0", "-1"}), "*3\r\n$0\r\n\r\n$0\r\n\r\n$0\r\n\r\n");
  EXPECT_EQ(s_.Run({"sort", "nokey", "store", "d"}), ":0\r\n");
  EXPECT_EQ(s_.Run({"exists", "d"}), ":0\r\n");
  EXPECT_EQ(s_.Run({"sort_ro", "s", "store", "d"}), "-ERR syntax error\r\n");
}

TEST_F(SortCommands, BySomethingWithoutAStarSortsASetInScripts) {
  s_.Run({"sadd", "s", "b", "a", "c", "x", "y", "z"});
  EXPECT_EQ(s_.Run({"eval",
                    "return redis.call('sort_ro', KEYS[1], 'by', 'nosort', 'limit', 1, 2, "
                    "'desc')",
                    "1", "s"}),
            "*2\r\n$1\r\ny\r\n$1\r\nx\r\n");
}

TEST_F(SortCommands, SortingASortedSetGivesItTheSkiplistEncoding) {
  s_.Run({"zadd", "z", "2", "a", "1", "b"});
  EXPECT_EQ(s_.Run({"object", "encoding", "z"}), "$8\r\nlistpack\r\n");
  EXPECT_EQ(s_.Run({"sort_ro", "z", "by", "nosort"}), "*2\r\n$1\r\nb\r\n$1\r\na\r\n");
  EXPECT_EQ(s_.Run({"object", "encoding", "z"}), "$8\r\nskiplist\r\n");
  EXPECT_EQ(s_.Run({"zrange", "z", "0", "-1", "withscores"}),
            "*4\r\n$1\r\nb\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n2\r\n");
}

}  // namespace
}  // namespace activekv::server
