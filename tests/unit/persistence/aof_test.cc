// The durable log: fsync policies, group commit, and recovery from write/fsync failures with no
// record lost or duplicated. Faults come from FaultInjectionEnv over a MemEnv; background-thread
// progress is awaited with a deadline, never a fixed sleep.
#include "persistence/aof.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "persistence/fault_env.h"
#include "persistence/mem_env.h"
#include "persistence/mutex.h"
#include "tests/unit/persistence/test_util.h"

namespace activekv::persistence {
namespace {

using ::testing::HasSubstr;
using testing::Payload;
using testing::WaitFor;

// Records what on_durable reported (called on the sync thread).
class DurableLog {
 public:
  void Report(uint64_t lsn) {
    MutexLock lock(&mu_);
    calls_.push_back(lsn);
  }
  std::vector<uint64_t> calls() {
    MutexLock lock(&mu_);
    return calls_;
  }
  uint64_t last() {
    MutexLock lock(&mu_);
    return calls_.empty() ? 0 : calls_.back();
  }

 private:
  Mutex mu_;
  std::vector<uint64_t> calls_ ABSL_GUARDED_BY(mu_);
};

class AofTest : public ::testing::Test {
 protected:
  std::unique_ptr<Aof> Open(FsyncPolicy policy, absl::Duration everysec = absl::Hours(1),
                            DurableLog* log = nullptr,
                            absl::Duration no_sync = absl::InfiniteDuration()) {
    Aof::Options options;
    options.no_sync_interval = no_sync;
    options.env = &fault_;
    options.path = kPath;
    options.policy = policy;
    if (log == nullptr) log = &durable_;
    options.on_durable = [log](uint64_t lsn) { log->Report(lsn); };
    options.everysec_interval = everysec;
    options.retry_interval = absl::Milliseconds(1);
    auto aof = Aof::Open(options);
    EXPECT_TRUE(aof.ok()) << aof.status();
    return aof.ok() ? *std::move(aof) : nullptr;
  }
  // The records in the file; fails the test unless it reads cleanly to the end.
  std::vector<std::string> FileRecords() {
    testing::ReadOutcome out = testing::ReadAof(&mem_, kPath);
    EXPECT_EQ(out.end, aof::Reader::Result::kEof);
    return out.records;
  }
  static std::vector<std::string> Payloads(int from, int to) {
    std::vector<std::string> v;
    for (int i = from; i < to; ++i) v.push_back(Payload(i));
    return v;
  }

