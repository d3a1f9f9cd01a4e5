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
//
//   runq::Worker worker(app, {.concurrency = 8, .queues = {"emails", "default"}});
//   runq::Status s = worker.run();   // until another thread calls worker.request_stop()
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

// Where task bodies run (WorkerOptions::pool).
enum class WorkerPool {
  // Executor threads in the worker process [default]: fastest, but a task that crashes
  // (SIGSEGV, abort, exit) takes the worker and every task it holds down with it, and hard
  // time limits cannot be enforced.
  kThreads,
  // Long-lived child processes forked at start() (docs/workers.md): a crash ends only the
  // attempt that caused it, hard time limits kill the child, children can be recycled.
  // Task bodies run in a child: they must not rely on state the worker process changes after
  // start() (the children are copies of the process as it was then).
  kProcesses,
};

// Autoscaling of either pool (WorkerOptions::autoscale, `worker --autoscale MAX,MIN`): the
// worker starts `min` executor threads or children (at least 1); while every one has a task
// and more tasks wait in the worker's prefetch buffer it adds one about every 100 ms, up to
// WorkerOptions::concurrency; a thread or child that had no task for `idle_ms` ends, down to
// `min`. The worker reserves tasks for the most (concurrency) whatever runs now.
// WorkerCounters::pool_size says how many run.
struct WorkerAutoscale {
  int min = -1;             // fewest threads or children [-1 = off]; >= concurrency is off too
  Millis idle_ms = 10'000;  // an idle thread or child ends after this long [10 s]
};

// How a Worker runs. Plain values; defaults in brackets. Out-of-range values are adjusted
// as each field says, never rejected, except an empty `queues` (start() fails).
struct WorkerOptions {
  // Executor threads, or child processes with kProcesses [0 = the number of hardware
  // threads, at least 1]. Each runs one task at a time. I/O-bound tasks can use many more;
  // CPU-bound ones gain nothing beyond the cores.
  int concurrency = 0;
  // Queues to consume, in order of preference ["default"]: a task of an earlier queue is
  // always taken before any task of a later one. Must not be empty.
  std::vector<std::string> queues = {"default"};
  // Lease per delivery [30 s; values under 100 ms become 100 ms]; extended every lease/3
  // while the task runs. Shorter = faster redelivery after a crash, more extend traffic.
  // Keep it well above the longest stall the worker process may see (stopped, swapped
  // out): leases that lapse meanwhile are handed to other workers and those tasks run twice.
  Millis lease_ms = 30'000;
  // Tasks reserved beyond those running [-1 = adaptive]. Adaptive keeps about 20 ms of work
  // per thread in the buffer, between max(4, 2 × concurrency) and 256: short tasks are
  // reserved in large batches (few store round trips), long tasks are not hoarded away from
  // other workers. A fixed value >= 0 disables the adaptation. The buffer is refilled in
  // batches of about half its capacity.
  int prefetch = -1;
  // How long running tasks may finish after a stop request [30 s]. Set it above your
  // longest task to never cancel one at shutdown; below it, tasks still running are
  // cancelled (Context::cancelled()) and wait() waits until they return.
  Millis grace_ms = 30'000;
  // Heartbeat interval of the worker registry [2 s]. The worker is listed as alive (`runq
  // status`, StoreStats::workers) until max(3 × heartbeat_ms, 5 s) after its last beat.
  Millis heartbeat_ms = 2'000;
  // Largest batch of results written in one Store::settle call [512; values < 1 become 1].
  // Results that finish together are written together; larger batches mean fewer store
  // round trips under load and do not delay a lone result.
  int settle_batch = 512;
  // Also run the app's periodic scheduler (App::periodic schedules) on its own thread for
  // the worker's lifetime, as `worker --beat` does [false]. start() registers the schedules
  // (InvalidArgument for bad ones); wait() stops the scheduler. With no schedules registered
  // it logs a line and runs without. Any number of schedulers may run: each tick fires once.
  bool beat = false;
  // Stop (as request_stop()) once this many tasks were settled [0 = never]. Counts every
  // outcome (success, failure, retry, dead letter, refused), not released tasks; a few more
  // than max_tasks may still be running and get settled. For tests and benchmarks.
  std::uint64_t max_tasks = 0;
  // Threads or processes [kThreads]. With kProcesses, start() forks a zygote process before
  // the worker starts any thread, and the zygote forks `concurrency` children; call start()
  // from a thread that lives as long as the worker (the zygote dies with it).
  WorkerPool pool = WorkerPool::kThreads;
  // kProcesses: a child exits after this many tasks and is replaced [0 = never].
  std::uint64_t max_tasks_per_child = 0;
  // kProcesses: a child whose resident memory exceeds this many bytes after a task exits and
  // is replaced [0 = no limit]. The task it ran is not affected.
  std::uint64_t max_memory_per_child = 0;
  // kThreads: refuse (end FAILURE, error type runq::HardLimitUnsupported) tasks with a hard
  // time limit, which threads cannot enforce [false: run them, the limit acting as a soft
  // one, and warn once].
  bool require_hard_limits = false;
  // Revoke with terminate of a running task: its cancellation flag is raised at once; with
  // kProcesses its child is killed this long after [2 s]. The task ends REVOKED.
  Millis revoke_grace_ms = 2'000;
  // How often the worker reads the revoke requests of the tasks it holds, while it holds any
  // [50 ms; values < 10 become 10]. This bounds how long a `revoke --terminate` takes to
  // reach a running task. Each read is one store call (on Redis one script over the held
  // ids; on SQLite and PostgreSQL one read that stops at once when nothing is revoked).
  Millis revoke_poll_ms = 50;
  // Autoscale the executor threads (kThreads) or children (kProcesses) between
  // `autoscale.min` and `concurrency` (the most) [off]. See WorkerAutoscale.
  WorkerAutoscale autoscale;
  // Worker id in the registry and on the tasks it holds ["HOST:PID:RANDOM", RANDOM being 6
  // characters]. Must be unique among live workers of one store.
  std::string id;
};

