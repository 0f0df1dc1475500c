// The bitmap and LCS arithmetic (region-server/bit_ops.h); expected values are redis-server
// 7.0's replies to the same commands.
#include "region-server/bit_ops.h"

#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace activekv::server::bits {
namespace {

constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();
constexpr uint64_t kMaxBytes = 512ull << 20;

TEST(BitOps, CountInRangeInBytesAndBits) {
  std::string s = "foobar";
  EXPECT_EQ(PopCount(s), 26);
  EXPECT_EQ(CountInRange(s, {0, -1, false}), 26);
  EXPECT_EQ(CountInRange(s, {1, 1, false}), 6);
  EXPECT_EQ(CountInRange(s, {5, 30, true}), 17);
  EXPECT_EQ(CountInRange(s, {-1, -1, true}), 0);  // 'r' ends with a 0 bit
  EXPECT_EQ(CountInRange(s, {-100, 100, false}), 26);
  // Both negative and start > end: 0, although both would be clamped to byte 0.
  EXPECT_EQ(CountInRange(s, {-100, -200, false}), 0);
  EXPECT_EQ(CountInRange(s, {3, 1, false}), 0);
  EXPECT_EQ(CountInRange(s, {kI64Min, kI64Max, true}), 26);
  EXPECT_EQ(CountInRange("", {0, -1, true}), 0);
  EXPECT_EQ(PopCount(std::string(1000, '\xff')), 8000);
}

TEST(BitOps, FirstBitSeesZerosAfterTheEndOnlyWithoutAnExplicitEnd) {
  std::string s = "foobar";
  EXPECT_EQ(FirstBit(s, 0, {}, false), 0);
  EXPECT_EQ(FirstBit(s, 1, {2, -1, false}, false), 17);
  EXPECT_EQ(FirstBit(s, 1, {7, 15, true}, true), 9);
  EXPECT_EQ(FirstBit(s, 0, {7, 15, true}, true), 7);
  EXPECT_EQ(FirstBit(s, 1, {-100, -200, false}, true), 1);  // clamped to byte 0
  std::string ones = "\xff\xff\xff";
  EXPECT_EQ(FirstBit(ones, 0, {}, false), 24);
  EXPECT_EQ(FirstBit(ones, 0, {1, -1, false}, false), 24);
  EXPECT_EQ(FirstBit(ones, 0, {0, -1, false}, true), -1);
  EXPECT_EQ(FirstBit(ones, 0, {3, 20, true}, true), -1);
  EXPECT_EQ(FirstBit(std::string("\0\0\x01", 3), 1, {}, false), 23);
  EXPECT_EQ(FirstBit(std::string("\0\0\x01", 3), 1, {0, 1, false}, true), -1);
  // An empty string or range has neither bit.
  EXPECT_EQ(FirstBit("", 0, {}, false), -1);
  EXPECT_EQ(FirstBit(s, 0, {3, 1, false}, true), -1);
}

TEST(BitOps, BitOpPadsShorterSourcesWithZeros) {
  std::string a = "abc", b = "\x0f\xf0";
  std::string_view ab[] = {a, b};
  EXPECT_EQ(ApplyBitOp(BitOp::kAnd, ab), std::string("\x01\x60\x00", 3));
  EXPECT_EQ(ApplyBitOp(BitOp::kOr, ab), "\x6f\xf2\x63");
  EXPECT_EQ(ApplyBitOp(BitOp::kXor, ab), "\x6e\x92\x63");
  std::string_view one[] = {a};
  EXPECT_EQ(ApplyBitOp(BitOp::kNot, one), "\x9e\x9d\x9c");
  std::string_view empty[] = {std::string_view(), std::string_view()};
  EXPECT_EQ(ApplyBitOp(BitOp::kOr, empty), "");
  // A missing first key (a null empty view) before an existing one (UBSan: memcpy from null).
  std::string_view missing_first[] = {std::string_view(), b};
  EXPECT_EQ(ApplyBitOp(BitOp::kOr, missing_first), "\x0f\xf0");
  EXPECT_EQ(ApplyBitOp(BitOp::kAnd, missing_first), std::string("\x00\x00", 2));
}

TEST(BitOps, FieldTypesAndOffsetsFollowRedis) {
  FieldType t;
  EXPECT_TRUE(ParseFieldType("i64", &t));
  EXPECT_TRUE(t.is_signed);
  EXPECT_EQ(t.bits, 64);
  EXPECT_TRUE(ParseFieldType("u63", &t));
  EXPECT_FALSE(t.is_signed);
  EXPECT_TRUE(ParseFieldType(std::string("i8\0x", 4), &t)) << "Redis reads up to the NUL";
  EXPECT_EQ(t.bits, 8);
  for (const char* bad : {"u64", "i65", "u0", "i0", "x8", "", "i", "I8", "i08", "i-1", "u+8"}) {
    EXPECT_FALSE(ParseFieldType(bad, &t)) << bad;
  }
  uint64_t off;
  EXPECT_TRUE(ParseBitOffset("4294967295", 0, kMaxBytes, &off));
  EXPECT_FALSE(ParseBitOffset("4294967296", 0, kMaxBytes, &off));
  EXPECT_FALSE(ParseBitOffset("-1", 0, kMaxBytes, &off));
  EXPECT_FALSE(ParseBitOffset("#1", 0, kMaxBytes, &off)) << "# only with a field width";
  EXPECT_TRUE(ParseBitOffset("#3", 8, kMaxBytes, &off));
  EXPECT_EQ(off, 24u);
  EXPECT_FALSE(ParseBitOffset("#", 8, kMaxBytes, &off));
  EXPECT_FALSE(ParseBitOffset("#-1", 8, kMaxBytes, &off));
  // N * width wraps around as in Redis.
  EXPECT_TRUE(ParseBitOffset("#2305843009213693952", 8, kMaxBytes, &off));
  EXPECT_EQ(off, 0u);
  EXPECT_FALSE(ParseBitOffset("#9223372036854775807", 8, kMaxBytes, &off));
}

TEST(BitOps, FieldsReadPastTheEndAsZeros) {
  EXPECT_EQ(GetField("foobar", 0, {false, 8}), 'f');
  EXPECT_EQ(GetField("foobar", 0, {true, 64}), 7381240782615871488);
  EXPECT_EQ(GetField("foobar", 0, {false, 63}), 3690620391307935744);
  EXPECT_EQ(GetField("\xff", 4, {true, 8}), -16);
  EXPECT_EQ(GetField("", 1000, {true, 64}), 0);
}

TEST(BitOps, OverflowWrapsSaturatesOrFails) {
  std::string s(8, '\0');
  int64_t r;
  FieldType i8{true, 8}, u8{false, 8}, i64{true, 64}, u63{false, 63}, i3{true, 3};
  ASSERT_TRUE(UpdateField(&s, 0, i8, 100, false, Overflow::kWrap, &r));
  EXPECT_EQ(r, 0);
  ASSERT_TRUE(UpdateField(&s, 0, i8, 100, true, Overflow::kWrap, &r));
  EXPECT_EQ(r, -56);
  ASSERT_TRUE(UpdateField(&s, 0, i8, 100, true, Overflow::kSat, &r));
  EXPECT_EQ(r, 44);
  ASSERT_TRUE(UpdateField(&s, 0, i8, 100, true, Overflow::kSat, &r));
  EXPECT_EQ(r, 127);
  std::string before = s;
  EXPECT_FALSE(UpdateField(&s, 0, i8, -300, true, Overflow::kFail, &r));
  EXPECT_EQ(s, before);
  // Unsigned SET of a negative value: above the maximum (an unsigned 64-bit number).
  ASSERT_TRUE(UpdateField(&s, 8, u8, -1, false, Overflow::kSat, &r));
  ASSERT_TRUE(UpdateField(&s, 8, u8, 0, true, Overflow::kWrap, &r));
  EXPECT_EQ(r, 255);
  ASSERT_TRUE(UpdateField(&s, 8, u8, -300, true, Overflow::kSat, &r));
  EXPECT_EQ(r, 0);
  ASSERT_TRUE(UpdateField(&s, 0, u63, -1, false, Overflow::kWrap, &r));
  EXPECT_EQ(GetField(s, 0, u63), kI64Max);
  ASSERT_TRUE(UpdateField(&s, 0, i64, kI64Min, false, Overflow::kWrap, &r));
  ASSERT_TRUE(UpdateField(&s, 0, i64, -1, true, Overflow::kWrap, &r));
  EXPECT_EQ(r, kI64Max);
  ASSERT_TRUE(UpdateField(&s, 0, i64, kI64Max, true, Overflow::kSat, &r));
  EXPECT_EQ(r, kI64Max);
  // Wrapping keeps the low bits, whatever the sign of the result (found by the differential test:
  // INCRBY i1 by -164 wrapped to -164).
  std::string w(2, '\0');
  FieldType i1{true, 1};
  ASSERT_TRUE(UpdateField(&w, 0, i1, -164, true, Overflow::kWrap, &r));
  EXPECT_EQ(r, 0);
  ASSERT_TRUE(UpdateField(&w, 0, i1, -251, true, Overflow::kWrap, &r));
  EXPECT_EQ(r, -1);
  ASSERT_TRUE(UpdateField(&w, 8, i8, -183, true, Overflow::kWrap, &r));
  EXPECT_EQ(r, 73);
  // Redis's quirk: a signed SET far below the minimum saturates to the maximum (max - value
  // overflows in 64 bits), one just below it to the minimum.
  std::string q(8, '\0');
  FieldType i63{true, 63}, i62{true, 62};
  ASSERT_TRUE(UpdateField(&q, 0, i63, kI64Min, false, Overflow::kSat, &r));
  EXPECT_EQ(GetField(q, 0, i63), (int64_t{1} << 62) - 1);
  ASSERT_TRUE(UpdateField(&q, 0, i62, -(int64_t{1} << 61) - 1, false, Overflow::kSat, &r));
  EXPECT_EQ(GetField(q, 0, i62), -(int64_t{1} << 61));
  ASSERT_TRUE(UpdateField(&q, 0, i62, kI64Min, false, Overflow::kSat, &r));
  EXPECT_EQ(GetField(q, 0, i62), (int64_t{1} << 61) - 1);
  ASSERT_TRUE(UpdateField(&q, 0, i8, kI64Min, false, Overflow::kSat, &r));
  EXPECT_EQ(GetField(q, 0, i8), 127);
  ASSERT_TRUE(UpdateField(&q, 0, i8, -129, false, Overflow::kSat, &r));
  EXPECT_EQ(GetField(q, 0, i8), -128);
  ASSERT_TRUE(UpdateField(&s, 0, i3, 9, false, Overflow::kWrap, &r));
  EXPECT_EQ(GetField(s, 0, i3), 1);
  ASSERT_TRUE(UpdateField(&s, 0, i3, 9, false, Overflow::kSat, &r));
  EXPECT_EQ(GetField(s, 0, i3), 3);
}

TEST(BitOps, LcsMatchesRedisIncludingItsRanges) {
  LcsResult r = Lcs("ohmytext", "mynewtext", true, true, 0);
  EXPECT_EQ(r.len, 6u);
  EXPECT_EQ(r.text, "mytext");
  ASSERT_EQ(r.matches.size(), 2u);
  EXPECT_EQ(r.matches[0].a_start, 4u);
  EXPECT_EQ(r.matches[0].a_end, 7u);
  EXPECT_EQ(r.matches[0].b_start, 5u);
  EXPECT_EQ(r.matches[0].b_end, 8u);
  EXPECT_EQ(r.matches[0].len, 4u);
  EXPECT_EQ(r.matches[1].a_start, 2u);
  EXPECT_EQ(r.matches[1].b_start, 0u);
  EXPECT_EQ(r.matches[1].len, 2u);
  EXPECT_EQ(Lcs("ohmytext", "mynewtext", false, true, 4).matches.size(), 1u);
  // Ties are broken as Redis does: "bacab", five one-byte ranges.
  r = Lcs("abcabcab", "bacbacba", true, true, 0);
  EXPECT_EQ(r.text, "bacab");
  uint32_t want[][2] = {{7, 6}, {6, 4}, {5, 2}, {3, 1}, {1, 0}};
  ASSERT_EQ(r.matches.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(r.matches[i].a_start, want[i][0]) << i;
    EXPECT_EQ(r.matches[i].b_start, want[i][1]) << i;
  }
  EXPECT_EQ(Lcs("", "abc", true, true, 0).text, "");
  EXPECT_EQ(LcsTableBytes(0, 0), 4u);
  EXPECT_GT(LcsTableBytes(11585, 11585), kMaxBytes);  // two 11,586-byte strings: refused
  EXPECT_LT(LcsTableBytes(11584, 11584), kMaxBytes);
}

}  // namespace
}  // namespace activekv::server::bits
