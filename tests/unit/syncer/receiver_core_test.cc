// ReceiverCore, scripted: each test is a short scenario (what arrives when, what the core says),
// one rule of docs/replication-protocol.md each. The seeded simulations (sim_test.cc) drive the
// same core under random faults.
#include "syncer/receiver_core.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace activekv::syncer {
namespace {

// A region as the core sees it, every fact set by the test.
class FakeHost final : public ReceiverHost {
 public:
  explicit FakeHost(const std::string& name) : ks_(name, {"a", "b", "c"}) {}
  crdt::Keyspace& keyspace() override { return ks_; }
  absl::StatusOr<uint64_t> ApplyRemote(std::string_view batch, size_t* ops) override {
    *ops = 1;
    if (batch == "bad") return absl::DataLossError("malformed op");
    batches.emplace_back(batch);
    return ++next_lsn;
  }
  absl::StatusOr<uint64_t> ApplySnapshot(const std::vector<v1::Snapshot>& chunks) override {
    snapshots.push_back(chunks.size());
    return ++next_lsn;
  }
  uint64_t durable_lsn() override { return durable; }
  const NamedVV& durable_applied() override { return applied; }
  const NamedVV& synced_applied() override { return synced; }
  bool joining() const override { return join_pending; }
  absl::Status FinishJoin(uint64_t incarnation) override {
    joined_as.push_back(incarnation);
    join_pending = false;
    return absl::OkStatus();
  }
  bool catching_up() const override { return catch_up_pending; }
  absl::Status FinishCatchUp() override {
    catch_up_pending = false;
    return absl::OkStatus();
  }

  crdt::Keyspace ks_;
  uint64_t next_lsn = 0;
  uint64_t durable = 0;
  NamedVV applied;
  NamedVV synced;
  bool join_pending = false;
  bool catch_up_pending = false;
  std::vector<uint64_t> joined_as;
  std::vector<std::string> batches;
  std::vector<size_t> snapshots;
};

ReceiverCore::Options Opts() {
  ReceiverCore::Options o;
  o.database = "db";
  o.region = "a";
  o.peers = {"b", "c"};
  return o;  // heartbeat 250, backoff 50..2000, hold 500, refresh 50
}

v1::PullResponse First(const std::string& origin, const NamedVV& applied = {}) {
  v1::PullResponse r;
  r.set_sender_origin(origin);
  ToEntries(applied, r.mutable_sender_applied());
  r.mutable_heartbeat()->set_unix_ms(1);
  return r;
}

v1::PullResponse Batch(const std::string& bytes) {
  v1::PullResponse r;
  r.set_ops(bytes);
  return r;
}

std::vector<std::string> Direct(const v1::PullRequest& r) {
  return {r.direct().origins().begin(), r.direct().origins().end()};
}

struct Fixture {
  FakeHost host{"a"};
  ReceiverCore core{Opts(), &host};
  v1::PullRequest msg;

