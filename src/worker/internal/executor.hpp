// Executor: runs the body of one delivered task to its outcome.
//
// This is the seam between the worker's own work (fetching, leases, settling, which stay on
// the worker's threads) and where task code runs. The thread executor runs it on the calling
// executor thread; a process pool would hand it to a child process and wait for the outcome.
//
// Thread safety: run() is called concurrently, by every executor thread, at most one call per
// `slot` at a time.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "app/task_runner.hpp"
#include "runq/store.hpp"

namespace runq {
class App;
}

namespace runq::internal {

// The worker's side of running a task, for an executor that keeps several tasks in flight on
// its own threads (the process pool) instead of being called by executor threads. ExecutorPool
// implements it with the same steps its own threads take.
//
// Thread safety: all methods may be called concurrently.
class TaskFlow {
 public:
  virtual ~TaskFlow() = default;
  // The next task: with `wait`, blocks until there is one, the worker stops (nullopt) or
  // `until` passed (nullopt); without, returns one only if it is at hand (Fetcher::try_next).
  virtual std::optional<Delivery> next(bool wait, std::chrono::steady_clock::time_point until) = 0;
  // Whether the worker stops (next() hands out nothing more).
  virtual bool stopping() const = 0;
  // Tasks reserved and waiting for an executor.
  virtual std::size_t waiting() const = 0;
  struct Begun {
    std::stop_token stop;            // the task's cancellation flag
    std::optional<RunOutcome> skip;  // set: the task must not run (revoked); end() it with this
    bool dropped = false;  // its lease lapsed while it waited: forgotten; neither run nor end()
  };
  // Starts `d` (its lease is kept and its cancellation flag can be raised from now on).
  virtual Begun begin(const Delivery& d) = 0;
  // `d` ended with `out` after `ran` since begin(): settles it.
  virtual void end(const Delivery& d, RunOutcome out, std::chrono::steady_clock::duration ran) = 0;
  // Context::progress() of `d`, as a fraction in [0, 1]; called at most a few times a second.
  virtual void progress(const Delivery& d, double fraction) = 0;
};

class Executor {
 public:
  virtual ~Executor() = default;

  // Whether this executor runs its own threads (drive()/join()) instead of being called by
  // executor threads (run()).
  virtual bool drives() const { return false; }
  // Starts the executor's threads, which take tasks from `flow` until it stops.
  virtual void drive(TaskFlow& flow) { (void)flow; }
  // Blocks until those threads ended (after the flow stopped and every task ended).
  virtual void join() {}

  // Runs `d` and returns how it ended; never throws. `slot` (0 .. concurrency-1) names the
  // calling executor thread. `stop` is the task's cancellation token; `progress` receives its
  // Context::progress() calls.
  virtual RunOutcome run(int slot, const Delivery& d, std::stop_token stop,
                         const std::function<void(double)>& progress) = 0;

  // Revoke with terminate of the running task `id`: its cancellation flag is already raised
  // (LeaseTable); an executor that can stop a task by force does so after `grace_ms`.
  virtual void terminate(const std::string& id, Millis grace_ms) {
    (void)id;
    (void)grace_ms;
  }
  // The shutdown grace period ended: stop running tasks by force if possible.
  virtual void kill_running() {}
  // Whether hard time limits (TaskOptions::time_limit) are enforced.
  virtual bool hard_limits() const { return false; }
  // For an executor that drives(): how many run tasks now (the process pool: its children).
  virtual int pool_size() const { return 0; }
};

// Runs each task on the calling thread (the default thread pool: one executor thread per
// slot). REQUIRES: `app` outlives the executor.
std::unique_ptr<Executor> new_thread_executor(const App& app, std::string worker_id);

}  // namespace runq::internal