// What a worker has done since start(), as counters(); a snapshot, consistent within itself.
struct WorkerCounters {
  std::uint64_t processed = 0;  // settled, any outcome (released tasks not counted)
  std::uint64_t succeeded = 0;  // stored as SUCCESS
  std::uint64_t failed = 0;     // ended FAILURE on this worker (counted when the body ended)
  std::uint64_t retried = 0;    // stored as RETRY
  std::uint64_t dead = 0;       // dead-lettered by this worker (undecodable, unknown task)
  std::uint64_t refused = 0;    // settlements refused as stale (the lease was taken over)
  std::uint64_t lapsed = 0;     // reserved but not started: the lease lapsed while it waited
                                // (process stopped or starved); the store redelivers it
  int running = 0;              // task bodies running right now
  int pool_size = 0;            // executor threads, or child processes, running now: between
                                // autoscale.min and concurrency with autoscale, else concurrency
};

// A consumer of one App's tasks. Create it after registering every task on the App, then
// start() it (or run() it); stop it with request_stop() from any thread.

class Worker {
 public:
  // Does not start anything or touch the store. REQUIRES: `app` outlives the worker, and
  // no task is registered on it after start().
  Worker(App& app, WorkerOptions options);
  // request_stop() + wait(): may block for the grace period and until cancelled tasks end.
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Opens the App's store, writes the first heartbeat and starts the threads; returns at
  // once. Errors: InvalidArgument (no queues); those of opening the store (see
  // open_store(): InvalidArgument, Unavailable, FailedPrecondition). On error no thread was
  // started. REQUIRES: called at most once.
  Status start();
  // Graceful stop (see the file comment): stops reserving and hands back reserved tasks not
  // yet started. Returns at once; wait() joins. Idempotent; any thread.
  void request_stop();
  // Blocks until the worker stopped (after request_stop(), or max_tasks reached), every
  // running task returned, and every result was written (retrying transient store
  // errors); then removes the worker from the registry. Without a stop request it
  // blocks indefinitely. Returns at once when called again.
  void wait();
  // start(), then wait() if it succeeded. Returns start()'s error, else OK.
  Status run();

  // A snapshot of the counters. Any thread, any time.
  WorkerCounters counters() const;
  // The worker id (WorkerOptions::id, or the generated one). Any thread.
  const std::string& id() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace runq
