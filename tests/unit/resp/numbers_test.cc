#include "region-server/resp/numbers.h"

#include <cstdint>
#include <string>

#include "gtest/gtest.h"

namespace activekv::resp {
namespace {

std::string Format(int64_t v) {
  char buf[kMaxInt64Chars];
  return std::string(buf, FormatInt64(v, buf));
}

TEST(NumbersTest, FormatsAtDigitCountBoundaries) {
  int64_t p = 1;
  for (int digits = 1; digits <= 18; ++digits, p *= 10) {
    EXPECT_EQ(Format(p), std::to_string(p));
    EXPECT_EQ(Format(p - 1), std::to_string(p - 1));
    EXPECT_EQ(Format(-p), std::to_string(-p));
  }
  EXPECT_EQ(Format(INT64_MAX), "9223372036854775807");
  EXPECT_EQ(Format(INT64_MIN), "-9223372036854775808");
  char buf[kMaxInt64Chars];
  EXPECT_EQ(std::string(buf, FormatUint64(UINT64_MAX, buf)), "18446744073709551615");
}

TEST(NumbersTest, ParsesLikeRedisString2ll) {
  int64_t v = 7;
  EXPECT_TRUE(ParseInt64Strict("0", &v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(ParseInt64Strict("-1", &v));
  EXPECT_EQ(v, -1);
  EXPECT_TRUE(ParseInt64Strict("123", &v));
  EXPECT_EQ(v, 123);
  EXPECT_TRUE(ParseInt64Strict("9223372036854775807", &v));
  EXPECT_EQ(v, INT64_MAX);
  EXPECT_TRUE(ParseInt64Strict("-9223372036854775808", &v));
  EXPECT_EQ(v, INT64_MIN);
}

TEST(NumbersTest, RejectsWhatRedisRejects) {
  int64_t v;
  for (const char* s : {"", "-", "+1", "01", "00", "-0", "-01", " 1", "1 ", "1a", "0x1", "1.0",
                        "9223372036854775808", "-9223372036854775809", "18446744073709551616",
                        "99999999999999999999", "000000000000000000001"}) {
    EXPECT_FALSE(ParseInt64Strict(s, &v)) << "'" << s << "'";
  }
}

}  // namespace
}  // namespace activekv::resp
