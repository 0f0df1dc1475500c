// Mutex: a small absl::Mutex look-alike built on std::mutex + std::condition_variable.
//
// Why: Debian's Abseil is not built with ThreadSanitizer, so absl::Mutex's lock/unlock are
// invisible to TSan and every access it guards shows up as a data race. std::mutex goes through
// pthread_mutex_*, which TSan intercepts, so this Mutex gives TSan (and Helgrind) real
// happens-before edges. Use it for every lock in code that runs under the TSan build.
//
// Contract (the subset of absl::Mutex we use, same semantics):
//   - Exclusive locks only; not recursive. Lock/Unlock/TryLock, or the scoped MutexLock. The mutex
//     must not be held when it is destroyed, nor unlocked by a thread that does not hold it.
//   - Await(pred), AwaitWithTimeout(pred, timeout), AwaitWithDeadline(pred, deadline): the
//     caller holds the mutex. They return at once if pred() holds; otherwise they release the
//     mutex and block until pred() holds, then return with the mutex held again. As with
//     absl::Mutex, the condition is re-evaluated (under the lock) every time ANY thread releases
//     the mutex (Unlock, or another Await starting to wait after changing state), so pred() may
//     depend on anything written under this mutex; state changed without holding it wakes no one.
//     The timed forms give up once the time has passed and return pred() evaluated one last time
//     (true: the condition holds). AwaitWithDeadline waits `deadline - absl::Now()` on the steady
//     clock, so a wall-clock step does not shorten or stretch it. absl::InfiniteDuration() /
//     absl::InfiniteFuture() wait forever.
//   - pred is any callable `bool()`, evaluated with the mutex held, possibly many times, on the
//     waiting thread and on any thread releasing the mutex while it waits. It must not lock this
//     mutex, nor block, and may read only state guarded by this mutex (and the waiting thread's
//     own locals). Annotate a lambda that reads guarded members, so -Wthread-safety checks its
//     body:
//       mu_.Await([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || !q_.empty(); });
//
// Thread-safety annotations: the class is an ABSL_LOCKABLE capability, so ABSL_GUARDED_BY(mu_),
// ABSL_EXCLUSIVE_LOCKS_REQUIRED, ABSL_ACQUIRED_BEFORE etc. work as with absl::Mutex under clang's
// -Wthread-safety. There is no reader (shared) mode: ABSL_SHARED_LOCKS_REQUIRED(mu_) functions are
// satisfied by the exclusive lock.
//
// Cost: Lock/Unlock are a pthread mutex lock/unlock. While threads wait in Await, Unlock also
// evaluates their conditions and wakes them (notify_all) only when one holds -- as absl::Mutex
// does: a background thread waiting for work is not woken by every unrelated lock of its mutex
// (an AOF's event-loop thread locks it several times per flush). Fine for the handful of waiters
// per mutex we have; not meant for hundreds of waiters with distinct conditions.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace activekv::persistence {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;
  ~Mutex() = default;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }

  // Wakes the threads blocked in Await when one's condition now holds. The notify happens
  // before the unlock: once unlocked, another thread may legitimately destroy the mutex.
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    WakeSatisfied();
    mu_.unlock();
  }

  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) { return mu_.try_lock(); }

  // Documents (for the analysis only) that the caller holds the lock; checks nothing at runtime.
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() {}

  template <typename Predicate>
  void Await(Predicate pred) ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    WaitUntil(pred, /*deadline=*/nullptr);
  }

  template <typename Predicate>
  bool AwaitWithTimeout(Predicate pred, absl::Duration timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    if (timeout == absl::InfiniteDuration()) {
      WaitUntil(pred, nullptr);
      return true;
    }
    // Clamped so the steady_clock arithmetic cannot overflow (about 292 years of nanoseconds).
    constexpr absl::Duration kMaxWait = absl::Hours(24 * 365 * 100);
    timeout = std::clamp(timeout, absl::ZeroDuration(), kMaxWait);
    const std::chrono::steady_clock::time_point deadline =
        std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
    return WaitUntil(pred, &deadline);
  }

  template <typename Predicate>
  bool AwaitWithDeadline(Predicate pred, absl::Time deadline) ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    if (deadline == absl::InfiniteFuture()) {
      WaitUntil(pred, nullptr);
      return true;
    }
    return AwaitWithTimeout(pred, deadline - absl::Now());
  }

 private:
  // The waiting loop. Thread-safety analysis is off because it cannot see that `mu_` is this
  // capability (the std::unique_lock adopts and then releases the lock the caller holds) nor map a
  // predicate's own ABSL_EXCLUSIVE_LOCKS_REQUIRED(caller's mutex) onto `this`.
  template <typename Predicate>
  bool WaitUntil(Predicate& pred, const std::chrono::steady_clock::time_point* deadline)
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (pred()) return true;
    std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
    // The caller may have changed guarded state since it locked: the other waiters re-check
    // (absl::Mutex does the same when a waiter releases the lock to block).
    WakeSatisfied();
    // (The lambda is analysed on its own: it needs the same exemption.)
    Waiter self{[](void* p)
                    ABSL_NO_THREAD_SAFETY_ANALYSIS { return (*static_cast<Predicate*>(p))(); },
                &pred, waiters_};
    waiters_ = &self;
    bool satisfied = true;
    while (!pred()) {
      if (deadline == nullptr) {
        cv_.wait(lock);
      } else if (cv_.wait_until(lock, *deadline) == std::cv_status::timeout) {
        satisfied = pred();
        break;
      }
    }
    for (Waiter** w = &waiters_; *w != nullptr; w = &(*w)->next) {
      if (*w == &self) {
        *w = self.next;
        break;
      }
    }
    lock.release();  // the caller keeps holding mu_
    return satisfied;
  }

  // A thread blocked in WaitUntil: its condition, type-erased.
  struct Waiter {
    bool (*check)(void* pred);
    void* pred;
    Waiter* next;
  };

  // With mu_ held: wakes every waiter if one's condition holds.
  void WakeSatisfied() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    for (Waiter* w = waiters_; w != nullptr; w = w->next) {
      if (w->check(w->pred)) {
        cv_.notify_all();
        return;
      }
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  Waiter* waiters_ = nullptr;  // threads blocked in WaitUntil; read and written with mu_ held
};

// Holds `*mu` for its own lifetime (like absl::MutexLock).
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->Lock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }

 private:
  Mutex* const mu_;
};

}  // namespace activekv::persistence
