// ExecutorPool: the executor threads. Each takes a task from the Fetcher (taking its turn at
// fetching when that is due), starts its lease in the LeaseTable, runs it on the Executor and
// hands the settlement to the Settler, until the fetcher has nothing more (the worker stops).
//
// Autoscale (start() with min_threads < n): the pool starts `min_threads` executor threads; a
// scaler thread adds one about every 100 ms (up to n) while every thread has a task and more
// wait in the fetcher's buffer; a thread that got no task for `idle_ms` ends, down to
// `min_threads`. Thread slots are reused: at most n threads exist at once.
//
// Thread safety: start() and join() are called once each, by the Worker; size() from any
// thread. `slots_`, `active_` and `joining_` are guarded by scale_mu_, taken without any other
// lock held and released before calling any other part.
#pragma once

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/mutex.hpp"
#include "runq/store.hpp"
#include "worker/internal/activity.hpp"
#include "worker/internal/executor.hpp"
#include "worker/internal/fetcher.hpp"
#include "worker/internal/lease_table.hpp"
#include "worker/internal/settler.hpp"

namespace runq {
class App;
}

namespace runq::internal {

class ExecutorPool final : public TaskFlow {
 public:
  // REQUIRES: every argument outlives the pool.
  // `require_hard_limits`: WorkerOptions::require_hard_limits (for executors without
  // hard_limits()).
  ExecutorPool(const App& app, std::string worker_id, Store& store, Fetcher& fetcher,
               LeaseTable& leases, Settler& settler, Executor& executor, Activity& activity,
               bool require_hard_limits)
      : app_(app),
        runner_(app, std::move(worker_id)),
        store_(store),
        fetcher_(fetcher),
        leases_(leases),
        settler_(settler),
        executor_(executor),
        activity_(activity),
        require_hard_limits_(require_hard_limits) {}
  ~ExecutorPool() override { join(); }

  // Starts `n` executor threads, or lets an executor that drives() start its own. With
  // 1 <= min_threads < n, autoscales between min_threads and n threads (see above); a thread
  // idle for `idle_ms` ends. The autoscale arguments are ignored when the executor drives().
  void start(int n, int min_threads = -1, Millis idle_ms = 10'000) RUNQ_EXCLUDES(scale_mu_);
  // Blocks until every executor thread ended (after the fetcher stopped).
  void join() RUNQ_EXCLUDES(scale_mu_);
  // Executor threads running now, or the driving executor's pool_size().
  int size() const RUNQ_EXCLUDES(scale_mu_);
  // Buffered deliveries not started because their lease lapsed first (LeaseTable::lapsed).
  std::uint64_t lapsed() const { return skipped_lapsed_.load(std::memory_order_relaxed); }

  // TaskFlow, for an executor that drives().
  std::optional<Delivery> next(bool wait, std::chrono::steady_clock::time_point until) override;
  bool stopping() const override;
  std::size_t waiting() const override;
  Begun begin(const Delivery& d) override;
  void end(const Delivery& d, RunOutcome out, std::chrono::steady_clock::duration ran) override;
  void progress(const Delivery& d, double fraction) override;

 private:
  void execute_loop(int slot) RUNQ_EXCLUDES(scale_mu_);
  // Runs one task taken from the fetcher on executor slot `slot`, and settles it.
  void run_one(int slot, const Delivery& d);
  // Autoscale: whether the idle thread of `slot` ends now (more than min_threads run).
  bool retire(int slot) RUNQ_EXCLUDES(scale_mu_);
  // Autoscale: adds a thread every ~100 ms while all are busy and tasks wait, until join().
  void scale_loop() RUNQ_EXCLUDES(scale_mu_);
  bool autoscaled() const { return min_threads_ > 0; }
  // LeaseTable::start; a task that must not start is counted (lapsed()) and ended with the
  // fetcher.
  std::optional<LeaseTable::Started> start_or_drop(const Delivery& d, Millis deadline);
  // Tells activity_ that `d` starts (its task name and how long it waited).
  void record_start(const Delivery& d);
  void revoke_after_run(const Delivery& d, RunOutcome& out);
  // Runs `d` (started in the LeaseTable) on the executor, or refuses it.
  RunOutcome execute(int slot, const Delivery& d, const TaskLimits& limits, std::stop_token stop,
                     const std::function<void(double)>& progress);

  const App& app_;
  TaskRunner runner_;  // limits, and the outcome of refused and revoked tasks
  Store& store_;
  Fetcher& fetcher_;
  LeaseTable& leases_;
  Settler& settler_;
  Executor& executor_;
  Activity& activity_;  // every task's start and end, for the heartbeat
  const bool require_hard_limits_;
  std::atomic<bool> warned_hard_limit_{false};
  std::atomic<std::uint64_t> skipped_lapsed_{0};
  bool driven_ = false;           // the executor runs its own threads (set by start())
  bool executor_joined_ = false;  // join() joined them
  int max_threads_ = 0;           // set by start()
  int min_threads_ = -1;          // autoscale's fewest threads; <= 0: no autoscale (set by start())
  Millis idle_ms_ = 10'000;
  std::thread scaler_;

  struct Slot {
    std::thread thread;   // joinable until join(), or until a retired one is replaced
    bool active = false;  // a thread runs execute_loop in this slot
  };
  mutable Mutex scale_mu_;
  CondVar scale_cv_;  // join() started
  std::vector<Slot> slots_ RUNQ_GUARDED_BY(scale_mu_);
  int active_ RUNQ_GUARDED_BY(scale_mu_) = 0;
  bool joining_ RUNQ_GUARDED_BY(scale_mu_) = false;
};

}  // namespace runq::internal
