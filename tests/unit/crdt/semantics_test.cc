// Conflict rules of docs/crdt-semantics.md, one named scenario each.
#include <string>
#include <vector>

#include "crdt/redis_number.h"
#include "crdt/region_table.h"
#include "gtest/gtest.h"
#include "replica_sim.h"

namespace activekv::crdt {
namespace {

using testing::Replica;
using testing::ToEntries;

class Pair : public ::testing::Test {
 protected:
  std::vector<std::string> names_{"a", "b"};
  Replica a_{"a", names_};
  Replica b_{"b", names_};
  void Exchange(const std::vector<v1::Op>& from_a, const std::vector<v1::Op>& from_b) {
    for (const auto& op : from_b) ASSERT_TRUE(a_.Receive(op));
    for (const auto& op : from_a) ASSERT_TRUE(b_.Receive(op));
  }
};

TEST(SingleRegion, SetGetDel) {
  Replica r("solo", {"solo"});
  r.Set("k", "v");
  EXPECT_EQ(r.Get("k"), "v");
  EXPECT_EQ(r.ks().key_count(), 1u);
  r.Del("k");
  EXPECT_EQ(r.Get("k"), "(nil)");
  EXPECT_EQ(r.ks().key_count(), 0u);
  EXPECT_TRUE(r.ks().entries().empty()) << "a deleted key leaves nothing behind in one region";
}

TEST(SingleRegion, IncrementsFoldIntoTheStoredText) {
  Replica r("solo", {"solo"});
  r.Set("k", "10");
  r.Incr("k", 5);
  EXPECT_EQ(r.Get("k"), "15");
  r.IncrFloat("k", "0.1");
  EXPECT_EQ(r.Get("k"), "15.1");
  r.IncrFloat("k", "-0.1");
  EXPECT_EQ(r.Get("k"), "15");
  r.Incr("k", 1);
  EXPECT_EQ(r.Get("k"), "16");
}

TEST(SingleRegion, FloatStepsRoundLikeRedis) {
  // redis-server stores the text after each INCRBYFLOAT and re-parses it on the next one.
  Replica r("solo", {"solo"});
  r.Set("k", "0");
  long double expected = 0;
  for (int i = 0; i < 50; ++i) {
    r.IncrFloat("k", "0.1");
    long double v;
    ASSERT_TRUE(ParseRedisLongDouble(FormatLongDoubleHuman(expected + 0.1L), &v));
    expected = v;
  }
  EXPECT_EQ(r.Get("k"), FormatLongDoubleHuman(expected));
}

TEST(SingleRegion, DuplicateIgnoredGapRefused) {
  Replica src("a", {"a", "b"});
  Replica dst("b", {"a", "b"});
  v1::Op op1 = src.Set("k", "1");
  v1::Op op2 = src.Set("k", "2");
  EXPECT_FALSE(dst.Receive(op2)) << "seq 2 before seq 1 must be refused";
  EXPECT_TRUE(dst.Receive(op1));
  auto dup = dst.ks().Apply(op1);
  ASSERT_TRUE(dup.ok());
  EXPECT_EQ(*dup, Keyspace::Outcome::kDuplicate);
  EXPECT_TRUE(dst.Receive(op2));
  EXPECT_EQ(dst.Get("k"), "2");
}

// Every region name a peer sends is interned for good; ids must never wrap (they once were 16
// bits: the 65,537th name took the first one's id).
TEST(RegionNames, IdsNeverWrap) {
  RegionTable table;
  constexpr int kNames = 70000;
  for (int i = 0; i < kNames; ++i) {
    const std::string name = "x" + std::to_string(i);
    ASSERT_EQ(table.Name(table.Intern(name)), name);
  }
  for (int i = 0; i < kNames; i += 997) {
    const std::string name = "x" + std::to_string(i);
    RegionId id = 0;
    ASSERT_TRUE(table.Find(name, &id));
    EXPECT_EQ(table.Name(id), name);
  }
  EXPECT_EQ(table.size(), static_cast<size_t>(kNames));
}

TEST_F(Pair, ConcurrentIncrementsAllCount) {
  auto s = a_.Set("c", "7");
  ASSERT_TRUE(b_.Receive(s));
  auto i1 = a_.Incr("c", 3);
  auto i2 = b_.Incr("c", 2);
  Exchange({i1}, {i2});
  EXPECT_EQ(a_.Get("c"), "12");
  EXPECT_EQ(b_.Get("c"), "12");
  EXPECT_EQ(a_.ks().Digest(), b_.ks().Digest());
}

TEST_F(Pair, SetConcurrentWithIncrementSetsNewBase) {
  auto s = a_.Set("c", "7");
  ASSERT_TRUE(b_.Receive(s));
  auto seen = b_.Incr("c", 1);  // observed by the SET below
  ASSERT_TRUE(a_.Receive(seen));
  auto set = a_.Set("c", "100");
  auto unseen = b_.Incr("c", 5);  // concurrent with the SET
  Exchange({set}, {unseen});
  EXPECT_EQ(a_.Get("c"), "105");
  EXPECT_EQ(b_.Get("c"), "105");
}

TEST_F(Pair, LastWriterWinsByHlcThenRegionName) {
  a_.wall_ms = 2000;
  b_.wall_ms = 1000;
  auto wa = a_.Set("k", "from-a");
  auto wb = b_.Set("k", "from-b");
  Exchange({wa}, {wb});
  EXPECT_EQ(a_.Get("k"), "from-a");
  EXPECT_EQ(b_.Get("k"), "from-a");
  // Equal timestamps: the larger region name wins.
  a_.wall_ms = b_.wall_ms = 10'000'000;
  auto ta = a_.Set("t", "from-a");
  auto tb = b_.Set("t", "from-b");
  ASSERT_EQ(ta.hlc(), tb.hlc());
  Exchange({ta}, {tb});
  EXPECT_EQ(a_.Get("t"), "from-b");
  EXPECT_EQ(b_.Get("t"), "from-b");
}

TEST_F(Pair, FastClockWinsOnlyUntilObserved) {
  a_.wall_ms = 1'000'000 + 10'000;  // a runs 10 s fast
  auto wa = a_.Set("k", "fast");
  ASSERT_TRUE(b_.Receive(wa));
  auto wb = b_.Set("k", "later");  // b saw a's write: its clock moved past it
  ASSERT_TRUE(a_.Receive(wb));
  EXPECT_EQ(a_.Get("k"), "later");
  EXPECT_EQ(b_.Get("k"), "later");
}

TEST_F(Pair, DeleteKeepsConcurrentWrite) {
  auto s = a_.Set("k", "old");
  ASSERT_TRUE(b_.Receive(s));
  b_.wall_ms = 1;  // even with an older timestamp, the unobserved write survives
  auto del = a_.Del("k");
  auto set = b_.Set("k", "new");
  Exchange({del}, {set});
  EXPECT_EQ(a_.Get("k"), "new");
  EXPECT_EQ(b_.Get("k"), "new");
}

TEST_F(Pair, DeleteKeepsConcurrentIncrementsOnly) {
  auto s = a_.Set("c", "50");
  ASSERT_TRUE(b_.Receive(s));
  auto del = a_.Del("c");
  auto inc = b_.Incr("c", 4);
  Exchange({del}, {inc});
  EXPECT_EQ(a_.Get("c"), "4");
  EXPECT_EQ(b_.Get("c"), "4");
}

TEST_F(Pair, DeleteArrivingBeforeWhatItObservedStillRemovesIt) {
  // c sees a's write, deletes it; b gets the delete before a's write (non-causal delivery).
  Replica c("c", {"a", "b", "c"});
  Replica a("a", {"a", "b", "c"});
  Replica b("b", {"a", "b", "c"});
  auto w = a.Set("k", "v");
  ASSERT_TRUE(c.Receive(w));
  auto d = c.Del("k");
  ASSERT_TRUE(b.Receive(d));
  ASSERT_TRUE(b.Receive(w));
  EXPECT_EQ(b.Get("k"), "(nil)");
  EXPECT_EQ(b.ks().key_count(), 0u);
  EXPECT_TRUE(b.ks().entries().empty()) << "removal knowledge is pruned once applied";
}

TEST_F(Pair, LongerTtlWinsAndPersistBeatsExpire) {
  auto s = a_.Set("k", "v");
  ASSERT_TRUE(b_.Receive(s));
  auto e1 = a_.Expire("k", 5'000'000);
  auto e2 = b_.Expire("k", 9'000'000);
  Exchange({e1}, {e2});
  EXPECT_EQ(a_.Deadline("k"), 9'000'000);
  EXPECT_EQ(b_.Deadline("k"), 9'000'000);
  auto p = a_.Persist("k");
  auto e3 = b_.Expire("k", 12'000'000);
  Exchange({p}, {e3});
  EXPECT_EQ(a_.Deadline("k"), kNoDeadline);
  EXPECT_EQ(b_.Deadline("k"), kNoDeadline);
}

TEST_F(Pair, FlushAllRemovesOnlyWhatItObserved) {
  auto s1 = a_.Set("x", "1");
  ASSERT_TRUE(b_.Receive(s1));
  auto f = a_.Flush();
  auto s2 = b_.Set("y", "2");
  Exchange({f}, {s2});
  EXPECT_EQ(a_.Get("x"), "(nil)");
  EXPECT_EQ(b_.Get("x"), "(nil)");
  EXPECT_EQ(a_.Get("y"), "2");
  EXPECT_EQ(b_.Get("y"), "2");
}

TEST_F(Pair, NonNumericValueWinsOverConcurrentIncrements) {
  auto s = a_.Set("k", "5");
  ASSERT_TRUE(b_.Receive(s));
  auto w = a_.Set("k", "abc");
  auto i = b_.Incr("k", 1);
  Exchange({w}, {i});
  EXPECT_EQ(a_.Get("k"), "abc");
  EXPECT_EQ(b_.Get("k"), "abc");
}

TEST_F(Pair, IncrementsFoldOnceStable) {
  auto i1 = a_.Incr("c", 1);
  auto i2 = b_.Incr("c", 2);
  Exchange({i1}, {i2});
  EXPECT_EQ(a_.Get("c"), "3");
  // Acks: each learns what the other applied; everything becomes stable and folds.
  a_.ks().ObservePeerApplied("b", ToEntries(b_.ks()));
  b_.ks().ObservePeerApplied("a", ToEntries(a_.ks()));
  EXPECT_EQ(a_.Get("c"), "3");
  EXPECT_EQ(a_.ks().Digest(), b_.ks().Digest());
}

// A peer's op whose context covers an increment proves the peer had applied it, not that it
// fsynced it: a power loss could still take it away. Only acks (of fsynced state) make it stable.
TEST_F(Pair, AnOpsContextDoesNotMakeWhatItObservedStable) {
  auto i = a_.Incr("c", 1);
  ASSERT_TRUE(b_.Receive(i));
  auto w = b_.Set("other", "x");  // its context covers a's increment
  ASSERT_TRUE(a_.Receive(w));
  const Dot dot{a_.ks().local(), i.seq()};
  EXPECT_FALSE(a_.ks().stable().Covers(dot));
  a_.ks().ObservePeerApplied("b", ToEntries(b_.ks()));
  EXPECT_TRUE(a_.ks().stable().Covers(dot));
}

// An ack that names ops of the peer not applied here yet counts once they are, and a newer ack
// arriving meanwhile does not hold the older one back.
TEST_F(Pair, AnAckCountsOnceThePeersOpsItNamesAreApplied) {
  auto i = a_.Incr("c", 1);
  ASSERT_TRUE(b_.Receive(i));
  auto w1 = b_.Set("x", "1");
  a_.ks().ObservePeerApplied("b", ToEntries(b_.ks()));  // names b:1, not here yet
  auto w2 = b_.Set("x", "2");
  a_.ks().ObservePeerApplied("b", ToEntries(b_.ks()));  // names b:2
  const Dot dot{a_.ks().local(), i.seq()};
  EXPECT_FALSE(a_.ks().stable().Covers(dot));
  ASSERT_TRUE(a_.Receive(w1));
  EXPECT_TRUE(a_.ks().stable().Covers(dot));  // the first ack is usable now
  ASSERT_TRUE(a_.Receive(w2));
  RegionId b = 0;
  ASSERT_TRUE(a_.ks().regions().Find("b", &b));
  EXPECT_TRUE(a_.ks().stable().Covers(Dot{b, w2.seq()}));
}

}  // namespace
}  // namespace activekv::crdt
