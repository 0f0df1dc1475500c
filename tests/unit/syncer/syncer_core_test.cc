// SyncerCore: what is sent to a pulling peer, when, and what its acks change.
#include "syncer/syncer_core.h"

#include <string>

#include "gtest/gtest.h"
#include "test_ops.h"

namespace activekv::syncer {
namespace {

using Next = SyncerCore::Next;
using testing::MakeOp;

constexpr uint64_t kAllDurable = ~uint64_t{0};

// "a1,b1,a2": the dots of a batch.
std::string Dots(const v1::OpBatch& batch) {
  std::string out;
  for (const v1::Op& op : batch.ops()) {
    if (!out.empty()) out += ",";
    out += op.origin() + std::to_string(op.seq());
  }
  return out;
}

class SyncerCoreTest : public ::testing::Test {
 protected:
  void Init(size_t log_max_ops, SyncerCore::Options options) {
    log_ = std::make_unique<ReplicationLog>(log_max_ops);
    core_ = std::make_unique<SyncerCore>(log_.get(), options);
  }
  void SetUp() override { Init(100, {}); }
  void Add(const std::string& origin, uint64_t seq, uint64_t lsn = 0, int64_t hlc_ms = 1'000) {
    log_->Append(MakeOp(origin, seq, hlc_ms), lsn);
  }
  // The dots of the next batch, or "nothing" / "snapshot".
  std::string PollDots(uint64_t durable = kAllDurable) {
    std::string bytes;
    v1::OpBatch batch;
    switch (core_->Poll("p", durable, &bytes)) {
      case Next::kNothing:
        EXPECT_TRUE(bytes.empty());
        return "nothing";
      case Next::kSnapshot:
        return "snapshot";
      case Next::kBatch:
        EXPECT_TRUE(batch.ParseFromString(bytes));
        return Dots(batch);
    }
    return "?";
  }
  static SyncerCore::Options Opts(size_t max_ops, size_t window, size_t max_bytes = 1 << 20) {
    SyncerCore::Options o;
    o.max_batch_ops = max_ops;
    o.window = window;
    o.max_batch_bytes = max_bytes;
    return o;
  }