  const std::string kPath = "data/appendonly.aof";
  MemEnv mem_;
  FaultInjectionEnv fault_{&mem_};
  DurableLog durable_;
};

TEST(FsyncPolicyTest, ParsesRedisNames) {
  EXPECT_EQ(*ParseFsyncPolicy("always"), FsyncPolicy::kAlways);
  EXPECT_EQ(*ParseFsyncPolicy("everysec"), FsyncPolicy::kEverysec);
  EXPECT_EQ(*ParseFsyncPolicy("NO"), FsyncPolicy::kNo);
  EXPECT_TRUE(absl::IsInvalidArgument(ParseFsyncPolicy("sometimes").status()));
  EXPECT_EQ(FsyncPolicyName(FsyncPolicy::kEverysec), "everysec");
}

TEST_F(AofTest, OpenCreatesADurableFileHeader) {
  auto aof = Open(FsyncPolicy::kNo);
  ASSERT_NE(aof, nullptr);
  EXPECT_EQ(*mem_.GetSyncedSize(kPath), aof::kFileHeaderSize);
  EXPECT_TRUE(aof->health().ok());
  EXPECT_EQ(aof->stats().file_size, aof::kFileHeaderSize);
}

TEST_F(AofTest, OpenRejectsAFileThatIsNotAnAof) {
  ASSERT_TRUE(WriteStringToFile(&mem_, "*1\r\n$4\r\nPING\r\n", kPath, true).ok());
  Aof::Options options;
  options.env = &mem_;
  options.path = kPath;
  auto aof = Aof::Open(options);
  EXPECT_TRUE(absl::IsFailedPrecondition(aof.status())) << aof.status();
}

TEST_F(AofTest, OpenFailureIsReturned) {
  fault_.SetOpenError(true);
  Aof::Options options;
  options.env = &fault_;
  options.path = kPath;
  EXPECT_FALSE(Aof::Open(options).ok());
  options.env = nullptr;
  EXPECT_TRUE(absl::IsInvalidArgument(Aof::Open(options).status()));
}

TEST_F(AofTest, AppendReturnsConsecutiveLsnsAndRejectsOversizedPayloads) {
  auto aof = Open(FsyncPolicy::kNo);
  EXPECT_EQ(aof->Append("a"), 1u);
  EXPECT_EQ(aof->Append(""), 2u);
  std::string small = "x";
  EXPECT_EQ(aof->Append(std::string_view(small.data(), size_t{aof::kMaxPayloadSize} + 1)), 0u);
  EXPECT_EQ(aof->Append("c"), 3u);
  EXPECT_EQ(aof->appended_lsn(), 3u);
  EXPECT_EQ(aof->durable_lsn(), 0u);
  ASSERT_TRUE(aof->Flush().ok());
  EXPECT_EQ(aof->durable_lsn(), 3u);
}

TEST_F(AofTest, ReopenAppendsAfterExistingRecords) {
  for (int round = 0; round < 3; ++round) {
    auto aof = Open(FsyncPolicy::kEverysec);
    aof->Append(Payload(round));
    ASSERT_TRUE(aof->Close().ok());
  }
  EXPECT_EQ(FileRecords(), Payloads(0, 3));
}

class AofPolicyTest : public AofTest, public ::testing::WithParamInterface<FsyncPolicy> {};

TEST_P(AofPolicyTest, RecordsReadBackInOrderAfterSyncAll) {
  auto aof = Open(GetParam());
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(aof->Append(Payload(i)), static_cast<uint64_t>(i + 1));
    if (i % 7 == 0) {
      ASSERT_TRUE(aof->Flush().ok());
    }
  }
  ASSERT_TRUE(aof->SyncAll().ok());
  EXPECT_EQ(aof->durable_lsn(), 100u);
  EXPECT_EQ(*mem_.GetSyncedSize(kPath), *mem_.GetFileSize(kPath));
  EXPECT_EQ(FileRecords(), Payloads(0, 100));
  Aof::Stats stats = aof->stats();
  EXPECT_EQ(stats.records, 100u);
  EXPECT_EQ(stats.file_size, *mem_.GetFileSize(kPath));
  EXPECT_EQ(stats.bytes_written, stats.bytes_appended);
  EXPECT_GE(stats.fsyncs, 1u);
  EXPECT_GT(stats.last_fsync_unix_ms, 0u);
}

TEST_P(AofPolicyTest, DestructorWritesAndSyncsEverything) {
  {
    auto aof = Open(GetParam());
    for (int i = 0; i < 10; ++i) aof->Append(Payload(i));
  }
  mem_.DropUnsyncedData();
  EXPECT_EQ(FileRecords(), Payloads(0, 10));
}

// Full disk in the middle of a record: the prefix that fit is cut off again and the whole batch
// is written once space returns, so every record is in the file exactly once.
TEST_P(AofPolicyTest, NoSpaceMidRecordRetriesAfterSpaceReturns) {
  auto aof = Open(GetParam());
  aof->Append(Payload(0));
  ASSERT_TRUE(aof->SyncAll().ok());
  fault_.SetNoSpaceAfter(aof::kRecordHeaderSize + 5);  // fails inside the 2nd record
  for (int i = 1; i < 4; ++i) aof->Append(Payload(i));
  absl::Status status = aof->Flush();
  if (GetParam() == FsyncPolicy::kAlways) {
    ASSERT_TRUE(WaitFor([&] { return !aof->health().ok(); }));
    status = aof->health();
  }
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("No space left on device"));
  EXPECT_EQ(aof->durable_lsn(), 1u);
  EXPECT_EQ(durable_.last(), GetParam() == FsyncPolicy::kAlways ? 1u : 0u);
  // Still full: more attempts fail, nothing is lost.
  aof->Append(Payload(4));
  EXPECT_FALSE(aof->Flush().ok());
  ASSERT_TRUE(WaitFor([&] {
    aof->Flush().IgnoreError();
    return fault_.failed_write_count() >= 2;
  }));

