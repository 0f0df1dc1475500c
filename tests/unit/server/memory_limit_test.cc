#include "region-server/memory_limit.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace activekv::server {
namespace {

uint64_t fake_used = 0;
int reads = 0;
uint64_t FakeReader() {
  ++reads;
  return fake_used;
}

class MemoryLimitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_used = 0;
    reads = 0;
  }
};

TEST_F(MemoryLimitTest, NoLimitIsNeverExceededAndNeverReads) {
  MemoryLimit limit(&FakeReader);
  fake_used = UINT64_MAX;
  EXPECT_FALSE(limit.Exceeded(1));
  EXPECT_EQ(reads, 0);
}

TEST_F(MemoryLimitTest, ExceededOnlyAboveTheLimit) {
  MemoryLimit limit(&FakeReader);
  limit.set_maxmemory(1000);
  fake_used = 1000;
  EXPECT_FALSE(limit.Exceeded(1));
  fake_used = 1001;
  EXPECT_TRUE(limit.Exceeded(2));
  limit.set_maxmemory(0);
  EXPECT_FALSE(limit.Exceeded(3));
}

// One read per millisecond of the caller's clock: checks on the command path cost a compare.
TEST_F(MemoryLimitTest, SamplesOncePerMillisecond) {
  MemoryLimit limit(&FakeReader);
  limit.set_maxmemory(100);
  fake_used = 50;
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(limit.Exceeded(7));
  EXPECT_EQ(reads, 1);
  fake_used = 500;
  EXPECT_FALSE(limit.Exceeded(7));  // the sample of this millisecond stands
  EXPECT_TRUE(limit.Exceeded(8));
  EXPECT_EQ(reads, 2);
  EXPECT_EQ(limit.Used(8), 500u);
}

char* volatile kept_block = nullptr;  // volatile: the allocation cannot be optimized away

TEST(AllocatedBytesTest, GrowsWithAnAllocation) {
  const uint64_t before = AllocatedBytes();
  kept_block = new char[8 << 20];
  EXPECT_GE(AllocatedBytes(), before + (8 << 20));
  delete[] kept_block;
  kept_block = nullptr;
}

}  // namespace
}  // namespace activekv::server
