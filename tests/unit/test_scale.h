#pragma once

// How many seeded histories a property test runs: `n` scaled by the environment's AKV_TEST_SCALE,
// a percentage (default 100; the result is at least 1). The sanitizer tier of CI (make
// sanitize-ci) runs the unit tier at 25%: there a sanitizer looks for memory errors and undefined
// behaviour along the code's paths, which a quarter of the histories already walks, at 10-30 times
// the cost of each; the plain build (make test) runs every history. A failing seed replays the
// same whatever the scale.

#include <cstdlib>

namespace activekv::test {

inline int Scaled(int n) {
  const char* env = std::getenv("AKV_TEST_SCALE");
  if (env == nullptr) return n;
  const long percent = std::strtol(env, nullptr, 10);
  if (percent <= 0 || percent >= 100) return n;
  const long scaled = static_cast<long>(n) * percent / 100;
  return scaled < 1 ? 1 : static_cast<int>(scaled);
}

}  // namespace activekv::test
