// PumpPacer: replication pumps follow AOF flushes, spaced by an interval that grows with the
// write rate (docs/replication-protocol.md, "Pacing").
#include "region-server/pump_pacer.h"

#include "gtest/gtest.h"

namespace activekv::server {
namespace {

using std::chrono::microseconds;
using Clock = PumpPacer::Clock;

TEST(PumpPacer, IntervalTiers) {
  EXPECT_EQ(PumpPacer::Interval(0), microseconds(250));
  EXPECT_EQ(PumpPacer::Interval(7), microseconds(250));
  EXPECT_EQ(PumpPacer::Interval(8), microseconds(1000));
  EXPECT_EQ(PumpPacer::Interval(47), microseconds(1000));
  EXPECT_EQ(PumpPacer::Interval(48), microseconds(2000));
  EXPECT_EQ(PumpPacer::Interval(1 << 20), microseconds(2000));
}

TEST(PumpPacer, AnIsolatedWriteGoesAtOnceLoadIsSpaced) {
  PumpPacer p;
  const Clock::time_point t0 = Clock::time_point() + std::chrono::seconds(100);
  EXPECT_FALSE(p.OnFlush(t0).has_value()) << "the first flush pumps at once";
  p.OnPump(t0, 1);
  // A flush 100 us later waits for the 250 us spacing.
  std::optional<Clock::time_point> at = p.OnFlush(t0 + microseconds(100));
  ASSERT_TRUE(at.has_value());
  EXPECT_EQ(*at, t0 + microseconds(250));
  // 20 ops logged by then: the next spacing is 1 ms.
  p.OnPump(t0 + microseconds(250), 21);
  EXPECT_EQ(p.ops_last_interval(), 20u);
  at = p.OnFlush(t0 + microseconds(500));
  ASSERT_TRUE(at.has_value());
  EXPECT_EQ(*at, t0 + microseconds(1250));
  EXPECT_FALSE(p.OnFlush(t0 + microseconds(1250)).has_value());
  // 100 ops in one interval: 2 ms.
  p.OnPump(t0 + microseconds(1250), 121);
  EXPECT_EQ(*p.OnFlush(t0 + microseconds(1300)), t0 + microseconds(3250));
}

TEST(PumpPacer, AnIdleStretchCountsAsNoLoad) {
  PumpPacer p;
  const Clock::time_point t0 = Clock::time_point() + std::chrono::seconds(100);
  p.OnPump(t0, 0);
  p.OnPump(t0 + microseconds(250), 100);  // heavy: 2 ms spacing
  EXPECT_EQ(p.ops_last_interval(), 100u);
  // Next pump after 10 ms: more than two intervals, so the 500 ops since count as idle load.
  p.OnPump(t0 + microseconds(10250), 600);
  EXPECT_EQ(p.ops_last_interval(), 0u);
  EXPECT_EQ(*p.OnFlush(t0 + microseconds(10300)), t0 + microseconds(10500));
}

}  // namespace
}  // namespace activekv::server
