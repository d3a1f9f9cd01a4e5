// Mutex, MutexLock and CondVar: std::mutex and std::condition_variable with the Clang
// thread-safety annotations of core/thread_annotations.hpp, which libstdc++'s types lack.
//
//   Mutex mu_;
//   CondVar cv_;
//   bool ready_ RUNQ_GUARDED_BY(mu_) = false;
//
//   void wait_ready() RUNQ_EXCLUDES(mu_) {
//     MutexLock lock(mu_);
//     while (!ready_) cv_.wait(mu_);
//   }
//
// Thread safety: as std::mutex and std::condition_variable. No recursion; a CondVar is used
// with one Mutex at a time.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "core/thread_annotations.hpp"

namespace runq::internal {

class RUNQ_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() RUNQ_ACQUIRE() { mu_.lock(); }
  void unlock() RUNQ_RELEASE() { mu_.unlock(); }
  bool try_lock() RUNQ_TRY_ACQUIRE(true) { return mu_.try_lock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds `mu` for its lifetime (std::lock_guard).
class RUNQ_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) RUNQ_ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~MutexLock() RUNQ_RELEASE() { mu_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

// A condition variable waited on with a Mutex held. Wake-ups may be spurious: wait in a loop
// that re-checks the condition.
class CondVar {
 public:
  // Releases `mu`, blocks until notified (or spuriously), takes `mu` again.
  // REQUIRES: mu held.
  void wait(Mutex& mu) RUNQ_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();  // still held; the caller's MutexLock releases it
  }

  // As wait(), for at most `timeout`. Returns false when it timed out.
  // REQUIRES: mu held.
  template <class Rep, class Period>
  bool wait_for(Mutex& mu, std::chrono::duration<Rep, Period> timeout) RUNQ_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
    std::cv_status s = cv_.wait_for(lock, timeout);
    lock.release();
    return s == std::cv_status::no_timeout;
  }

  // As wait(), until `deadline` (std::chrono::steady_clock). Returns false when it passed.
  // REQUIRES: mu held.
  bool wait_until(Mutex& mu, std::chrono::steady_clock::time_point deadline) RUNQ_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
    std::cv_status s = cv_.wait_until(lock, deadline);
    lock.release();
    return s == std::cv_status::no_timeout;
  }

  void notify_one() { cv_.notify_one(); }
  void notify_all() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace runq::internal
