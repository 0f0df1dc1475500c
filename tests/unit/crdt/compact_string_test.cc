// CompactString: inline up to 15 bytes, one heap block above; copies, moves and assignments
// (also from its own bytes) keep the bytes; binary-safe.
#include "crdt/values/compact_string.h"

#include <random>
#include <string>
#include <utility>

#include "gtest/gtest.h"

namespace activekv::crdt {
namespace {

std::string Bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());  // NUL and high bytes included
  return s;
}

TEST(CompactString, IsSixteenBytes) { EXPECT_EQ(sizeof(CompactString), 16u); }

TEST(CompactString, HoldsEveryLengthAroundTheInlineLimit) {
  for (size_t n = 0; n <= 40; ++n) {
    const std::string want = Bytes(n, static_cast<uint32_t>(n));
    CompactString s(want);
    EXPECT_EQ(s.view(), want) << n;
    EXPECT_EQ(s.size(), n);
    EXPECT_EQ(s.empty(), n == 0);
    CompactString copy(s);
    EXPECT_EQ(copy.view(), want);
    CompactString moved(std::move(copy));
    EXPECT_EQ(moved.view(), want);
    EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
    CompactString assigned;
    assigned = moved;
    EXPECT_EQ(assigned, s);
    assigned = std::string_view("x");
    EXPECT_EQ(assigned.view(), "x");
    assigned = std::move(moved);
    EXPECT_EQ(assigned.view(), want);
  }
}

TEST(CompactString, AssignsFromItsOwnBytes) {
  for (size_t n : {3u, 15u, 16u, 30u}) {
    CompactString s(Bytes(n, 9));
    const std::string want(s.view().substr(1));
    s = s.view().substr(1);
    EXPECT_EQ(s.view(), want) << n;
    CompactString& alias = s;
    s = alias;  // self-assignment
    EXPECT_EQ(s.view(), want) << n;
  }
}

TEST(CompactString, DefaultIsEmpty) {
  CompactString s;
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.view(), "");
  EXPECT_EQ(s, CompactString(""));
  EXPECT_NE(s, CompactString("a"));
}

}  // namespace
}  // namespace activekv::crdt