  void Open(const std::string& peer, int64_t now) {
    ASSERT_TRUE(core.Connect(peer, now, &msg)) << peer;
  }
  void Answer(const std::string& peer, v1::PullResponse r, int64_t now) {
    ASSERT_TRUE(core.Receive(peer, &r, now).ok());
  }
};

TEST(ReceiverCore, HelloAnnouncesDurableStateAndHolds) {
  Fixture f;
  f.host.applied = {{"a", 3}, {"b", 2}};
  f.host.synced = {{"a", 1}};
  f.Open("b", 1000);
  EXPECT_EQ(f.msg.database(), "db");
  EXPECT_EQ(f.msg.region(), "a");
  EXPECT_EQ(FromEntries(f.msg.applied()), f.host.applied);
  EXPECT_EQ(FromEntries(f.msg.synced()), f.host.synced);
  EXPECT_TRUE(f.msg.hold());
  EXPECT_EQ(Direct(f.msg), std::vector<std::string>{"a"});  // only our own origin so far
  v1::PullRequest again;
  EXPECT_FALSE(f.core.Connect("b", 1000, &again)) << "one stream per peer at a time";
  EXPECT_FALSE(f.core.Connect("x", 1000, &again)) << "not a peer";
}

TEST(ReceiverCore, FirstAckWaitsForEveryLinkToAnswerOrTheHold) {
  Fixture f;
  f.Open("b", 1000);
  f.Open("c", 1000);
  EXPECT_FALSE(f.core.AckMayBeDue("b"));
  EXPECT_FALSE(f.core.TakeAck("b", 1000, &f.msg)) << "b has not answered";
  f.Answer("b", First("b"), 1010);
  EXPECT_TRUE(f.core.AckMayBeDue("b"));
  EXPECT_FALSE(f.core.TakeAck("b", 1010, &f.msg)) << "c is still connecting";
  EXPECT_STREQ(f.core.stats("b")->ack_state, "holding-first-ack");
  // c answers: b's first ack names c's origin as direct.
  f.Answer("c", First("c"), 1020);
  ASSERT_TRUE(f.core.TakeAck("b", 1020, &f.msg));
  EXPECT_EQ(Direct(f.msg), (std::vector<std::string>{"a", "c"}));
  ASSERT_TRUE(f.core.TakeAck("c", 1020, &f.msg));
  EXPECT_EQ(Direct(f.msg), (std::vector<std::string>{"a", "b"}));

  // A link that never answers holds the others' first acks for hold_ms at most.
  Fixture g;
  g.Open("b", 1000);
  g.Open("c", 1000);
  g.Answer("b", First("b"), 1001);
  EXPECT_FALSE(g.core.TakeAck("b", 1499, &g.msg));
  EXPECT_TRUE(g.core.TakeAck("b", 1500, &g.msg));
  // A link whose attempt failed has answered (it has no stream).
  Fixture h;
  h.Open("b", 1000);
  h.Open("c", 1000);
  h.core.StreamDone("c", "connection refused", 1002);
  h.Answer("b", First("b"), 1003);
  EXPECT_TRUE(h.core.TakeAck("b", 1003, &h.msg));
}

TEST(ReceiverCore, BatchAckWaitsUntilTheAofCoversIt) {
  Fixture f;  // c is not connected: b's first ack waits for nobody
  f.Open("b", 1000);
  f.Answer("b", First("b"), 1000);
  ASSERT_TRUE(f.core.TakeAck("b", 1000, &f.msg));  // the first ack: the peer may send
  f.Answer("b", Batch("ops1"), 1001);              // applied under LSN 1
  EXPECT_FALSE(f.core.TakeAck("b", 1001, &f.msg));
  EXPECT_STREQ(f.core.stats("b")->ack_state, "waiting-durable");
  f.host.durable = 1;
  f.host.applied = {{"b", 1}};
  ASSERT_TRUE(f.core.TakeAck("b", 1001, &f.msg));
  EXPECT_EQ(FromEntries(f.msg.applied()), f.host.applied);
  EXPECT_FALSE(f.core.TakeAck("b", 1001, &f.msg)) << "nothing new";
  // Ops of other origins moved our version vector: a refresh ack, paced.
  f.host.applied = {{"b", 1}, {"c", 5}};
  EXPECT_FALSE(f.core.TakeAck("b", 1020, &f.msg));
  EXPECT_TRUE(f.core.TakeAck("b", 1051, &f.msg));
  // A bad batch breaks the stream, with the reason in the stats.
  v1::PullResponse bad = Batch("bad");
  EXPECT_FALSE(f.core.Receive("b", &bad, 1060).ok());
  EXPECT_EQ(f.core.stats("b")->last_error, "malformed op");
}

TEST(ReceiverCore, SyncedMovesAreAckedAtOnce) {
  Fixture f;
  f.Open("b", 1000);
  f.Answer("b", First("b"), 1000);
  ASSERT_TRUE(f.core.TakeAck("b", 1000, &f.msg));
  EXPECT_EQ(f.msg.synced_size(), 0);  // unchanged since the hello
  f.host.synced = {{"a", 4}};
  ASSERT_TRUE(f.core.TakeAck("b", 1001, &f.msg));
  EXPECT_EQ(FromEntries(f.msg.synced()), f.host.synced);
}

TEST(ReceiverCore, DirectOriginsLastThreeHeartbeats) {
  Fixture f;
  f.Open("b", 1000);
  f.Open("c", 1000);
  f.Answer("b", First("b~2"), 1000);
  f.Answer("c", First("c"), 1000);
  EXPECT_EQ(f.core.DirectOrigin("b", 1750), "b~2") << "its current origin";
  EXPECT_EQ(f.core.DirectOrigin("b", 1751), "") << "not heard from for 3 heartbeats";
  ASSERT_TRUE(f.core.TakeAck("c", 1000, &f.msg));
  EXPECT_EQ(Direct(f.msg), (std::vector<std::string>{"a", "b~2"}));
  // b goes quiet (a stalled stream): c's next ack drops b's origin, so c relays it again.
  ASSERT_TRUE(f.core.TakeAck("c", 1800, &f.msg));
  EXPECT_EQ(Direct(f.msg), std::vector<std::string>{"a"});
  // A heartbeat makes it direct again.
  v1::PullResponse hb;
  hb.mutable_heartbeat()->set_unix_ms(2);
  ASSERT_TRUE(f.core.Receive("b", &hb, 1900).ok());
  ASSERT_TRUE(f.core.TakeAck("c", 1900, &f.msg));
  EXPECT_EQ(Direct(f.msg), (std::vector<std::string>{"a", "b~2"}));
  // Its stream ends: not direct, whatever the time.
  f.core.StreamDone("b", "", 1901);
  EXPECT_EQ(f.core.DirectOrigin("b", 1901), "");
}

TEST(ReceiverCore, BackoffDoublesAndAResponseOrThePeerResetsIt) {
  Fixture f;
  f.Open("b", 1000);
  f.core.StreamDone("b", "unavailable", 1000);
  EXPECT_EQ(f.core.stats("b")->last_error, "unavailable");
  EXPECT_FALSE(f.core.Connect("b", 1049, &f.msg));
  f.Open("b", 1050);
  f.core.StreamDone("b", "unavailable", 1050);
  EXPECT_FALSE(f.core.Connect("b", 1149, &f.msg)) << "100 ms the second time";
  f.Open("b", 1150);
  f.core.StreamDone("b", "", 1150);
  EXPECT_FALSE(f.core.Connect("b", 1349, &f.msg)) << "200 ms the third";
  f.core.ResetBackoff("b");  // the peer pulled from us: it is up
  f.Open("b", 1151);
  f.Answer("b", First("b"), 1152);  // a response resets the backoff too
  f.core.StreamDone("b", "", 1200);
  EXPECT_EQ(f.core.stats("b")->reconnects, 1u);
  EXPECT_FALSE(f.core.Connect("b", 1249, &f.msg));
  EXPECT_TRUE(f.core.Connect("b", 1250, &f.msg));
}

TEST(ReceiverCore, SnapshotChunksAreMergedWholeAtTheLast) {
  Fixture f;
  f.Open("b", 1000);
  f.Answer("b", First("b"), 1000);
  auto chunk = [](bool first, bool last) {
    v1::PullResponse r;
    r.mutable_snapshot()->set_first(first);
    r.mutable_snapshot()->set_last(last);
    return r;
  };
  f.Answer("b", chunk(true, false), 1001);
  f.Answer("b", chunk(false, false), 1002);
  EXPECT_TRUE(f.host.snapshots.empty());
  f.Answer("b", chunk(false, true), 1003);
  EXPECT_EQ(f.host.snapshots, std::vector<size_t>{3});
  EXPECT_EQ(f.core.stats("b")->full_resyncs_received, 1u);
  // A new stream starts from nothing: a chunk without its first breaks it.
  f.Answer("b", chunk(true, false), 1004);
  f.core.StreamDone("b", "", 1005);
  f.core.ResetBackoff("b");
  f.Open("b", 1006);
  v1::PullResponse orphan = chunk(false, true);
  EXPECT_FALSE(f.core.Receive("b", &orphan, 1007).ok());
  EXPECT_EQ(f.host.snapshots.size(), 1u);
}

// After an unclean restart (origin a~1), nothing is announced as synced until every peer's first
// response showed we hold each op of our dead incarnations it holds; the keyspace's stability
// is held until then.
TEST(ReceiverCore, ANewIncarnationAnnouncesSyncedOnlyOnceItHoldsWhatPeersHeldOfItsPast) {
  Fixture f;
  ASSERT_TRUE(f.host.ks_.ResetLocal("a~1"));
  f.host.ks_.HoldStability(true);
  f.host.synced = {{"a", 3}};
  f.Open("b", 1000);
  EXPECT_EQ(f.msg.synced_size(), 0) << "gated: peers have not answered";
  f.Open("c", 1000);
  f.Answer("b", First("b", {{"a", 3}}), 1001);
  EXPECT_EQ(f.core.SyncedToAnnounce(), nullptr) << "c has not answered";
  f.Answer("c", First("c", {{"a", 5}}), 1002);  // c holds a:1..a:5, which we lost
  EXPECT_EQ(f.core.SyncedToAnnounce(), nullptr) << "we lack them";
  ASSERT_TRUE(f.core.TakeAck("b", 1002, &f.msg));
  EXPECT_EQ(f.msg.synced_size(), 0);
  // c sends them back: the gate lifts, for good.
  v1::Op op;
  for (uint64_t seq = 1; seq <= 5; ++seq) {
    op.Clear();
    op.set_origin("a");
    op.set_seq(seq);
    op.set_hlc(crdt::HlcFromMs(100 + static_cast<int64_t>(seq)));
    op.set_key("k");
    op.mutable_set()->set_value("v");
    ASSERT_TRUE(f.host.ks_.Apply(op).ok());
  }
  ASSERT_NE(f.core.SyncedToAnnounce(), nullptr);
  EXPECT_EQ(*f.core.SyncedToAnnounce(), f.host.synced);
  ASSERT_TRUE(f.core.TakeAck("b", 1003, &f.msg));
  EXPECT_EQ(FromEntries(f.msg.synced()), f.host.synced) << "synced moved: acked at once";
}

TEST(ReceiverCore, AJoiningRegionTakesTheIncarnationAfterEveryOneItsPeersHold) {
  Fixture f;
  f.host.join_pending = true;
  f.Open("b", 1000);
  EXPECT_EQ(f.msg.synced_size(), 0) << "a joining region announces nothing as synced";
  f.Open("c", 1000);
  f.Answer("b", First("b", {{"a", 9}, {"a~2", 4}, {"b", 7}}), 1001);
  EXPECT_TRUE(f.host.joined_as.empty()) << "c has not answered";
  f.Answer("c", First("c", {{"a~1", 3}}), 1002);
  EXPECT_EQ(f.host.joined_as, std::vector<uint64_t>{3});
  // Nobody held any op of ours: incarnation 0 (the plain name). JoinNow goes above a floor.
  Fixture g;
  g.host.join_pending = true;
  g.Open("b", 1000);
  g.Answer("b", First("b", {{"b", 7}}), 1001);
  g.core.JoinNow(1700000000);
  EXPECT_EQ(g.host.joined_as, std::vector<uint64_t>{1700000000});
}

// A peer holding ops of the last possible incarnation leaves none above it: the region stays
// joining (refusing writes) instead of wrapping to 0 and reusing the plain name's dots.
TEST(ReceiverCore, AJoiningRegionNeverWrapsItsIncarnation) {
  Fixture f;
  f.host.join_pending = true;
  f.Open("b", 1000);
  f.Answer("b", First("b", {{"a", 9}, {"a~18446744073709551615", 1}}), 1001);
  EXPECT_TRUE(f.host.joined_as.empty());
  f.core.JoinNow(1700000000);
  EXPECT_TRUE(f.host.joined_as.empty());
}

TEST(ReceiverCore, CatchUpEndsOnceEveryPeersFirstResponseIsHeld) {
  Fixture f;
  f.host.catch_up_pending = true;
  f.Open("b", 1000);
  f.Open("c", 1000);
  f.Answer("b", First("b", {{"b", 1}}), 1001);
  EXPECT_TRUE(f.host.catch_up_pending) << "c has not answered";
  f.core.CatchUpNow();
  EXPECT_TRUE(f.host.catch_up_pending) << "and we lack b:1";
  v1::Op op;
  op.set_origin("b");
  op.set_seq(1);
  op.set_hlc(crdt::HlcFromMs(100));
  op.set_key("k");
  op.mutable_set()->set_value("v");
  ASSERT_TRUE(f.host.ks_.Apply(op).ok());
  f.core.CatchUpNow();  // c is down (never answered): skipped
  EXPECT_FALSE(f.host.catch_up_pending);
}

}  // namespace
}  // namespace activekv::syncer
