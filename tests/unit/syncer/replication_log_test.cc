// ReplicationLog (which index a peer starts from, trimming, snapshot holes) and the NamedVV
// helpers.
#include <optional>
#include <string>

#include "crdt/keyspace.h"
#include "crdt/op_builder.h"
#include "gtest/gtest.h"
#include "syncer/syncer_core.h"
#include "test_ops.h"

namespace activekv::syncer {
namespace {

using testing::MakeOp;

TEST(ReplicationLog, EmptyLogStartsAtEnd) {
  ReplicationLog log(10);
  EXPECT_EQ(log.begin(), 0u);
  EXPECT_EQ(log.end(), 0u);
  EXPECT_EQ(log.StartFor({}), std::optional<uint64_t>(0));
  EXPECT_EQ(log.StartFor({{"a", 7}}), std::optional<uint64_t>(0));
}

TEST(ReplicationLog, AccessorsReturnOpsAndLsns) {
  ReplicationLog log(10);
  log.Append(MakeOp("a", 1), 0);
  log.Append(MakeOp("b", 1), 5);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log.origin(1), "b");
  EXPECT_EQ(log.seq(1), 1u);
  v1::Op op;
  ASSERT_TRUE(op.ParseFromString(std::string(log.bytes(1))));
  EXPECT_EQ(op.origin(), "b");
  EXPECT_EQ(log.lsn(0), 0u);
  EXPECT_EQ(log.lsn(1), 5u);
}

TEST(ReplicationLog, PeerAheadOfTheLogContributesNothing) {
  ReplicationLog log(10);
  for (uint64_t s = 1; s <= 3; ++s) log.Append(MakeOp("a", s), s);
  EXPECT_EQ(log.StartFor({{"a", 3}}), log.end());
  EXPECT_EQ(log.StartFor({{"a", 9}, {"z", 4}}), log.end());
}

TEST(ReplicationLog, PeerBehindStartsAtItsFirstMissingOp) {
  ReplicationLog log(10);
  log.Append(MakeOp("a", 1), 1);  // 0
  log.Append(MakeOp("b", 1), 2);  // 1
  log.Append(MakeOp("a", 2), 3);  // 2
  log.Append(MakeOp("b", 2), 4);  // 3
  log.Append(MakeOp("a", 3), 5);  // 4
  EXPECT_EQ(log.StartFor({}), std::optional<uint64_t>(0));
  EXPECT_EQ(log.StartFor({{"a", 1}, {"b", 2}}), std::optional<uint64_t>(2));
  EXPECT_EQ(log.StartFor({{"a", 3}, {"b", 1}}), std::optional<uint64_t>(3));
  EXPECT_EQ(log.StartFor({{"a", 2}, {"b", 0}}), std::optional<uint64_t>(1));
}

TEST(ReplicationLog, TrimmedOpsThePeerLacksForceAResync) {
  ReplicationLog log(3);
  for (uint64_t s = 1; s <= 5; ++s) log.Append(MakeOp("a", s), s);
  EXPECT_EQ(log.begin(), 2u);
  EXPECT_EQ(log.end(), 5u);
  EXPECT_EQ(log.size(), 3u);
  EXPECT_EQ(log.seq(2), 3u);
  EXPECT_EQ(log.StartFor({}), std::nullopt);
  EXPECT_EQ(log.StartFor({{"a", 1}}), std::nullopt);
  EXPECT_EQ(log.StartFor({{"a", 2}}), std::optional<uint64_t>(2));
  EXPECT_EQ(log.StartFor({{"a", 4}}), std::optional<uint64_t>(4));
  EXPECT_EQ(log.StartFor({{"a", 5}}), log.end());
}

TEST(ReplicationLog, TrimmingTracksEachOriginsFloor) {
  ReplicationLog log(3);
  log.Append(MakeOp("a", 1), 1);  // trimmed below
  log.Append(MakeOp("b", 1), 2);
  log.Append(MakeOp("b", 2), 3);
  log.Append(MakeOp("b", 3), 4);
  EXPECT_EQ(log.begin(), 1u);
  // "a" only has a floor now: a peer lacking a:1 needs a resync, one that has it needs nothing.
  EXPECT_EQ(log.StartFor({{"b", 3}}), std::nullopt);
  EXPECT_EQ(log.StartFor({{"a", 1}, {"b", 3}}), log.end());
  EXPECT_EQ(log.StartFor({{"a", 1}, {"b", 1}}), std::optional<uint64_t>(2));
  EXPECT_EQ(log.StartFor({{"a", 1}}), std::optional<uint64_t>(1));
  // Trimming further moves "b"'s floor.
  log.Append(MakeOp("a", 2), 5);
  log.Append(MakeOp("a", 3), 6);
  EXPECT_EQ(log.begin(), 3u);
  EXPECT_EQ(log.StartFor({{"a", 1}, {"b", 2}}), std::optional<uint64_t>(3));
  EXPECT_EQ(log.StartFor({{"a", 1}, {"b", 1}}), std::nullopt);
  EXPECT_EQ(log.StartFor({{"a", 2}, {"b", 3}}), std::optional<uint64_t>(5));
}

TEST(ReplicationLog, ZeroCapacityKeepsOnlyFloors) {
  ReplicationLog log(0);
  log.Append(MakeOp("a", 1), 1);
  log.Append(MakeOp("a", 2), 2);
  EXPECT_EQ(log.size(), 0u);
  EXPECT_EQ(log.begin(), 2u);
  EXPECT_EQ(log.StartFor({{"a", 2}}), log.end());
  EXPECT_EQ(log.StartFor({{"a", 1}}), std::nullopt);
}

TEST(ReplicationLog, MarkUnavailableForcesAResyncForOpsPastTheLog) {
  ReplicationLog log(10);
  log.Append(MakeOp("a", 1), 1);
  log.Append(MakeOp("a", 2), 2);
  // A snapshot brought a:3..5 and b:1..3.
  log.MarkUnavailable({{"a", 5}, {"b", 3}});
  EXPECT_EQ(log.StartFor({{"a", 2}, {"b", 3}}), std::nullopt);
  EXPECT_EQ(log.StartFor({{"a", 5}, {"b", 2}}), std::nullopt);
  EXPECT_EQ(log.StartFor({{"a", 5}, {"b", 3}}), log.end());
  // Conservative: the log no longer promises a:2 either (it sits before the hole).
  EXPECT_EQ(log.StartFor({{"a", 1}, {"b", 3}}), std::nullopt);
  log.Append(MakeOp("a", 6), 3);
  EXPECT_EQ(log.StartFor({{"a", 5}, {"b", 3}}), std::optional<uint64_t>(2));
}

TEST(ReplicationLog, MarkUnavailableBelowWhatTheLogHoldsChangesNothing) {
  ReplicationLog log(10);
  for (uint64_t s = 1; s <= 4; ++s) log.Append(MakeOp("a", s), s);
  log.MarkUnavailable({{"a", 4}});
  EXPECT_EQ(log.StartFor({{"a", 1}}), std::optional<uint64_t>(1));
  EXPECT_EQ(log.StartFor({}), std::optional<uint64_t>(0));
}

TEST(ReplicationLog, AppendOutOfOrderAssertsAndOtherwiseMarksTheGapUnavailable) {
  ReplicationLog log(10);
  log.Append(MakeOp("a", 1), 1);
  EXPECT_DEBUG_DEATH(log.Append(MakeOp("a", 3), 2), "seq gap");
#ifdef NDEBUG
  // Release builds: a:2 counts as unavailable; a:3 is served to peers that have a:2.
  EXPECT_EQ(log.StartFor({{"a", 1}}), std::nullopt);
  EXPECT_EQ(log.StartFor({{"a", 2}}), std::optional<uint64_t>(1));
  log.Append(MakeOp("a", 3), 3);  // already logged: ignored
  EXPECT_EQ(log.size(), 2u);
#endif
}

TEST(NamedVV, EntriesRoundTripWithoutZerosAndKeepTheMax) {
  google::protobuf::RepeatedPtrField<v1::VersionEntry> entries;
  auto add = [&](const std::string& r, uint64_t s) {
    v1::VersionEntry* e = entries.Add();
    e->set_region(r);
    e->set_seq(s);
  };
  add("eu", 3);
  add("us", 0);
  add("ap", 2);
  add("eu", 1);
  NamedVV vv = FromEntries(entries);
  EXPECT_EQ(vv, (NamedVV{{"ap", 2}, {"eu", 3}}));
  google::protobuf::RepeatedPtrField<v1::VersionEntry> out;
  add("stale", 9);
  out = entries;
  ToEntries(vv, &out);
  ASSERT_EQ(out.size(), 2);
  EXPECT_EQ(out[0].region(), "ap");
  EXPECT_EQ(out[1].region(), "eu");
  EXPECT_EQ(out[1].seq(), 3u);
}

TEST(NamedVV, MergeIsPointwiseMaxAndCoversTreatsMissingAsZero) {
  NamedVV into{{"a", 3}, {"b", 1}};
  MergeInto(&into, {{"a", 2}, {"b", 4}, {"c", 1}, {"d", 0}});
  EXPECT_EQ(into, (NamedVV{{"a", 3}, {"b", 4}, {"c", 1}}));
  EXPECT_TRUE(Covers(into, "a", 3));
  EXPECT_FALSE(Covers(into, "a", 4));
  EXPECT_FALSE(Covers(into, "zz", 1));
}

TEST(NamedVV, FromKeyspaceNamesEveryAppliedOrigin) {
  crdt::Keyspace ks("us", {"us", "eu"});
  v1::Op op;
  crdt::MakeSetOp(ks, crdt::HlcFromMs(1000), "k", "v", v1::ExpiryChange::PERSIST, 0, &op);
  ASSERT_TRUE(ks.Apply(op).ok());
  ASSERT_TRUE(ks.Apply(MakeOp("eu", 1)).ok());
  ASSERT_TRUE(ks.Apply(MakeOp("eu", 2)).ok());
  EXPECT_EQ(FromKeyspace(ks), (NamedVV{{"eu", 2}, {"us", 1}}));
}

}  // namespace
}  // namespace activekv::syncer
