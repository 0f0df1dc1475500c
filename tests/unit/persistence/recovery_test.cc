#include "persistence/recovery.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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

TEST_F(RecoveryTest, TornTailOfAFileThatMustBeCompleteIsDataLossAndKeepsTheFile) {
  std::vector<uint64_t> offsets;
  const std::string image = MakeAof({Payload(0), Payload(1, 64)}, &offsets);
  SetFile(image.substr(0, image.size() - 3));
  RecoveryOptions options;
  options.truncate_torn_tail = false;
  absl::Status s = RecoverAof(
      &env_, kPath,
      [this](const AofRecord& r) {
        applied_.emplace_back(r.payload);
        return absl::OkStatus();
      },
      &result_, options);
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(kPath));
  EXPECT_THAT(std::string(s.message()), HasSubstr(absl::StrCat("offset ", offsets[1])));
  EXPECT_EQ(*env_.GetFileSize(kPath), image.size() - 3);  // nothing truncated
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

TEST(RecoveryOptionsTest, DefaultsHaveNoProgressAndNoRecordDelay) {
  RecoveryOptions options;
  EXPECT_EQ(options.progress, nullptr);
  EXPECT_EQ(options.record_delay, absl::ZeroDuration());
}

// What the apply callback saw of the progress when record `i` was handed to it.
struct ProgressSample {
  uint64_t total_bytes;
  uint64_t loaded_bytes;
  uint64_t records_applied;
};

TEST_F(RecoveryTest, ProgressReportsTheFileSizeAndBytesConsumed) {
  std::vector<uint64_t> offsets;
  const std::vector<std::string> payloads = {Payload(0), "", Payload(2, 5000), Payload(3, 7),
                                             Payload(4, 300)};
  const std::string image = MakeAof(payloads, &offsets);
  SetFile(image);
  RecoveryProgress progress;
  RecoveryOptions options;
  options.progress = &progress;
  std::vector<ProgressSample> samples;
  absl::Status status = RecoverAof(
      &env_, kPath,
      [&](std::string_view payload) {
        samples.push_back({progress.total_bytes.load(), progress.loaded_bytes.load(),
                           progress.records_applied.load()});
        applied_.emplace_back(payload);
        return absl::OkStatus();
      },
      &result_, options);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(applied_, payloads);
  ASSERT_EQ(samples.size(), payloads.size());
  // The size is known before the first record is handed out.
  EXPECT_EQ(samples[0].total_bytes, image.size());
  EXPECT_EQ(samples[0].loaded_bytes, 0u);
  EXPECT_EQ(samples[0].records_applied, 0u);
  for (size_t i = 1; i < samples.size(); ++i) {
    EXPECT_EQ(samples[i].total_bytes, image.size()) << "record " << i;
    // Record i starts where record i-1 ended: that is what has been consumed so far.
    EXPECT_EQ(samples[i].loaded_bytes, offsets[i]) << "record " << i;
    EXPECT_GT(samples[i].loaded_bytes, samples[i - 1].loaded_bytes) << "record " << i;
    EXPECT_EQ(samples[i].records_applied, i) << "record " << i;
  }
  EXPECT_EQ(progress.total_bytes.load(), image.size());
  EXPECT_EQ(progress.loaded_bytes.load(), result_.valid_bytes);
  EXPECT_EQ(result_.valid_bytes, image.size());
  EXPECT_EQ(progress.records_applied.load(), payloads.size());
  EXPECT_EQ(result_.records_applied, payloads.size());
  EXPECT_FALSE(progress.cancel.load());
}

TEST_F(RecoveryTest, ProgressOfAHeaderOnlyLogEndsAtTheHeader) {
  const std::string image = MakeAof({});
  SetFile(image);
  RecoveryProgress progress;
  RecoveryOptions options;
  options.progress = &progress;
  RecoveryResult result;
  ASSERT_TRUE(RecoverAof(
                  &env_, kPath, [](std::string_view) { return absl::OkStatus(); }, &result, options)
                  .ok());
  EXPECT_EQ(progress.total_bytes.load(), image.size());
  EXPECT_EQ(progress.loaded_bytes.load(), image.size());
  EXPECT_EQ(progress.records_applied.load(), 0u);
}

