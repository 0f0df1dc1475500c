// IncarnationStore: which origin each kind of start writes as, and which markers it leaves. One
// scenario per rule of docs/replication-protocol.md ("Dots after a restart", "Joining").
#include "region-server/incarnation.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "persistence/mem_env.h"

namespace activekv::server {
namespace {

constexpr char kDir[] = "/data/us";

IncarnationStore::Start History(bool replicated, bool complete, bool fsync_always) {
  IncarnationStore::Start s;
  s.replicated = replicated;
  s.has_history = true;
  s.complete = complete;
  s.fsync_always = fsync_always;
  return s;
}

IncarnationStore::Start Empty(bool replicated) {
  IncarnationStore::Start s;
  s.replicated = replicated;
  return s;
}

class IncarnationTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.CreateDirs(kDir).ok()); }
  // A process start: a fresh store over the same directory.
  IncarnationStore& Restart(const IncarnationStore::Start& start) {
    store_ = std::make_unique<IncarnationStore>(&env_, kDir, "us");
    status_ = store_->Pick(start);
    EXPECT_TRUE(status_.ok()) << status_;
    return *store_;
  }
  bool Has(const char* file) { return env_.FileExists(std::string(kDir) + "/" + file); }

  persistence::MemEnv env_;
  std::unique_ptr<IncarnationStore> store_;
  absl::Status status_;
};

TEST_F(IncarnationTest, ACleanStopKeepsTheOriginAnUncleanOneTakesTheNext) {
  EXPECT_EQ(Restart(History(true, true, false)).origin(), "us~1") << "no clean-shutdown marker";
  ASSERT_TRUE(store_->MarkCleanShutdown().ok());
  EXPECT_EQ(Restart(History(true, true, false)).origin(), "us~1");
  EXPECT_FALSE(Has("clean-shutdown")) << "it speaks for one start only";
  EXPECT_EQ(Restart(History(true, true, false)).origin(), "us~2") << "killed: not clean";
  EXPECT_FALSE(store_->catching_up()) << "the live AOF holds everything it announced";
}

TEST_F(IncarnationTest, AppendfsyncAlwaysWithTheLiveAofLosesNothingSoKeepsTheOrigin) {
  EXPECT_EQ(Restart(History(true, true, true)).origin(), "us");
  // A snapshot start may lack ops it made, whatever the policy: a new origin, and it catches up.
  IncarnationStore& s = Restart(History(true, false, true));
  EXPECT_EQ(s.origin(), "us~1");
  EXPECT_TRUE(s.catching_up());
  EXPECT_TRUE(Has("catching-up"));
}

TEST_F(IncarnationTest, ANewReplicatedDirectoryJoinsThenTakesThePeersIncarnation) {
  IncarnationStore& s = Restart(Empty(true));
  EXPECT_TRUE(s.joining());
  EXPECT_TRUE(s.catching_up());
  EXPECT_EQ(s.origin(), "us");
  // A crash before the join: still joining (the marker survives).
  IncarnationStore& again = Restart(Empty(true));
  EXPECT_TRUE(again.joining());
  absl::StatusOr<std::string> origin = again.RecordJoin(4);  // peers hold us~3's ops
  ASSERT_TRUE(origin.ok());
  EXPECT_EQ(*origin, "us~4");
  ASSERT_TRUE(again.JoinDone().ok());
  EXPECT_FALSE(again.joining());
  EXPECT_FALSE(Has("joining"));
  EXPECT_TRUE(again.catching_up()) << "until it holds what its peers held";
  ASSERT_TRUE(again.FinishCatchUp().ok());
  EXPECT_FALSE(Has("catching-up"));
  ASSERT_TRUE(again.MarkCleanShutdown().ok());
  EXPECT_EQ(Restart(History(true, true, false)).origin(), "us~4");
}

TEST_F(IncarnationTest, ADirectoryThatRanBeforeNeverReusesANumberWhenItJoins) {
  Restart(History(true, true, false));  // us~1
  Restart(History(true, true, false));  // us~2
  // Its AOF is lost (mode none, or wiped): it joins again, and peers know no op of ours.
  IncarnationStore& s = Restart(Empty(true));
  ASSERT_TRUE(s.joining());
  absl::StatusOr<std::string> origin = s.RecordJoin(0);
  ASSERT_TRUE(origin.ok());
  EXPECT_EQ(*origin, "us~3");
}

TEST_F(IncarnationTest, ACrashWhileCatchingUpKeepsCatchingUp) {
  EXPECT_TRUE(Restart(History(true, false, false)).catching_up());
  ASSERT_TRUE(store_->MarkCleanShutdown().ok());  // even a clean stop before it caught up
  IncarnationStore& s = Restart(History(true, true, false));
  EXPECT_TRUE(s.catching_up());
  ASSERT_TRUE(s.FinishCatchUp().ok());
  EXPECT_FALSE(Restart(History(true, true, false)).catching_up());
}

TEST_F(IncarnationTest, ASingleRegionNeverJoinsOrCatchesUp) {
  IncarnationStore& s = Restart(Empty(false));
  EXPECT_FALSE(s.joining());
  EXPECT_FALSE(s.catching_up());
  EXPECT_EQ(s.origin(), "us");
  EXPECT_EQ(Restart(History(false, false, false)).origin(), "us~1") << "a crash still bumps";
  EXPECT_FALSE(store_->catching_up());
}

TEST_F(IncarnationTest, AnUnreadableIncarnationFileIsRefused) {
  ASSERT_TRUE(
      persistence::WriteStringToFile(&env_, "seven\n", std::string(kDir) + "/incarnation", true)
          .ok());
  IncarnationStore s(&env_, kDir, "us");
  absl::Status st = s.Pick(History(true, true, false));
  EXPECT_TRUE(absl::IsDataLoss(st)) << st;
  EXPECT_NE(st.message().find("not a number: 'seven"), std::string::npos) << st;
}

}  // namespace
}  // namespace activekv::server
