// Units (Op.unit_continues): SyncerCore never cuts one, whatever the batch limits, durability,
// window or relaying (docs/replication-protocol.md, "Units").
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "syncer/syncer_core.h"
#include "test_ops.h"

namespace activekv::syncer {
namespace {

using Next = SyncerCore::Next;
using testing::MakeOp;

constexpr uint64_t kAllDurable = ~uint64_t{0};

struct Polled {
  Next next = Next::kNothing;
  v1::OpBatch batch;
  size_t bytes = 0;  // of the serialized batch
};

class UnitsTest : public ::testing::Test {
 protected:
  void Init(size_t log_max_ops, size_t max_ops, size_t max_bytes = 1 << 20, size_t window = 8) {
    SyncerCore::Options o;
    o.max_batch_ops = max_ops;
    o.max_batch_bytes = max_bytes;
    o.window = window;
    log_ = std::make_unique<ReplicationLog>(log_max_ops);
    core_ = std::make_unique<SyncerCore>(log_.get(), o);
  }
  void SetUp() override { Init(1'000'000, 512); }

  // A unit of `n` ops of `origin` from seq `first`, each under `lsn`, `value_bytes` per value.
  void AddUnit(const std::string& origin, uint64_t first, size_t n, uint64_t lsn = 0,
               size_t value_bytes = 1) {
    for (size_t i = 0; i < n; ++i) {
      v1::Op op = MakeOp(origin, first + i, 1'000, value_bytes);
      op.set_unit_continues(i + 1 < n);
      log_->Append(op, lsn);
    }
  }
  Polled Poll(uint64_t durable = kAllDurable) {
    Polled p;
    std::string bytes;
    p.next = core_->Poll("p", durable, &bytes);
    if (p.next == Next::kBatch) {
      EXPECT_TRUE(p.batch.ParseFromString(bytes));
      p.bytes = bytes.size();
      ExpectWholeUnits(p.batch);
    }
    return p;
  }
  // Every unit in the batch is whole: it does not end inside one, and a unit's ops follow each
  // other (same origin, next seq). Units start where the previous batch left off (checked by
  // the callers through the dots).
  static void ExpectWholeUnits(const v1::OpBatch& batch) {
    ASSERT_GT(batch.ops_size(), 0);
    EXPECT_FALSE(batch.ops(batch.ops_size() - 1).unit_continues()) << "the batch ends in a unit";
    for (int i = 0; i + 1 < batch.ops_size(); ++i) {
      if (!batch.ops(i).unit_continues()) continue;
      EXPECT_EQ(batch.ops(i + 1).origin(), batch.ops(i).origin());
      EXPECT_EQ(batch.ops(i + 1).seq(), batch.ops(i).seq() + 1);
    }
  }
  static std::string Range(const v1::OpBatch& batch) {
    if (batch.ops_size() == 0) return "empty";
    const v1::Op& a = batch.ops(0);
    const v1::Op& b = batch.ops(batch.ops_size() - 1);
    return a.origin() + std::to_string(a.seq()) + ".." + b.origin() + std::to_string(b.seq());
  }

  std::unique_ptr<ReplicationLog> log_;
  std::unique_ptr<SyncerCore> core_;
};

TEST_F(UnitsTest, TheLogKeepsUnitContinues) {
  AddUnit("a", 1, 3);
  AddUnit("a", 4, 1);
  EXPECT_TRUE(log_->unit_continues(0));
  EXPECT_TRUE(log_->unit_continues(1));
  EXPECT_FALSE(log_->unit_continues(2));
  EXPECT_FALSE(log_->unit_continues(3));
}

TEST_F(UnitsTest, AUnitOfMoreOpsThanABatchTravelsAlone) {
  AddUnit("a", 1, 1);
  AddUnit("a", 2, 600);  // a 600-key MSET
  AddUnit("a", 602, 1);
  core_->OnPullStart("p", {});
  Polled p = Poll();
  ASSERT_EQ(p.next, Next::kBatch);
  EXPECT_EQ(Range(p.batch), "a1..a1");  // the unit does not fit behind a1: it waits
  p = Poll();
  ASSERT_EQ(p.next, Next::kBatch);
  EXPECT_EQ(p.batch.ops_size(), 600);
  EXPECT_EQ(Range(p.batch), "a2..a601");
  p = Poll();
  ASSERT_EQ(p.next, Next::kBatch);
  EXPECT_EQ(Range(p.batch), "a602..a602");
  EXPECT_EQ(core_->stats("p")->ops_sent, 602u);
  EXPECT_EQ(core_->stats("p")->batches_sent, 3u);
}

TEST_F(UnitsTest, AUnitOfMoreBytesThanABatchTravelsAlone) {
  AddUnit("a", 1, 2, 0, 100);
  AddUnit("a", 3, 3, 0, 512 * 1024);  // 1.5 MiB
  AddUnit("a", 6, 1, 0, 100);
  core_->OnPullStart("p", {});
  Polled p = Poll();
  EXPECT_EQ(Range(p.batch), "a1..a2");
  p = Poll();
  EXPECT_EQ(Range(p.batch), "a3..a5");
  EXPECT_GT(p.bytes, size_t{1} << 20);
  p = Poll();
  EXPECT_EQ(Range(p.batch), "a6..a6");
}

TEST_F(UnitsTest, BatchesEndOnlyBetweenUnits) {
  Init(1'000'000, 5, 1 << 20, 1'000);
  // Units of 1..7 ops, two origins interleaved as a relaying region logs them.
  uint64_t next[2] = {1, 1};
  const char* names[2] = {"a", "b"};
  uint64_t total = 0;
  for (size_t i = 0; i < 60; ++i) {
    const size_t o = (i * 7 + i / 3) % 2;
    const size_t n = 1 + (i * 5) % 7;
    AddUnit(names[o], next[o], n);
    next[o] += n;
    total += n;
  }
  core_->OnPullStart("p", {});
  uint64_t sent = 0;
  uint64_t last[2] = {0, 0};
  for (Polled p = Poll(); p.next == Next::kBatch; p = Poll()) {
    // A batch over the limit is one unit.
    if (p.batch.ops_size() > 5) {
      for (int i = 0; i + 1 < p.batch.ops_size(); ++i) EXPECT_TRUE(p.batch.ops(i).unit_continues());
    }
    for (const v1::Op& op : p.batch.ops()) {
      uint64_t& l = last[op.origin() == "a" ? 0 : 1];
      EXPECT_EQ(op.seq(), l + 1) << op.origin();
      l = op.seq();
    }
    sent += static_cast<uint64_t>(p.batch.ops_size());
  }
  EXPECT_EQ(sent, total);
  EXPECT_EQ(last[0], next[0] - 1);
  EXPECT_EQ(last[1], next[1] - 1);
}

TEST_F(UnitsTest, AUnitGoesOnlyOnceItsLastOpIsDurable) {
  AddUnit("a", 1, 1, /*lsn=*/1);
  // A unit AppendRecord wrote as one record per op: LSNs 2, 3, 4.
  for (uint64_t seq = 2; seq <= 4; ++seq) {
    v1::Op op = MakeOp("a", seq);
    op.set_unit_continues(seq < 4);
    log_->Append(op, seq);
  }
  core_->OnPullStart("p", {});
  EXPECT_EQ(Range(Poll(/*durable=*/3).batch), "a1..a1");
  EXPECT_EQ(Poll(3).next, Next::kNothing);
  EXPECT_EQ(Range(Poll(4).batch), "a2..a4");
}

TEST_F(UnitsTest, AUnitTheLogDoesNotHoldWholeWaits) {
  AddUnit("a", 1, 1);
  for (uint64_t seq = 2; seq <= 3; ++seq) {
    v1::Op op = MakeOp("a", seq);
    op.set_unit_continues(true);
    log_->Append(op, 0);
  }
  core_->OnPullStart("p", {});
  EXPECT_EQ(Range(Poll().batch), "a1..a1");
  EXPECT_EQ(Poll().next, Next::kNothing);
  log_->Append(MakeOp("a", 4), 0);
  EXPECT_EQ(Range(Poll().batch), "a2..a4");
}

TEST_F(UnitsTest, WindowAndAcksCountOversizedBatches) {
  Init(1'000'000, 4, 1 << 20, /*window=*/2);
  AddUnit("a", 1, 10);
  AddUnit("a", 11, 10);
  AddUnit("a", 21, 2);
  AddUnit("a", 23, 3);
  core_->OnPullStart("p", {});
  EXPECT_EQ(Range(Poll().batch), "a1..a10");
  EXPECT_EQ(Range(Poll().batch), "a11..a20");
  EXPECT_EQ(Poll().next, Next::kNothing);  // window full
  EXPECT_EQ(core_->LagOps("p", {{"a", 25}}), 25u);
  core_->OnAck("p", {{"a", 10}}, 5);
  EXPECT_EQ(core_->LagOps("p", {{"a", 25}}), 15u);
  EXPECT_EQ(Range(Poll().batch), "a21..a22");  // a23..a25 would make 5 > 4 ops
  EXPECT_EQ(Poll().next, Next::kNothing);
  core_->OnAck("p", {{"a", 22}}, 6);  // coalesced: covers both batches
  EXPECT_EQ(Range(Poll().batch), "a23..a25");
  core_->OnAck("p", {{"a", 25}}, 7);
  EXPECT_EQ(core_->LagOps("p", {{"a", 25}}), 0u);
  EXPECT_EQ(core_->stats("p")->batches_sent, 4u);
}

TEST_F(UnitsTest, AStreamThatBreaksResendsWholeUnits) {
  Init(1'000'000, 4);
  AddUnit("a", 1, 6);
  AddUnit("b", 1, 3);
  core_->OnPullStart("p", {});
  EXPECT_EQ(Range(Poll().batch), "a1..a6");
  core_->OnDisconnect("p");
  core_->OnPullStart("p", {{"b", 3}});  // it got b's unit from b, not a's
  EXPECT_EQ(Range(Poll().batch), "a1..a6");
  EXPECT_EQ(Poll().next, Next::kNothing);
}

TEST_F(UnitsTest, RelayedUnitsStayWholeWhenOtherOriginsAreSkipped) {
  Init(1'000'000, 3);
  AddUnit("a", 1, 2);
  AddUnit("b", 1, 4);
  AddUnit("a", 3, 3);
  AddUnit("b", 5, 1);
  AddUnit("a", 6, 1);
  core_->OnPullStart("p", {}, {"a"});
  EXPECT_EQ(Range(Poll().batch), "b1..b4");
  EXPECT_EQ(Range(Poll().batch), "b5..b5");
  core_->SetSkip("p", {"b"});
  EXPECT_EQ(Range(Poll().batch), "a1..a2");
  EXPECT_EQ(Range(Poll().batch), "a3..a5");
  EXPECT_EQ(Range(Poll().batch), "a6..a6");
}

TEST_F(UnitsTest, AUnitTrimmedHalfOutOfTheLogNeedsAResync) {
  Init(/*log_max_ops=*/6, 512);
  AddUnit("a", 1, 4);
  AddUnit("a", 5, 4);  // a1, a2 trimmed: the first unit is half gone
  core_->OnPullStart("p", {});
  EXPECT_EQ(Poll().next, Next::kSnapshot);
  core_->OnDisconnect("p");
  core_->OnPullStart("p", {{"a", 4}});
  EXPECT_EQ(Range(Poll().batch), "a5..a8");
}

}  // namespace
}  // namespace activekv::syncer