  fault_.ClearNoSpace();
  if (GetParam() == FsyncPolicy::kAlways) {
    ASSERT_TRUE(WaitFor([&] { return durable_.last() == 5; }));
    EXPECT_EQ(aof->durable_lsn(), 5u);
  } else {
    ASSERT_TRUE(WaitFor([&] { return aof->Flush().ok(); }));  // retried once retry_interval passed
  }
  EXPECT_TRUE(aof->health().ok());
  ASSERT_TRUE(aof->SyncAll().ok());
  EXPECT_EQ(FileRecords(), Payloads(0, 5));
  EXPECT_GE(aof->stats().write_errors, 2u);
}

TEST_P(AofPolicyTest, WriteErrorIsReportedAndRetried) {
  auto aof = Open(GetParam());
  fault_.SetWriteError(true);
  aof->Append(Payload(0));
  aof->Flush().IgnoreError();
  ASSERT_TRUE(WaitFor([&] { return !aof->health().ok(); }));
  EXPECT_THAT(aof->health().message(), HasSubstr("Input/output error"));
  fault_.SetWriteError(false);
  ASSERT_TRUE(WaitFor([&] { return aof->Flush().ok(); }));
  ASSERT_TRUE(aof->SyncAll().ok());
  EXPECT_EQ(FileRecords(), Payloads(0, 1));
}

INSTANTIATE_TEST_SUITE_P(AllPolicies, AofPolicyTest,
                         ::testing::Values(FsyncPolicy::kAlways, FsyncPolicy::kEverysec,
                                           FsyncPolicy::kNo),
                         [](const auto& info) { return std::string(FsyncPolicyName(info.param)); });

TEST_F(AofTest, AlwaysGroupCommitsEveryAppendBeforeAFlushWithOneFsync) {
  auto aof = Open(FsyncPolicy::kAlways);
  const uint64_t syncs_before = fault_.sync_count();
  for (int i = 0; i < 50; ++i) aof->Append(Payload(i));
  EXPECT_EQ(aof->durable_lsn(), 0u);
  ASSERT_TRUE(aof->Flush().ok());
  ASSERT_TRUE(WaitFor([&] { return durable_.last() == 50; }));
  EXPECT_EQ(fault_.sync_count() - syncs_before, 1u);
  EXPECT_EQ(aof->stats().fsyncs, 1u);
  EXPECT_EQ(durable_.calls(), std::vector<uint64_t>{50});
  EXPECT_EQ(*mem_.GetSyncedSize(kPath), *mem_.GetFileSize(kPath));
  EXPECT_EQ(FileRecords(), Payloads(0, 50));
}

TEST_F(AofTest, AlwaysNothingIsWrittenBeforeFlush) {
  auto aof = Open(FsyncPolicy::kAlways);
  aof->Append(Payload(0));
  EXPECT_EQ(*mem_.GetFileSize(kPath), aof::kFileHeaderSize);
  ASSERT_TRUE(aof->SyncAll().ok());
  EXPECT_EQ(aof->durable_lsn(), 1u);
}

