// Fetcher: the prefetch buffer and the fetch role.
//
// Fetching is a role, not a thread (leader/follower): an executor with nothing to run takes
// the role when no one holds it, reserves (or, when the last reserve came back empty, waits
// for work and reserves in one store call), keeps the first task it got for itself and leaves
// the rest in the buffer for the others. A task that arrives while the worker is idle
// therefore starts on the thread that received it, with no hand-off between threads.
//
// Thread safety / invariants (all guarded by mu_):
//   - `buffer_` holds reserved tasks not yet started; buffer_.size() + running_ never exceeds
//     concurrency + prefetch;
//   - at most one thread holds the fetch role (`fetching_`); `fetch_backoff_ms_` is touched
//     only by the role holder, outside mu_;
//   - once `stopping_` is set, nothing enters the buffer: reserved tasks go back to the store
//     through the settler (Outcome::kRelease).
// The fetcher calls the store, the LeaseTable and the Settler only without mu_ held.
#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "core/mutex.hpp"
#include "runq/clock.hpp"
#include "runq/store.hpp"
#include "worker/internal/lease_table.hpp"
#include "worker/internal/settler.hpp"

namespace runq::internal {

struct FetcherOptions {
  std::vector<std::string> queues;  // to reserve from, in order of preference
  std::string worker_id;
  Millis lease_ms = 30'000;
  int concurrency = 1;  // executors taking tasks from this fetcher (>= 1)
  int prefetch = -1;    // tasks buffered beyond those running; < 0: adaptive
};

class Fetcher {
 public:
  // REQUIRES: store, clock, leases and settler outlive the fetcher.
  Fetcher(Store& store, const Clock& clock, LeaseTable& leases, Settler& settler,
          FetcherOptions opts);

  // The next task for the calling executor, counted as running: from the buffer, or reserved
  // by this thread when the fetch role is free and due. Blocks until there is one; returns
  // nullopt once the worker stops and the buffer is empty.
  std::optional<Delivery> next() RUNQ_EXCLUDES(mu_);
  // As next(), but also returns nullopt once `until` passed (checked at least every
  // kIdleWaitMs while the store has no work).
  std::optional<Delivery> next_until(std::chrono::steady_clock::time_point until)
      RUNQ_EXCLUDES(mu_);
  // For an executor that keeps several tasks in flight: a buffered task, or one store reserve
  // when the fetch role is free and due and the last reserve found work. Never waits for
  // work; nullopt when there is none at hand (or stopping).
  std::optional<Delivery> try_next() RUNQ_EXCLUDES(mu_);
  // Reserved tasks waiting in the buffer, not yet taken by an executor.
  std::size_t waiting() const RUNQ_EXCLUDES(mu_);
  // The calling executor finished a task that next() returned, which ran for `run_time`.
  void finished(std::chrono::steady_clock::duration run_time) RUNQ_EXCLUDES(mu_);

  // Stops reserving and releases the buffered tasks. Returns false if already stopping.
  bool stop() RUNQ_EXCLUDES(mu_);
  // Blocks until stop() was called; returns when (clock time).
  Millis wait_stop_requested() RUNQ_EXCLUDES(mu_);
  // Blocks until no task runs and the buffer is empty, or `timeout` passed; returns whether
  // that is the case.
  bool wait_drained_for(std::chrono::milliseconds timeout) RUNQ_EXCLUDES(mu_);
  // As wait_drained_for(), without a timeout.
  void wait_drained() RUNQ_EXCLUDES(mu_);
  int running() const RUNQ_EXCLUDES(mu_);
  // Whether stop() was called.
  bool stopping() const RUNQ_EXCLUDES(mu_);

 private:
  // With the default (adaptive) prefetch the buffer holds about 20 ms of work per thread:
  // many short tasks are reserved in large batches (few store round trips), while long
  // tasks are not hoarded away from other workers.
  int prefetch() const RUNQ_REQUIRES(mu_);
  int capacity() const RUNQ_REQUIRES(mu_) { return opts_.concurrency + prefetch(); }
  int room() const RUNQ_REQUIRES(mu_) { return capacity() - int(buffer_.size()) - running_; }
  bool should_refill() const RUNQ_REQUIRES(mu_);
  bool should_fetch() const RUNQ_REQUIRES(mu_);
  bool drained() const RUNQ_REQUIRES(mu_) { return running_ == 0 && buffer_.empty(); }
  Delivery pop() RUNQ_REQUIRES(mu_);

  // `once`: one reserve, never waiting for work or for the settler; `until`: give up the
  // role (nullopt) once it passed while waiting for work.
  std::optional<Delivery> fetch_as_leader(
      bool once = false,
      std::chrono::steady_clock::time_point until = std::chrono::steady_clock::time_point::max())
      RUNQ_EXCLUDES(mu_);
  std::optional<Delivery> take_batch(std::vector<Delivery> batch) RUNQ_EXCLUDES(mu_);
  void sleep_unless_stopping(int ms) RUNQ_EXCLUDES(mu_);
  void notify_all();

  static constexpr int kMaxAdaptivePrefetch = 256;
  // Longest single wait for work: a stopping worker notices the stop within this long.
  static constexpr Millis kIdleWaitMs = 200;
  // Settlements waiting to be written beyond which the fetcher stops reserving (two settle
  // batches of the default size).
  static constexpr std::size_t kSettleBacklogLimit = 1024;

  Store& store_;
  const Clock& clock_;
  LeaseTable& leases_;
  Settler& settler_;
  const FetcherOptions opts_;
  const bool adaptive_prefetch_;
  const int min_prefetch_;     // the fixed prefetch, or the adaptive one's floor
  int fetch_backoff_ms_ = 50;  // role holder only

  mutable Mutex mu_;
  CondVar work_cv_;   // executors: a task or the fetch role is free, or stopping
  CondVar state_cv_;  // stop requested, a task finished while stopping
  std::deque<Delivery> buffer_ RUNQ_GUARDED_BY(mu_);
  int running_ RUNQ_GUARDED_BY(mu_) = 0;
  // Moving average of task run time; starts pessimistic (1 s).
  double avg_run_us_ RUNQ_GUARDED_BY(mu_) = 1e6;
  bool fetching_ RUNQ_GUARDED_BY(mu_) = false;  // a thread holds the fetch role
  bool idle_ RUNQ_GUARDED_BY(mu_) = false;      // the last reserve came back empty
  bool stopping_ RUNQ_GUARDED_BY(mu_) = false;
  Millis stop_requested_at_ RUNQ_GUARDED_BY(mu_) = 0;
};

}  // namespace runq::internal
