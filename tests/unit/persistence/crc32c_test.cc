#include "persistence/crc32c.h"

#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "tests/unit/persistence/test_util.h"

namespace activekv::persistence::crc32c {
namespace {

TEST(Crc32cTest, CheckValueOf123456789) {
  EXPECT_EQ(Value("123456789"), 0xE3069283u);
  EXPECT_EQ(internal::ExtendPortable(0, "123456789", 9), 0xE3069283u);
}

// RFC 3720 (iSCSI), appendix B.4.
TEST(Crc32cTest, Rfc3720Vectors) {
  char buf[48];
  std::memset(buf, 0, 32);
  EXPECT_EQ(Value(buf, 32), 0x8A9136AAu);
  std::memset(buf, 0xff, 32);
  EXPECT_EQ(Value(buf, 32), 0x62A8AB43u);
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<char>(i);
  EXPECT_EQ(Value(buf, 32), 0x46DD794Eu);
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<char>(31 - i);
  EXPECT_EQ(Value(buf, 32), 0x113FDB5Cu);
  const unsigned char iscsi_read[48] = {0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00,
                                        0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00,
                                        0x00, 0x18, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                        0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  std::memcpy(buf, iscsi_read, sizeof(buf));
  EXPECT_EQ(Value(buf, sizeof(buf)), 0xD9963A56u);
}

TEST(Crc32cTest, EmptyInputIsZero) { EXPECT_EQ(Value("", 0), 0u); }

TEST(Crc32cTest, ExtendEqualsValueOfConcatenation) {
  EXPECT_EQ(Value("hello world"), Extend(Value("hello "), "world", 5));
  std::mt19937_64 rng = testing::SeededRng();
  for (int i = 0; i < 200; ++i) {
    std::string data = testing::RandomBytes(rng, rng() % 300);
    size_t cut = data.empty() ? 0 : rng() % data.size();
    EXPECT_EQ(Value(data), Extend(Value(data.data(), cut), data.data() + cut, data.size() - cut));
  }
}

TEST(Crc32cTest, HardwareAndPortableAgreeOnEveryLengthAndAlignment) {
  if (!internal::CanUseSse42()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  std::mt19937_64 rng = testing::SeededRng();
  std::string data = testing::RandomBytes(rng, 4096 + 16);
  for (size_t align = 0; align < 16; ++align) {
    for (size_t n = 0; n < 300; ++n) {
      uint32_t init = static_cast<uint32_t>(rng());
      ASSERT_EQ(internal::ExtendSse42(init, data.data() + align, n),
                internal::ExtendPortable(init, data.data() + align, n))
          << "align " << align << " length " << n;
    }
  }
  EXPECT_EQ(internal::ExtendSse42(0, data.data(), 4096),
            internal::ExtendPortable(0, data.data(), 4096));
}

TEST(Crc32cTest, MaskChangesValueAndUnmaskRestoresIt) {
  uint32_t crc = Value("foo");
  EXPECT_NE(crc, Mask(crc));
  EXPECT_NE(crc, Mask(Mask(crc)));
  EXPECT_EQ(crc, Unmask(Mask(crc)));
  EXPECT_EQ(crc, Unmask(Unmask(Mask(Mask(crc)))));
}

}  // namespace
}  // namespace activekv::persistence::crc32c