// on_durable must never run for a record whose fsync failed; once the disk is healthy again the
// records are rewritten (the failed fsync may have lost them) and every one is in the file once.
TEST_F(AofTest, AlwaysFailedSyncIsNotDurableAndRecoversWithoutLossOrDuplicates) {
  for (bool lose_unsynced : {false, true}) {
    SCOPED_TRACE(lose_unsynced ? "failed fsync loses the dirty pages" : "pages kept");
    DurableLog durable;
    auto aof = Open(FsyncPolicy::kAlways, absl::Hours(1), &durable);
    aof->Append(Payload(0));
    ASSERT_TRUE(aof->SyncAll().ok());
    ASSERT_TRUE(WaitFor([&] { return durable.last() == 1; }));  // called after durable_lsn moves

    const uint64_t failed_before = fault_.failed_sync_count();
    fault_.SetSyncError(true, lose_unsynced);
    for (int i = 1; i < 6; ++i) aof->Append(Payload(i));
    ASSERT_TRUE(aof->Flush().ok());  // health is still OK: the sync thread has not failed yet
    ASSERT_TRUE(WaitFor([&] { return fault_.failed_sync_count() >= failed_before + 3; }));
    absl::Status health = aof->health();
    EXPECT_FALSE(health.ok());
    EXPECT_THAT(health.message(), HasSubstr("sync " + kPath + ": Input/output error"));
    EXPECT_EQ(aof->durable_lsn(), 1u);
    EXPECT_EQ(durable.calls(), std::vector<uint64_t>{1});
    // Appends keep being accepted while unhealthy (the server refuses them, not the log).
    aof->Append(Payload(6));
    EXPECT_FALSE(aof->Flush().ok());

    fault_.SetSyncError(false);
    ASSERT_TRUE(WaitFor([&] { return durable.last() == 7; }));
    EXPECT_EQ(aof->durable_lsn(), 7u);
    EXPECT_TRUE(aof->health().ok());
    EXPECT_EQ(durable.calls(), (std::vector<uint64_t>{1, 7}));
    EXPECT_GE(aof->stats().fsync_errors, 3u);
    mem_.DropUnsyncedData();  // everything reported durable survives a power loss
    EXPECT_EQ(FileRecords(), Payloads(0, 7));
    ASSERT_TRUE(aof->Close().ok());
    fault_.SetSyncError(false);
    ASSERT_TRUE(mem_.RemoveFile(kPath).ok());
  }
}

TEST_F(AofTest, AlwaysOnDurableValuesStrictlyIncreaseUnderManyFlushes) {
  auto aof = Open(FsyncPolicy::kAlways);
  std::mt19937_64 rng = testing::SeededRng();
  int n = 0;
  for (int round = 0; round < 300; ++round) {
    int batch = static_cast<int>(rng() % 5);
    for (int i = 0; i < batch; ++i) aof->Append(Payload(n++));
    ASSERT_TRUE(aof->Flush().ok());
  }
  ASSERT_TRUE(aof->SyncAll().ok());
  ASSERT_GT(n, 0);
  ASSERT_TRUE(WaitFor([&] { return durable_.last() == static_cast<uint64_t>(n); }));
  std::vector<uint64_t> calls = durable_.calls();
  for (size_t i = 1; i < calls.size(); ++i) ASSERT_LT(calls[i - 1], calls[i]);
  EXPECT_EQ(calls.back(), static_cast<uint64_t>(n));
  EXPECT_LE(aof->stats().fsyncs, 300u);
  EXPECT_EQ(FileRecords(), Payloads(0, n));
}

TEST_F(AofTest, AlwaysPowerLossKeepsExactlyTheDurableRecords) {
  auto aof = Open(FsyncPolicy::kAlways);
  for (int i = 0; i < 10; ++i) aof->Append(Payload(i));
  ASSERT_TRUE(aof->SyncAll().ok());
  aof->Append(Payload(10));  // buffered, never flushed
  mem_.DropUnsyncedData();
  EXPECT_EQ(FileRecords(), Payloads(0, 10));
}

TEST_F(AofTest, SyncAllReturnsTheSyncError) {
  auto aof = Open(FsyncPolicy::kAlways);
  fault_.SetSyncError(true);
  aof->Append(Payload(0));
  absl::Status status = aof->SyncAll();
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("Input/output error"));
  fault_.SetSyncError(false);
  EXPECT_TRUE(aof->SyncAll().ok());
  EXPECT_EQ(FileRecords(), Payloads(0, 1));
}

TEST_F(AofTest, EverysecSyncsOnItsOwn) {
  auto aof = Open(FsyncPolicy::kEverysec, /*everysec=*/absl::Milliseconds(5));
  aof->Append(Payload(0));
  ASSERT_TRUE(aof->Flush().ok());
  EXPECT_EQ(aof->durable_lsn(), 1u);  // written
  ASSERT_TRUE(WaitFor([&] { return aof->stats().fsyncs >= 1; }));
  EXPECT_EQ(*mem_.GetSyncedSize(kPath), *mem_.GetFileSize(kPath));
  EXPECT_TRUE(durable_.calls().empty());  // on_durable is for kAlways only
}

