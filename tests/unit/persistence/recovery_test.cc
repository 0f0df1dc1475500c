#include "persistence/recovery.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "persistence/aof.h"
#include "persistence/aof_format.h"
#include "persistence/fault_env.h"
#include "persistence/mem_env.h"
#include "tests/unit/persistence/test_util.h"

namespace activekv::persistence {
namespace {

using ::testing::HasSubstr;
using testing::MakeAof;
using testing::Payload;

class RecoveryTest : public ::testing::Test {
 protected:
  void SetFile(const std::string& image) {
    ASSERT_TRUE(WriteStringToFile(&env_, image, kPath, true).ok());
  }
  absl::Status Recover(Env* env = nullptr) {
    applied_.clear();
    return RecoverAof(
        env != nullptr ? env : &env_, kPath,
        [this](std::string_view payload) {
          applied_.emplace_back(payload);
          return absl::OkStatus();
        },
        &result_);
  }

  const std::string kPath = "data/appendonly.aof";
  MemEnv env_;
  std::vector<std::string> applied_;
  RecoveryResult result_;
};

TEST_F(RecoveryTest, MissingFileIsAnEmptyLog) {
  ASSERT_TRUE(Recover().ok());
  EXPECT_TRUE(applied_.empty());
  EXPECT_EQ(result_.records_applied, 0u);
  EXPECT_FALSE(result_.torn_tail);
}

TEST_F(RecoveryTest, EmptyFileIsAnEmptyLog) {
  SetFile("");
  ASSERT_TRUE(Recover().ok());
  EXPECT_TRUE(applied_.empty());
}

TEST_F(RecoveryTest, CleanLogAppliesEveryRecordInOrder) {
  std::vector<std::string> payloads = {Payload(0), "", Payload(2, 5000)};
  SetFile(MakeAof(payloads));
  ASSERT_TRUE(Recover().ok());
  EXPECT_EQ(applied_, payloads);
  EXPECT_EQ(result_.records_applied, 3u);
  EXPECT_EQ(result_.valid_bytes, result_.file_size);
  EXPECT_FALSE(result_.torn_tail);
}

TEST_F(RecoveryTest, TruncatedTrailingRecordIsTruncated) {
  std::vector<uint64_t> offsets;
  const std::string image = MakeAof({Payload(0), Payload(1), Payload(2, 64)}, &offsets);
  for (size_t cut = offsets[2] + 1; cut < image.size(); ++cut) {
    SetFile(image.substr(0, cut));
    ASSERT_TRUE(Recover().ok()) << "cut " << cut;
    EXPECT_EQ(applied_, (std::vector<std::string>{Payload(0), Payload(1)}));
    EXPECT_TRUE(result_.torn_tail);
    EXPECT_EQ(result_.records_applied, 2u);
    EXPECT_EQ(result_.file_size, cut);
    EXPECT_EQ(result_.valid_bytes, offsets[2]);
    EXPECT_EQ(result_.truncated_bytes, cut - offsets[2]);
    EXPECT_FALSE(result_.torn_tail_reason.empty());
    EXPECT_EQ(*env_.GetFileSize(kPath), offsets[2]);
    EXPECT_EQ(*env_.GetSyncedSize(kPath), offsets[2]);  // the truncation is durable
    // Recovering again is clean.
    ASSERT_TRUE(Recover().ok());
    EXPECT_FALSE(result_.torn_tail);
    EXPECT_EQ(applied_.size(), 2u);
  }
}

TEST_F(RecoveryTest, AppendingAfterTornTailRecoveryGivesACleanLog) {
  std::string image = MakeAof({Payload(0), Payload(1)});
  image.resize(image.size() - 3);
  SetFile(image);
  ASSERT_TRUE(Recover().ok());
  ASSERT_TRUE(result_.torn_tail);
  Aof::Options options;
  options.env = &env_;
  options.path = kPath;
  options.policy = FsyncPolicy::kNo;
  {
    auto aof = Aof::Open(options);
    ASSERT_TRUE(aof.ok()) << aof.status();
    (*aof)->Append(Payload(7));
    ASSERT_TRUE((*aof)->Close().ok());
  }
  ASSERT_TRUE(Recover().ok());
  EXPECT_FALSE(result_.torn_tail);
  EXPECT_EQ(applied_, (std::vector<std::string>{Payload(0), Payload(7)}));
}

TEST_F(RecoveryTest, TornFileHeaderIsTruncatedToAnEmptyLog) {
  SetFile("AKVA");
  ASSERT_TRUE(Recover().ok());
  EXPECT_TRUE(result_.torn_tail);
  EXPECT_EQ(result_.truncated_bytes, 4u);
  EXPECT_EQ(*env_.GetFileSize(kPath), 0u);
}

TEST_F(RecoveryTest, ChecksumMismatchMidFileIsDataLossWithOffsetAndNothingIsTruncated) {
  std::vector<uint64_t> offsets;
  std::string image = MakeAof({Payload(0), Payload(1), Payload(2), Payload(3)}, &offsets);
  image[offsets[2] + aof::kRecordHeaderSize] ^= 0x01;
  SetFile(image);
  absl::Status status = Recover();
  EXPECT_TRUE(absl::IsDataLoss(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr(kPath));
  EXPECT_THAT(status.message(), HasSubstr("byte offset " + std::to_string(offsets[2])));
  EXPECT_THAT(status.message(), HasSubstr("activekv-check-aof --fix " + kPath));
  EXPECT_EQ(applied_, (std::vector<std::string>{Payload(0), Payload(1)}));
  EXPECT_EQ(result_.records_applied, 2u);
  EXPECT_FALSE(result_.torn_tail);
  EXPECT_EQ(*env_.GetFileSize(kPath), image.size());
  EXPECT_EQ(*ReadFileToString(&env_, kPath), image);
}

TEST_F(RecoveryTest, GarbageFileHeaderIsDataLoss) {
  SetFile("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
  absl::Status status = Recover();
  EXPECT_TRUE(absl::IsDataLoss(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("not an activekv AOF file"));
  EXPECT_THAT(status.message(), HasSubstr(kPath));
  EXPECT_GT(*env_.GetFileSize(kPath), 0u);
}

TEST_F(RecoveryTest, UnsupportedVersionIsFailedPrecondition) {
  std::string image = MakeAof({Payload(0)});
  image[6] = 9;
  SetFile(image);
  absl::Status status = Recover();
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("unsupported AOF format version 9"));
}

TEST_F(RecoveryTest, ApplyErrorAbortsRecoveryAndIsReturned) {
  std::vector<uint64_t> offsets;
  SetFile(MakeAof({Payload(0), Payload(1), Payload(2)}, &offsets));
  int calls = 0;
  absl::Status status = RecoverAof(
      &env_, kPath,
      [&](std::string_view) {
        return ++calls == 2 ? absl::InvalidArgumentError("bad op") : absl::OkStatus();
      },
      &result_);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("bad op"));
  EXPECT_THAT(status.message(), HasSubstr("offset " + std::to_string(offsets[1])));
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(result_.records_applied, 1u);
}

TEST_F(RecoveryTest, OpenErrorIsReturned) {
  SetFile(MakeAof({Payload(0)}));
  FaultInjectionEnv fault(&env_);
  fault.SetOpenError(true);
  absl::Status status = Recover(&fault);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("Input/output error"));
}

}  // namespace
}  // namespace activekv::persistence