  std::unique_ptr<ReplicationLog> log_;
  std::unique_ptr<SyncerCore> core_;
};

TEST_F(SyncerCoreTest, NothingIsSentWithoutAStream) {
  Add("a", 1);
  EXPECT_EQ(PollDots(), "nothing");
  EXPECT_EQ(core_->stats("p"), nullptr);
  core_->OnAck("p", {}, 5);
  EXPECT_EQ(PollDots(), "nothing");
  ASSERT_NE(core_->stats("p"), nullptr);
  EXPECT_FALSE(core_->stats("p")->streaming);
}

// hello.hold: nothing until the peer's first ack (which names the origins it gets directly).
TEST_F(SyncerCoreTest, AHeldStreamSendsNothingUntilTheFirstAck) {
  Add("a", 1);
  Add("b", 1);
  core_->OnPullStart("p", {}, {}, /*hold=*/true);
  EXPECT_TRUE(core_->Held("p"));
  EXPECT_EQ(PollDots(), "nothing");
  core_->OnAck("p", {}, 5);
  core_->SetSkip("p", {"b"});
  EXPECT_FALSE(core_->Held("p"));
  EXPECT_EQ(PollDots(), "a1");
  // A new stream without hold sends at once.
  core_->OnPullStart("p", {});
  EXPECT_EQ(PollDots(), "a1,b1");
}

TEST_F(SyncerCoreTest, SendsWhatThePeerLacksInLogOrder) {
  Add("a", 1);
  Add("b", 1);
  Add("a", 2);
  Add("c", 1);
  core_->OnPullStart("p", {{"b", 1}});
  EXPECT_TRUE(core_->stats("p")->streaming);
  EXPECT_EQ(PollDots(), "a1,a2,c1");
  EXPECT_EQ(PollDots(), "nothing");
  const SyncerCore::PeerStats* s = core_->stats("p");
  EXPECT_EQ(s->ops_sent, 3u);
  EXPECT_EQ(s->batches_sent, 1u);
  EXPECT_EQ(s->bytes_sent, 3 * MakeOp("a", 1).ByteSizeLong());
  Add("b", 2);
  EXPECT_EQ(PollDots(), "b2");
}

TEST_F(SyncerCoreTest, OriginsThePeerGetsDirectlyAreNotRelayed) {
  Add("a", 1);
  Add("b", 1);
  Add("a", 2);
  Add("c", 1);
  core_->OnPullStart("p", {}, {"c", "a"});
  EXPECT_EQ(PollDots(), "b1");
  Add("a", 3);
  Add("b", 2);
  EXPECT_EQ(PollDots(), "b2");
  core_->OnAck("p", {{"a", 1}, {"b", 2}}, 10);  // it got a1 from a itself
  // Its link to a went down: a's ops it lacks are relayed now, from what it acked.
  core_->SetSkip("p", {"c"});
  EXPECT_EQ(PollDots(), "a2,a3");
  Add("c", 2);
  Add("a", 4);
  EXPECT_EQ(PollDots(), "a4");
  core_->SetSkip("p", {});
  EXPECT_EQ(PollDots(), "c1,c2");
  EXPECT_EQ(PollDots(), "nothing");
}

TEST_F(SyncerCoreTest, SkippedOriginsTrimmedFromTheLogNeedNoResync) {
  Init(3, {});
  for (uint64_t seq = 1; seq <= 3; ++seq) Add("a", seq);
  Add("b", 1);  // a1 trimmed
  core_->OnPullStart("p", {}, {"a"});
  EXPECT_EQ(PollDots(), "b1");
  core_->SetSkip("p", {});  // a1 is gone: only a resync can bring it
  EXPECT_EQ(PollDots(), "snapshot");
}

TEST_F(SyncerCoreTest, APeerThatLostAckedOpsGetsThemAgain) {
  // Found by the chaos suite: after a power loss the peer announces less than it had acked; the
  // old acks must not make the sender skip what it lost.
  for (uint64_t seq = 1; seq <= 4; ++seq) Add("a", seq);
  core_->OnPullStart("p", {});
  EXPECT_EQ(PollDots(), "a1,a2,a3,a4");
  core_->OnAck("p", {{"a", 4}}, 10);
  EXPECT_EQ(core_->LagOps("p", {{"a", 4}}), 0u);
  core_->OnDisconnect("p");
  core_->OnPullStart("p", {{"a", 2}});  // restarted, lost a3 and a4
  EXPECT_EQ(core_->LagOps("p", {{"a", 4}}), 2u);
  core_->OnAck("p", {{"a", 2}}, 11);
  EXPECT_EQ(PollDots(), "a3,a4");
}

TEST_F(SyncerCoreTest, RelaysOtherOriginsAndSkipsWhatThePeerAnnounced) {
  Add("a", 1);
  Add("b", 1);
  Add("a", 2);
  Add("b", 2);
  core_->OnPullStart("p", {{"b", 2}, {"x", 9}});
  EXPECT_EQ(PollDots(), "a1,a2");
  core_->OnPullStart("p", {{"a", 2}, {"b", 2}});
  EXPECT_EQ(PollDots(), "nothing");
}

TEST_F(SyncerCoreTest, WindowLimitsUnackedBatches) {
  Init(100, Opts(/*max_ops=*/1, /*window=*/2));
  for (uint64_t s = 1; s <= 5; ++s) Add("a", s);
  core_->OnPullStart("p", {});
  EXPECT_EQ(PollDots(), "a1");
  EXPECT_EQ(PollDots(), "a2");
  EXPECT_EQ(PollDots(), "nothing");
  core_->OnAck("p", {{"a", 1}}, 10);
  EXPECT_EQ(PollDots(), "a3");
  EXPECT_EQ(PollDots(), "nothing");
  core_->OnAck("p", {{"a", 3}}, 11);  // one coalesced ack frees both slots
  EXPECT_EQ(PollDots(), "a4");
  EXPECT_EQ(PollDots(), "a5");
}

TEST_F(SyncerCoreTest, AcksThatCoverNoSentBatchFreeNoSlot) {
  Init(100, Opts(/*max_ops=*/1, /*window=*/1));
  Add("a", 1);
  Add("a", 2);
  Add("b", 1);
  core_->OnPullStart("p", {});
  EXPECT_EQ(PollDots(), "a1");
  core_->OnAck("p", {}, 10);          // an ack sent without a batch (e.g. periodic)
  core_->OnAck("p", {{"b", 1}}, 11);  // learned elsewhere: does not cover a1
  EXPECT_EQ(PollDots(), "nothing");
  core_->OnAck("p", {{"a", 1}, {"b", 1}}, 12);
  EXPECT_EQ(PollDots(), "a2");  // b1 is skipped: the peer has it
  core_->OnAck("p", {{"a", 2}, {"b", 1}}, 13);
  EXPECT_EQ(PollDots(), "nothing");
  EXPECT_EQ(core_->stats("p")->ops_sent, 2u);
}

TEST_F(SyncerCoreTest, OnlyDurableOpsAreSent) {
  Add("a", 1, /*lsn=*/0);  // replayed at startup: durable
  Add("a", 2, 5);
  Add("b", 1, 6);
  Add("a", 3, 7);
  core_->OnPullStart("p", {});
  EXPECT_EQ(PollDots(/*durable=*/4), "a1");
  EXPECT_EQ(PollDots(4), "nothing");
  EXPECT_EQ(PollDots(6), "a2,b1");
  EXPECT_EQ(PollDots(6), "nothing");
  EXPECT_EQ(PollDots(7), "a3");
}

TEST_F(SyncerCoreTest, UndurableOpsThePeerHasDoNotHoldBackTheCursor) {
  Add("a", 1, 5);
  Add("b", 1, 1);
  core_->OnPullStart("p", {{"a", 1}});
  EXPECT_EQ(PollDots(/*durable=*/0), "nothing");  // log order is LSN order in practice
  EXPECT_EQ(PollDots(1), "b1");
}

TEST_F(SyncerCoreTest, BatchesRespectMaxOps) {
  Init(100, Opts(/*max_ops=*/2, /*window=*/8));
  for (uint64_t s = 1; s <= 5; ++s) Add("a", s);
  core_->OnPullStart("p", {});
  EXPECT_EQ(PollDots(), "a1,a2");
  EXPECT_EQ(PollDots(), "a3,a4");
  EXPECT_EQ(PollDots(), "a5");
  EXPECT_EQ(core_->stats("p")->batches_sent, 3u);
}

TEST_F(SyncerCoreTest, BatchesRespectMaxBytesButAlwaysCarryOneOp) {
  const size_t op_bytes = MakeOp("a", 1, 1'000, 100).ByteSizeLong();
  Init(100, Opts(/*max_ops=*/100, /*window=*/8, /*max_bytes=*/2 * op_bytes + 10));
  for (uint64_t s = 1; s <= 3; ++s) log_->Append(MakeOp("a", s, 1'000, 100), 0);
  log_->Append(MakeOp("a", 4, 1'000, 1'000), 0);  // larger than a batch may be
  log_->Append(MakeOp("a", 5, 1'000, 100), 0);
  core_->OnPullStart("p", {});
  EXPECT_EQ(PollDots(), "a1,a2");
  EXPECT_EQ(PollDots(), "a3");
  EXPECT_EQ(PollDots(), "a4");
  EXPECT_EQ(PollDots(), "a5");
}

TEST_F(SyncerCoreTest, ReconnectResendsWhatWasNotAcked) {
  Init(100, Opts(/*max_ops=*/2, /*window=*/8));
  for (uint64_t s = 1; s <= 5; ++s) Add("a", s);
  core_->OnPullStart("p", {});
  EXPECT_EQ(PollDots(), "a1,a2");
  EXPECT_EQ(PollDots(), "a3,a4");
  core_->OnAck("p", {{"a", 2}}, 10);
  core_->OnDisconnect("p");
  EXPECT_FALSE(core_->stats("p")->streaming);
  EXPECT_EQ(PollDots(), "nothing");
  // a3 and a4 were lost with the stream: the new stream starts from what the peer has.
  core_->OnPullStart("p", {{"a", 2}});
  EXPECT_EQ(PollDots(), "a3,a4");
  EXPECT_EQ(PollDots(), "a5");
  EXPECT_EQ(core_->stats("p")->ops_sent, 7u);
}

TEST_F(SyncerCoreTest, ANewStreamReplacesTheOldOneWithoutADisconnect) {
  Init(100, Opts(/*max_ops=*/1, /*window=*/1));
  Add("a", 1);
  Add("a", 2);
  core_->OnPullStart("p", {});
  EXPECT_EQ(PollDots(), "a1");
  EXPECT_EQ(PollDots(), "nothing");  // window full
  core_->OnPullStart("p", {});       // superseding stream: fresh window, resend
  EXPECT_EQ(PollDots(), "a1");
}

TEST_F(SyncerCoreTest, TrimmedLogAsksForOneSnapshotThenStreamResumes) {
  Init(3, Opts(/*max_ops=*/8, /*window=*/2));
  for (uint64_t s = 1; s <= 5; ++s) Add("a", s);
  core_->OnPullStart("p", {});
  EXPECT_EQ(PollDots(), "snapshot");
  EXPECT_EQ(PollDots(), "nothing");  // until OnSnapshotSent
  core_->OnSnapshotSent("p", {{"a", 5}});
  EXPECT_EQ(core_->stats("p")->full_resyncs_sent, 1u);
  EXPECT_EQ(PollDots(), "nothing");
  Add("a", 6);
  EXPECT_EQ(PollDots(), "a6");
  Add("a", 7);
  EXPECT_EQ(PollDots(), "nothing");  // the snapshot and a6 fill the window
  core_->OnAck("p", {{"a", 5}}, 10);
  EXPECT_EQ(PollDots(), "a7");
}

TEST_F(SyncerCoreTest, SnapshotThatMissesTrimmedOpsIsFollowedByAnother) {
  Init(3, {});
  for (uint64_t s = 1; s <= 5; ++s) Add("a", s);
  core_->OnPullStart("p", {});
  EXPECT_EQ(PollDots(), "snapshot");
  core_->OnSnapshotSent("p", {{"a", 1}});  // older than the log's floor (a:2)
  EXPECT_EQ(PollDots(), "snapshot");
  core_->OnSnapshotSent("p", {{"a", 4}});
  EXPECT_EQ(PollDots(), "a5");
  EXPECT_EQ(core_->stats("p")->full_resyncs_sent, 2u);
}

TEST_F(SyncerCoreTest, ResyncPassesThatSendNothingNewTakeNoWindowSlot) {
  // A peer that has everything but is behind the log's floor on paper (its cursor): resync
  // passes that find nothing to send prompt no ack. They must not fill the window.
  Init(3, Opts(/*max_ops=*/8, /*window=*/2));
  for (uint64_t s = 1; s <= 5; ++s) Add("a", s);
  core_->OnPullStart("p", {{"a", 5}});
  for (int pass = 0; pass < 5; ++pass) {
    core_->OnSnapshotSent("p", {{"a", 5}});  // what it acked already
  }
  EXPECT_EQ(core_->stats("p")->full_resyncs_sent, 5u);
  Add("a", 6);
  EXPECT_EQ(PollDots(), "a6");  // the window is free
  Add("a", 7);
  EXPECT_EQ(PollDots(), "a7");
}

TEST_F(SyncerCoreTest, SnapshotSentAfterTheStreamEndedIsIgnored) {
  Init(2, {});
  for (uint64_t s = 1; s <= 3; ++s) Add("a", s);
  core_->OnPullStart("p", {});
  EXPECT_EQ(PollDots(), "snapshot");
  core_->OnDisconnect("p");
  core_->OnSnapshotSent("p", {{"a", 3}});
  EXPECT_EQ(core_->stats("p")->full_resyncs_sent, 0u);
  core_->OnPullStart("p", {});
  EXPECT_EQ(PollDots(), "snapshot");
}

TEST_F(SyncerCoreTest, TrimUnderTheCursorOfOpsThePeerLacksNeedsASnapshot) {
  Init(4, Opts(/*max_ops=*/1, /*window=*/1));
  for (uint64_t s = 1; s <= 4; ++s) Add("a", s);
  core_->OnPullStart("p", {});
  EXPECT_EQ(PollDots(), "a1");
  for (uint64_t s = 5; s <= 8; ++s) Add("a", s);  // a1..a4 trimmed
  EXPECT_EQ(log_->begin(), 4u);
  core_->OnAck("p", {{"a", 1}}, 10);
  EXPECT_EQ(PollDots(), "snapshot");
}

TEST_F(SyncerCoreTest, TrimUnderTheCursorOfOpsThePeerHasIsHarmless) {
  Init(4, Opts(/*max_ops=*/1, /*window=*/1));
  for (uint64_t s = 1; s <= 4; ++s) Add("a", s);
  core_->OnPullStart("p", {});
  EXPECT_EQ(PollDots(), "a1");
  for (uint64_t s = 5; s <= 8; ++s) Add("a", s);
  core_->OnAck("p", {{"a", 4}}, 10);  // it got a2..a4 from another region
  EXPECT_EQ(PollDots(), "a5");
}

TEST_F(SyncerCoreTest, HoleLeftByASnapshotHereIsNeverSentAcross) {
  Add("a", 1);
  core_->OnPullStart("p", {});
  EXPECT_EQ(PollDots(), "a1");
  // This region installed a snapshot holding b1..b3, then applied b4.
  log_->MarkUnavailable({{"a", 1}, {"b", 3}});
  Add("b", 4);
  EXPECT_EQ(PollDots(), "snapshot");  // sending b4 would leave the peer a gap
  core_->OnSnapshotSent("p", {{"a", 1}, {"b", 3}});
  EXPECT_EQ(PollDots(), "b4");
}

TEST_F(SyncerCoreTest, PeerLackingOpsThatArrivedHereInASnapshotGetsOne) {
  Add("a", 1);
  core_->OnPullStart("p", {});
  EXPECT_EQ(PollDots(), "a1");
  log_->MarkUnavailable({{"b", 3}});  // no later op of b needs to come along
  EXPECT_EQ(PollDots(), "snapshot");
}

TEST_F(SyncerCoreTest, LagCountsOpsAndAgeNotAcked) {
  Add("a", 1, 0, /*hlc_ms=*/1'000);
  Add("b", 1, 0, 1'500);
  Add("a", 2, 0, 2'000);
  const NamedVV local{{"a", 2}, {"b", 1}};
  EXPECT_EQ(core_->LagOps("p", local), 3u);  // never heard of
  EXPECT_EQ(core_->LagMs("p", 5'000), 4'000u);
  core_->OnPullStart("p", {{"a", 1}});  // what it announces counts as acked
  EXPECT_EQ(core_->LagOps("p", local), 2u);
  EXPECT_EQ(core_->LagMs("p", 5'000), 3'500u);
  EXPECT_EQ(core_->stats("p")->last_ack_unix_ms, 0);
  core_->OnAck("p", {{"a", 1}, {"b", 1}}, 4'000);
  EXPECT_EQ(core_->LagOps("p", local), 1u);
  EXPECT_EQ(core_->LagMs("p", 5'000), 3'000u);
  EXPECT_EQ(core_->LagMs("p", 1'000), 0u);  // never negative
  EXPECT_EQ(core_->stats("p")->last_ack_unix_ms, 4'000);
  core_->OnAck("p", local, 4'500);
  EXPECT_EQ(core_->LagOps("p", local), 0u);
  EXPECT_EQ(core_->LagMs("p", 5'000), 0u);
  // Acked ops stay acked across reconnects.
  core_->OnDisconnect("p");
  EXPECT_EQ(core_->LagOps("p", local), 0u);
  EXPECT_EQ(core_->stats("p")->acked, local);
}

TEST_F(SyncerCoreTest, LagMsLooksPastAckedOpsToTheOldestUnacked) {
  Add("a", 1, 0, 1'000);
  Add("b", 1, 0, 2'000);
  Add("a", 2, 0, 3'000);
  core_->OnAck("p", {{"b", 1}}, 10);  // a1 still unacked: the oldest
  EXPECT_EQ(core_->LagMs("p", 10'000), 9'000u);
  core_->OnAck("p", {{"a", 1}, {"b", 1}}, 11);
  EXPECT_EQ(core_->LagMs("p", 10'000), 7'000u);
}

}  // namespace
}  // namespace activekv::syncer