// kEverysec keeps unsynced bytes in memory for a possible rewrite; a burst must not pile up a
// second's worth of them, so past 32 MiB the fsync comes early.
TEST_F(AofTest, EverysecFsyncsEarlyWhenMuchIsUnsynced) {
  auto aof = Open(FsyncPolicy::kEverysec);  // the regular fsync would come in an hour
  const std::string mib(1 << 20, 'x');
  for (int i = 0; i < 40; ++i) aof->Append(mib);
  ASSERT_TRUE(aof->Flush().ok());
  ASSERT_TRUE(WaitFor([&] { return aof->stats().fsyncs >= 1; }));
  EXPECT_EQ(*mem_.GetSyncedSize(kPath), *mem_.GetFileSize(kPath));
}

// fsyncgate for everysec: after a failed fsync the next Flush truncates back to the last synced
// offset and writes the unsynced records again.
TEST_F(AofTest, EverysecFailedSyncRewritesTheUnsyncedRecords) {
  auto aof = Open(FsyncPolicy::kEverysec);  // the test drives the fsyncs with SyncAll
  aof->Append(Payload(0));
  ASSERT_TRUE(aof->SyncAll().ok());
  for (int i = 1; i < 4; ++i) aof->Append(Payload(i));
  fault_.SetSyncError(true, /*lose_unsynced=*/true);
  EXPECT_FALSE(aof->SyncAll().ok());
  EXPECT_FALSE(aof->health().ok());
  EXPECT_EQ(FileRecords(), Payloads(0, 1));  // the failed fsync lost records 1..3
  fault_.SetSyncError(false);
  aof->Append(Payload(4));
  EXPECT_FALSE(aof->Flush().ok());  // rewritten, but not healthy until an fsync succeeds
  EXPECT_EQ(FileRecords(), Payloads(0, 5));
  ASSERT_TRUE(aof->SyncAll().ok());
  EXPECT_TRUE(aof->health().ok());
  mem_.DropUnsyncedData();
  EXPECT_EQ(FileRecords(), Payloads(0, 5));
}

TEST_F(AofTest, NoPolicyNeverSyncsBeforeClose) {
  auto aof = Open(FsyncPolicy::kNo);
  const uint64_t before = fault_.sync_count();
  for (int i = 0; i < 20; ++i) {
    aof->Append(Payload(i));
    ASSERT_TRUE(aof->Flush().ok());
  }
  EXPECT_EQ(fault_.sync_count(), before);
  EXPECT_EQ(aof->durable_lsn(), 20u);
  ASSERT_TRUE(aof->Close().ok());
  EXPECT_EQ(fault_.sync_count(), before + 1);
  EXPECT_EQ(*mem_.GetSyncedSize(kPath), *mem_.GetFileSize(kPath));
}

// synced_lsn is what a power loss cannot take: peers fold counters only on it.
TEST_F(AofTest, SyncedLsnFollowsTheFsyncsNotTheWrites) {
  auto aof = Open(FsyncPolicy::kEverysec);  // the test drives the fsyncs with SyncAll
  aof->Append(Payload(0));
  ASSERT_TRUE(aof->SyncAll().ok());
  for (int i = 1; i < 4; ++i) aof->Append(Payload(i));
  ASSERT_TRUE(aof->Flush().ok());
  EXPECT_EQ(aof->durable_lsn(), 4u);
  EXPECT_EQ(aof->synced_lsn(), 1u);
  const Aof::Stats stats = aof->stats();
  EXPECT_EQ(stats.synced_size, *mem_.GetSyncedSize(kPath));
  EXPECT_LT(stats.synced_size, *mem_.GetFileSize(kPath));
  EXPECT_GT(stats.synced_as_of_unix_ms, 0u);
  mem_.DropUnsyncedData();  // a power loss now keeps exactly the synced records
  EXPECT_EQ(FileRecords(), Payloads(0, 1));
}

TEST_F(AofTest, SyncedLsnDoesNotAdvanceOnAFailedFsync) {
  auto aof = Open(FsyncPolicy::kEverysec);
  aof->Append(Payload(0));
  ASSERT_TRUE(aof->Flush().ok());
  fault_.SetSyncError(true, /*lose_unsynced=*/true);
  EXPECT_FALSE(aof->SyncAll().ok());
  EXPECT_EQ(aof->synced_lsn(), 0u);
  fault_.SetSyncError(false);
  ASSERT_TRUE(aof->SyncAll().ok());
  EXPECT_EQ(aof->synced_lsn(), 1u);
}

