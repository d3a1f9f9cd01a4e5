// Executor: runs the body of one delivered task to its outcome.
//
// This is the seam between the worker's own work (fetching, leases, settling, which stay on
// the worker's threads) and where task code runs. The thread executor runs it on the calling
// executor thread; a process pool would hand it to a child process and wait for the outcome.
//
// Thread safety: run() is called concurrently, by every executor thread, at most one call per
// `slot` at a time.
#pragma once

#include <functional>
#include <memory>
#include <stop_token>
#include <string>

#include "app/task_runner.hpp"
#include "runq/store.hpp"

namespace runq {
class App;
}

namespace runq::internal {

class Executor {
 public:
  virtual ~Executor() = default;

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
};

// Runs each task on the calling thread (the default thread pool: one executor thread per
// slot). REQUIRES: `app` outlives the executor.
std::unique_ptr<Executor> new_thread_executor(const App& app, std::string worker_id);

}  // namespace runq::internal