TEST_F(RecoveryTest, CancelStopsBeforeTheNextRecord) {
  std::vector<uint64_t> offsets;
  const std::vector<std::string> payloads = {Payload(0), Payload(1, 100), Payload(2),
                                             Payload(3, 40)};
  const std::string image = MakeAof(payloads, &offsets);
  offsets.push_back(image.size());  // offsets[n]: where the record after record n-1 would start
  // Cancelled after record n (n = 0: before the call, when nothing has been read), for every n.
  for (size_t n = 0; n <= payloads.size(); ++n) {
    SCOPED_TRACE("cancel after " + std::to_string(n) + " records");
    SetFile(image);
    RecoveryProgress progress;
    progress.cancel.store(n == 0);
    RecoveryOptions options;
    options.progress = &progress;
    size_t calls = 0;
    absl::Status status = RecoverAof(
        &env_, kPath,
        [&](std::string_view) {
          if (++calls == n) progress.cancel.store(true);
          return absl::OkStatus();
        },
        &result_, options);
    EXPECT_TRUE(absl::IsCancelled(status)) << status;
    const uint64_t reached = n == 0 ? 0 : offsets[n];
    EXPECT_THAT(std::string(status.message()), HasSubstr(kPath));
    EXPECT_THAT(std::string(status.message()), HasSubstr("byte offset " + std::to_string(reached)));
    EXPECT_EQ(calls, n);
    EXPECT_EQ(result_.records_applied, n);
    EXPECT_EQ(progress.records_applied.load(), n);
    EXPECT_EQ(progress.loaded_bytes.load(), reached);
    EXPECT_FALSE(result_.torn_tail);
    // Nothing is truncated: a cancelled replay is not a damaged file.
    EXPECT_EQ(*env_.GetFileSize(kPath), image.size());
    EXPECT_EQ(*ReadFileToString(&env_, kPath), image);
  }
  // The next recovery replays everything.
  ASSERT_TRUE(Recover().ok());
  EXPECT_EQ(applied_, payloads);

  // A torn tail the replay did not reach is left alone too (the next start truncates it).
  const std::string torn = image.substr(0, image.size() - 3);
  SetFile(torn);
  RecoveryProgress progress;
  RecoveryOptions options;
  options.progress = &progress;
  absl::Status status = RecoverAof(
      &env_, kPath,
      [&](std::string_view) {
        progress.cancel.store(true);
        return absl::OkStatus();
      },
      &result_, options);
  EXPECT_TRUE(absl::IsCancelled(status)) << status;
  EXPECT_EQ(result_.records_applied, 1u);
  EXPECT_FALSE(result_.torn_tail);
  EXPECT_EQ(*ReadFileToString(&env_, kPath), torn);
}

TEST_F(RecoveryTest, ProgressWithATornTail) {
  std::vector<uint64_t> offsets;
  const std::string image = MakeAof({Payload(0), Payload(1), Payload(2, 64)}, &offsets);
  // Cuts inside every record: the torn tail leaves 0, 1 or 2 records.
  for (size_t cut = offsets[0] + 1; cut < image.size(); ++cut) {
    if (std::find(offsets.begin(), offsets.end(), cut) != offsets.end()) continue;  // clean cut
    SCOPED_TRACE("cut " + std::to_string(cut));
    SetFile(image.substr(0, cut));
    RecoveryProgress progress;
    RecoveryOptions options;
    options.progress = &progress;
    RecoveryResult result;
    ASSERT_TRUE(
        RecoverAof(
            &env_, kPath, [](std::string_view) { return absl::OkStatus(); }, &result, options)
            .ok());
    ASSERT_TRUE(result.torn_tail);
    // The torn record is the last one starting before the cut.
    EXPECT_EQ(result.valid_bytes, *(std::lower_bound(offsets.begin(), offsets.end(), cut) - 1));
    EXPECT_EQ(progress.total_bytes.load(), cut);
    EXPECT_EQ(progress.loaded_bytes.load(), result.valid_bytes);
    EXPECT_EQ(progress.records_applied.load(), result.records_applied);
    EXPECT_EQ(*env_.GetFileSize(kPath), result.valid_bytes);
  }
}

}  // namespace
}  // namespace activekv::persistence