TEST_F(AofTest, AlwaysSyncedLsnIsTheDurableLsn) {
  auto aof = Open(FsyncPolicy::kAlways);
  for (int i = 0; i < 5; ++i) aof->Append(Payload(i));
  ASSERT_TRUE(aof->SyncAll().ok());
  EXPECT_EQ(aof->synced_lsn(), 5u);
}

// A replicated region with appendfsync no still fsyncs in the background (never on the write
// path), so what it acknowledges to peers as synced becomes true.
TEST_F(AofTest, NoPolicyWithABackgroundSyncAdvancesSyncedLsn) {
  auto aof = Open(FsyncPolicy::kNo, absl::Hours(1), nullptr, absl::Milliseconds(5));
  for (int i = 0; i < 3; ++i) aof->Append(Payload(i));
  ASSERT_TRUE(aof->Flush().ok());
  EXPECT_EQ(aof->durable_lsn(), 3u);
  ASSERT_TRUE(WaitFor([&] { return aof->synced_lsn() == 3u; }));
  EXPECT_EQ(*mem_.GetSyncedSize(kPath), *mem_.GetFileSize(kPath));
}

TEST_F(AofTest, NoPolicySyncedLsnOnlyAdvancesAtSyncAll) {
  auto aof = Open(FsyncPolicy::kNo);
  aof->Append(Payload(0));
  ASSERT_TRUE(aof->Flush().ok());
  EXPECT_EQ(aof->synced_lsn(), 0u);
  ASSERT_TRUE(aof->SyncAll().ok());
  EXPECT_EQ(aof->synced_lsn(), 1u);
}

// What a crashed predecessor wrote may be only in the page cache: Open fsyncs it, so everything
// replayed from the file counts as synced.
TEST_F(AofTest, OpenFsyncsAnExistingFile) {
  {
    auto file = mem_.NewWritableFile(kPath, /*append=*/false);
    ASSERT_TRUE(file.ok());
    std::string bytes(aof::FileHeader());
    aof::EncodeRecord(Payload(0), &bytes);
    ASSERT_TRUE((*file)->Append(bytes).ok());
    ASSERT_TRUE((*file)->Flush().ok());
    ASSERT_TRUE((*file)->Close().ok());  // written, never fsynced
  }
  ASSERT_LT(*mem_.GetSyncedSize(kPath), *mem_.GetFileSize(kPath));
  auto again = Open(FsyncPolicy::kEverysec);
  EXPECT_EQ(*mem_.GetSyncedSize(kPath), *mem_.GetFileSize(kPath));
}

TEST(AofWithoutFileTest, RecordsAreNumberedAndDurableAtOnceWithNothingWritten) {
  for (FsyncPolicy policy : {FsyncPolicy::kAlways, FsyncPolicy::kEverysec, FsyncPolicy::kNo}) {
    std::unique_ptr<Aof> aof = Aof::OpenWithoutFile(policy);
    EXPECT_FALSE(aof->has_file());
    EXPECT_EQ(aof->Append("a"), 1u);
    EXPECT_EQ(aof->Append("b", aof::kSnapshotType), 2u);
    EXPECT_EQ(aof->Append(std::string(aof::kMaxPayloadSize + 1, 'x')), 0u);  // still refused
    EXPECT_EQ(aof->appended_lsn(), 2u);
    EXPECT_EQ(aof->durable_lsn(), 2u);
    EXPECT_EQ(aof->synced_lsn(), 2u);
    EXPECT_TRUE(aof->Flush().ok());
    EXPECT_TRUE(aof->SyncAll().ok());
    Aof::Stats stats = aof->stats();
    EXPECT_EQ(stats.policy, policy);
    EXPECT_EQ(stats.file_size, 0u);
    EXPECT_EQ(stats.bytes_written, 0u);
    EXPECT_EQ(stats.fsyncs, 0u);
    EXPECT_TRUE(aof->Close().ok());
    EXPECT_TRUE(aof->healthy());
  }
}

}  // namespace
}  // namespace activekv::persistence
