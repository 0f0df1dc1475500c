// persistence/mutex.h: Await's wake-up contract.
#include "persistence/mutex.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"

namespace activekv::persistence {
namespace {

// A waiter is woken when its condition holds, not by every release of the mutex: a background
// thread (an AOF's fsync thread) must not be woken by each of the event loop's locks.
TEST(MutexTest, UnrelatedUnlocksDoNotWakeAWaiter) {
  Mutex mu;
  bool ready = false;  // guarded by mu
  std::atomic<int> waiter_evaluations{0};
  std::atomic<bool> waiting{false};
  std::thread waiter([&] {
    const std::thread::id me = std::this_thread::get_id();
    MutexLock lock(&mu);
    mu.Await([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      if (std::this_thread::get_id() == me) {
        ++waiter_evaluations;
        waiting = true;
      }
      return ready;
    });
  });
  while (!waiting) std::this_thread::yield();
  for (int i = 0; i < 2000; ++i) {
    MutexLock lock(&mu);  // the waiter holds the mutex until it blocks: this waits for that
  }
  const int before_ready = waiter_evaluations.load();
  {
    MutexLock lock(&mu);
    ready = true;
  }
  waiter.join();
  // Once before blocking (twice counting Await's first check), once when woken.
  EXPECT_LE(before_ready, 2);
  EXPECT_LE(waiter_evaluations.load(), 3);
}

// Every waiter whose condition holds is woken, whoever changed the state.
TEST(MutexTest, WaitersWakeWhenTheirConditionHolds) {
  Mutex mu;
  int stage = 0;  // guarded by mu
  std::thread a([&] {
    MutexLock lock(&mu);
    mu.Await([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return stage >= 1; });
    stage = 2;
  });
  std::thread b([&] {
    MutexLock lock(&mu);
    mu.Await([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return stage >= 2; });
    stage = 3;
  });
  {
    MutexLock lock(&mu);
    stage = 1;
  }
  a.join();
  b.join();
  MutexLock lock(&mu);
  EXPECT_EQ(stage, 3);
  // A timed wait whose condition never holds gives up with false.
  EXPECT_FALSE(mu.AwaitWithTimeout([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return stage == 9; },
                                   absl::Milliseconds(20)));
}

}  // namespace
}  // namespace activekv::persistence
