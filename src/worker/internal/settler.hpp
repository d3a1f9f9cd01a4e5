// Settler: writes finished tasks' settlements to the store in batches, on its own thread.
//
// Executors (and a stopping fetcher, for released tasks) push settlements; the settler thread
// writes up to `batch` of them per Store::settle call, retrying while the store is
// unavailable or out of space, so that a result is not lost (nor its task run again) when
// the store blips, restarts or fills up for a while. After each
// write it forgets the settled leases in the LeaseTable and counts the outcomes.
//
// Thread safety: push(), release() and counters() may be called from any thread. start()
// and finish() are called once each, by the Worker.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "core/mutex.hpp"
#include "runq/clock.hpp"
#include "runq/store.hpp"
#include "runq/worker.hpp"
#include "worker/internal/lease_table.hpp"

namespace runq::internal {

struct SettlerOptions {
  int batch = 512;              // largest batch per Store::settle call (>= 1)
  std::uint64_t max_tasks = 0;  // call on_max_tasks once this many were settled (0 = never)
};

class Settler {
 public:
  // REQUIRES: store, clock and leases outlive the settler. `on_max_tasks` runs on the settler
  // thread, with no lock held.
  Settler(Store& store, const Clock& clock, LeaseTable& leases, SettlerOptions opts,
          std::function<void()> on_max_tasks);
  ~Settler();  // finish()

  void start();
  // Queues one settlement. `counted_failure`: the task ended FAILURE (counted at once).
  void push(Settlement s, bool counted_failure = false) RUNQ_EXCLUDES(mu_);
  // Queues the release of reserved tasks that will not run here (shutdown).
  void release(const std::vector<Delivery>& tasks) RUNQ_EXCLUDES(mu_);
  // Once nothing pushes any more (the executors ended): writes what is queued, then joins
  // the settler thread.
  void finish() RUNQ_EXCLUDES(mu_);

  // Counts so far; `running` is left 0 (the fetcher knows it).
  WorkerCounters counters() const RUNQ_EXCLUDES(mu_);

  // Backpressure for the fetcher: blocks while `limit` or more settlements wait to be written
  // (the store writes results slower than tasks finish), for at most `max_wait`. True when
  // fewer wait (at once if so), false when the time ran out; true when finishing.
  bool wait_backlog_below(std::size_t limit, std::chrono::milliseconds max_wait) RUNQ_EXCLUDES(mu_);

 private:
  void settle_loop() RUNQ_EXCLUDES(mu_);
  void write_batch(const std::vector<Settlement>& batch) RUNQ_EXCLUDES(mu_);
  void record_settled(const std::vector<Settlement>& batch, const std::vector<bool>& applied)
      RUNQ_EXCLUDES(mu_);

  Store& store_;
  const Clock& clock_;
  LeaseTable& leases_;
  const SettlerOptions opts_;
  const std::function<void()> on_max_tasks_;
  std::thread thread_;

  mutable Mutex mu_;
  CondVar cv_;        // a settlement was queued, or finish() was called
  CondVar taken_cv_;  // the settler thread took a batch off the queue
  std::deque<Settlement> queue_ RUNQ_GUARDED_BY(mu_);
  bool finishing_ RUNQ_GUARDED_BY(mu_) = false;
  WorkerCounters counters_ RUNQ_GUARDED_BY(mu_);
};

}  // namespace runq::internal
