// runq/worker.hpp — the consumer: reserves tasks from a store, runs them on a thread pool,
// keeps their leases alive, stores results, retries failures.
//
// Threads: N executor threads, one of which at a time also fetches (reserve, or when idle
// Store::wait_and_reserve, then runs the first task it got itself), one settler (batches
// results into Store::settle), one lease keeper (extends the leases of every reserved task and
// heartbeats the worker registry).
//
// Shutdown (VISION §4): request_stop() stops reserving, releases reserved-but-unstarted tasks
// at once, and lets running tasks finish within `grace`; tasks still running after the grace
// are cancelled via their Context and left to their leases. Thread safety: request_stop() may
// be called from any thread (or a signal-handling thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runq/clock.hpp"
#include "runq/status.hpp"

namespace runq {

class App;

struct WorkerOptions {
  // Executor threads [number of CPU cores]. I/O-bound tasks can use many more.
  int concurrency = 0;
  // Queues to consume, in order of preference ["default"].
  std::vector<std::string> queues = {"default"};
  // Lease per delivery [30 s]; extended every lease/3 while the task runs. Shorter = faster
  // redelivery after a crash, more extend traffic.
  Millis lease_ms = 30'000;
  // Tasks reserved beyond those running [-1 = adaptive]. Adaptive keeps about 20 ms of work
  // per thread in the buffer, between 2 × concurrency and 256: short tasks are reserved in
  // large batches (few store round trips), long tasks are not hoarded away from other
  // workers. A fixed value >= 0 disables the adaptation. The buffer is refilled in batches of
  // about half its capacity.
  int prefetch = -1;
  // How long running tasks may finish after a stop request [30 s].
  Millis grace_ms = 30'000;
  // Heartbeat interval of the worker registry [2 s].
  Millis heartbeat_ms = 2'000;
  // Largest batch of results written in one Store::settle call [512].
  int settle_batch = 512;
  // Also run the app's periodic scheduler (App::periodic schedules) on its own thread for
  // the worker's lifetime, as `worker --beat` does [false]. start() registers the schedules
  // (InvalidArgument for bad ones); wait() stops the scheduler. With no schedules registered
  // it logs a line and runs without. Any number of schedulers may run: each tick fires once.
  bool beat = false;
  // Stop after this many tasks were settled [0 = never]. For tests and benchmarks.
  std::uint64_t max_tasks = 0;
  // Worker id in the registry ["HOST:PID:RANDOM"].
  std::string id;
};

struct WorkerCounters {
  std::uint64_t processed = 0;  // settled (any outcome)
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;  // FAILURE
  std::uint64_t retried = 0;
  std::uint64_t dead = 0;
  std::uint64_t refused = 0;  // settlements refused as stale
  int running = 0;
};

class Worker {
 public:
  // REQUIRES: `app` outlives the worker.
  Worker(App& app, WorkerOptions options);
  ~Worker();  // request_stop() + wait()
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Starts the threads. Errors: the store could not be opened, or no queues.
  Status start();
  // Graceful stop (see the file comment). Returns at once; wait() joins.
  void request_stop();
  // Blocks until the worker stopped (after request_stop(), or max_tasks reached).
  void wait();
  // start() + wait().
  Status run();

  WorkerCounters counters() const;
  const std::string& id() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace runq
