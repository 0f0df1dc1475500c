#include "crdt/redis_number.h"

#include "gtest/gtest.h"

namespace activekv::crdt {
namespace {

TEST(RedisNumber, StrictIntegerParse) {
  int64_t v;
  EXPECT_TRUE(ParseRedisInt("0", &v));
  EXPECT_TRUE(ParseRedisInt("-9223372036854775808", &v));
  EXPECT_EQ(v, INT64_MIN);
  EXPECT_TRUE(ParseRedisInt("9223372036854775807", &v));
  EXPECT_FALSE(ParseRedisInt("9223372036854775808", &v));
  EXPECT_FALSE(ParseRedisInt("-0", &v));
  EXPECT_FALSE(ParseRedisInt("01", &v));
  EXPECT_FALSE(ParseRedisInt("+1", &v));
  EXPECT_FALSE(ParseRedisInt(" 1", &v));
  EXPECT_FALSE(ParseRedisInt("1 ", &v));
  EXPECT_FALSE(ParseRedisInt("", &v));
  EXPECT_FALSE(ParseRedisInt("-", &v));
}

TEST(RedisNumber, LongDoubleParseAndHumanFormat) {
  long double v;
  EXPECT_TRUE(ParseRedisLongDouble("10.5", &v));
  EXPECT_TRUE(ParseRedisLongDouble("inf", &v));
  EXPECT_TRUE(ParseRedisLongDouble("5.0e3", &v));
  EXPECT_FALSE(ParseRedisLongDouble("nan", &v));
  EXPECT_FALSE(ParseRedisLongDouble(" 1", &v));
  EXPECT_FALSE(ParseRedisLongDouble("1x", &v));
  EXPECT_FALSE(ParseRedisLongDouble("", &v));
  EXPECT_EQ(FormatLongDoubleHuman(10.5L), "10.5");
  EXPECT_EQ(FormatLongDoubleHuman(3.0L), "3");
  EXPECT_EQ(FormatLongDoubleHuman(-0.0L), "0");
  EXPECT_EQ(FormatLongDoubleHuman(5000.0L), "5000");
  EXPECT_EQ(FormatLongDoubleHuman(10.5L + 0.1L), "10.6");
}

}  // namespace
}  // namespace activekv::crdt
