// ExecutorPool: the executor threads. Each takes a task from the Fetcher (taking its turn at
// fetching when that is due), starts its lease in the LeaseTable, runs it on the Executor and
// hands the settlement to the Settler, until the fetcher has nothing more (the worker stops).
//
// Thread safety: start() and join() are called once each, by the Worker. The pool keeps no
// state of its own between tasks: each thread's locals are its own.
#pragma once

#include <atomic>
#include <string>
#include <thread>
#include <vector>

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

  // Starts `n` executor threads, or lets an executor that drives() start its own.
  void start(int n);
  // Blocks until every executor thread ended (after the fetcher stopped).
  void join();
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
  void execute_loop(int slot);
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
  std::vector<std::thread> threads_;
  bool driven_ = false;  // the executor runs its own threads
};

}  // namespace runq::internal
