// BasicRegister's cached value while increments are pending (crdt/values/register.h): however the
// increments arrive -- at the end of the (HLC, region) order or anywhere before it, folded in
// steps or not -- the visible value is what applying them in order to the base gives. The
// reference is a register rebuilt from the same elements (Assign), whose value is recomputed.
#include "crdt/values/register.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "crdt/region_table.h"
#include "crdt/version_vector.h"
#include "gtest/gtest.h"

namespace activekv::crdt {
namespace {

std::string Recomputed(const Register& r, const RegionTable& regions) {
  Register copy;
  std::vector<Register::Increment> incs;
  if (r.increments() != nullptr) incs.assign(r.increments()->begin(), r.increments()->end());
  copy.Assign(r.writes(), std::move(incs), regions);
  return std::string(copy.Value(regions));
}

TEST(RegisterCache, IncrementsArrivingInAnyOrderGiveTheOrderedValue) {
  const uint32_t seed = static_cast<uint32_t>(::testing::UnitTest::GetInstance()->random_seed());
  for (uint32_t round = 0; round < 300; ++round) {
    SCOPED_TRACE(absl::StrCat("seed=", seed, " round=", round));
    std::mt19937_64 rng(seed * 7919u + round);
    RegionTable regions;
    const RegionId a = regions.Intern("a"), b = regions.Intern("b"), c = regions.Intern("c");
    const RegionId ids[] = {a, b, c};
    Register r;
    VersionVector stable;  // nothing stable: every increment stays pending (a region is down)
    uint64_t seq[3] = {0, 0, 0};
    // Bases and deltas near the int64 limits in some rounds: an order that overflows must not be
    // taken for one that does not.
    const bool edge = round % 3 == 0;
    const bool with_floats = round % 5 == 1;
    if (rng() % 2 == 0) {
      const int64_t base = edge ? INT64_MAX - static_cast<int64_t>(rng() % 50)
                                : static_cast<int64_t>(rng() % 1000) - 500;
      r.AddWrite(Register::Write{Tag{a, 0, ++seq[0]}, 1, CompactString(absl::StrCat(base)), 0},
                 stable);
    }
    for (int i = 0; i < 200; ++i) {
      const size_t who = rng() % 3;
      Register::Increment inc;
      inc.tag = Tag{ids[who], 0, ++seq[who]};
      // Mostly recent HLCs with some older ones: late arrivals land before the end.
      inc.hlc = 1000 + static_cast<uint64_t>(i) * 10 - (rng() % 4 == 0 ? rng() % 500 : 0);
      if (with_floats && rng() % 10 == 0) {
        inc.is_float = true;
        inc.float_delta = static_cast<long double>(rng() % 1000) / 8;
      } else {
        inc.delta = edge ? (rng() % 2 == 0 ? 40 : -40) : static_cast<int64_t>(rng() % 200) - 100;
      }
      r.AddIncrement(inc, stable, regions);
      ASSERT_EQ(std::string(r.Value(regions)), Recomputed(r, regions)) << "after increment " << i;
      if (rng() % 25 == 0) {
        // Some increments become stable and fold into the base: the value does not change.
        const std::string before(r.Value(regions));
        stable.Set(a, seq[0] / 2);
        stable.Set(b, seq[1] / 2);
        stable.Set(c, seq[2] / 2);
        r.Compact(stable);
        ASSERT_EQ(std::string(r.Value(regions)), before) << "a fold changed the value";
        ASSERT_EQ(std::string(r.Value(regions)), Recomputed(r, regions));
      }
    }
  }
}

}  // namespace
}  // namespace activekv::crdt
