// The process pool (WorkerOptions::pool = kProcesses): an Executor that runs task bodies in
// long-lived child processes forked by a Zygote, so that a task that crashes, leaks or loops
// ends only its own attempt.
//
// Each child has one AF_UNIX stream socket to the worker (wire.hpp frames) and one *driver*
// thread in the worker, which does everything for it: takes tasks from the TaskFlow (the
// worker's fetcher, leases and settler), writes them to the child's socket, reads outcomes
// and settles them, and replaces the child when it ends. A driver keeps up to `depth` tasks
// in flight so the child never waits for the worker between tasks: it writes every task it
// took in one send, and reads every outcome a read brought before taking more. It only takes
// a second task while no other child is idle, so an idle child is used before a busy one
// queues work. One thread per child, and no hand-off between threads per task: this is what
// makes the pool cheap for short tasks.
//
// When a child's socket ends, its driver gets the wait status from the zygote, settles the
// task that was running as a crash (TaskRunner::aborted), forks a replacement and hands it
// the tasks that had not started. A timer thread enforces hard time limits and
// revoke-with-terminate (SIGTERM, then SIGKILL after `term_grace_ms`), and autoscaling.
//
// Autoscale (`min_children` < `children`): the pool starts `min_children` children; the
// timer adds one (up to `children`) when every child is busy and tasks wait in the worker's
// buffer; a child idle for `idle_ms` retires (down to `min_children`).
//
// Thread safety: drive() and join() are called once each, by the worker; terminate(),
// kill_running() and stats() from any thread. Each child's shared state has its own lock.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "app/task_runner.hpp"
#include "core/mutex.hpp"
#include "worker/internal/child_main.hpp"
#include "worker/internal/executor.hpp"
#include "worker/internal/zygote.hpp"

namespace runq::internal {

class FrameReader;

struct ProcessPoolOptions {
  int children = 1;           // the most children (--concurrency, or autoscale's MAX)
  int min_children = -1;      // autoscale's MIN; < 0: no autoscale (always `children`)
  Millis idle_ms = 10'000;    // autoscale: a child idle this long retires
  int depth = 2;              // tasks in flight per child (>= 1)
  Millis term_grace_ms = 50;  // SIGTERM → SIGKILL at a hard time limit
  ChildOptions child;
  // Called once, from a driver thread, if the zygote died: no child can be forked any more
  // and the worker should stop.
  std::function<void()> on_lost;
};

// Replacement statistics, for diagnostics and benchmarks.
struct ProcessPoolStats {
  std::uint64_t crashes = 0;   // children that ended while running a task (any cause)
  std::uint64_t recycled = 0;  // children that retired (max tasks / memory)
  std::uint64_t grown = 0;     // autoscale: children added
  std::uint64_t shrunk = 0;    // autoscale: idle children retired
  int children = 0;            // children running now
  // Time from noticing a child's end to its replacement being ready to read tasks, in µs.
  std::vector<std::int64_t> replacement_us;
};

class ProcessExecutor final : public Executor {
 public:
  // Forks the zygote (REQUIRES: before the worker starts threads; see Zygote::start), then
  // the first children. Errors: those of Zygote::start and Zygote::spawn.
  // Each child forgets the store handle the App had open at the fork
  // (App::forget_store_after_fork), so task code that enqueues opens its own.
  static Result<std::unique_ptr<ProcessExecutor>> start(App& app, std::string worker_id,
                                                        ProcessPoolOptions opts);
  // Closes every child's socket (children exit), joins the threads, then stops the zygote.
  // Never waits for a child or the zygote without a bound. REQUIRES: join() returned, or
  // drive() was never called.
  ~ProcessExecutor() override;

  bool drives() const override { return true; }
  void drive(TaskFlow& flow) override;
  void join() override;
  RunOutcome run(int slot, const Delivery& d, std::stop_token stop,
                 const std::function<void(double)>& progress) override;
  // Revoke with terminate: the child running `id` is killed `grace_ms` from now (or from when
  // the task starts, if it is queued in a child); the attempt ends REVOKED.
  void terminate(const std::string& id, Millis grace_ms) override;
  // Kills every child that runs a task (shutdown after the grace period) and forks no more;
  // those attempts, and the tasks queued behind them, end with Outcome::kRelease and are
  // delivered again.
  void kill_running() override;
  bool hard_limits() const override { return true; }
  int pool_size() const override { return stats().children; }

  ProcessPoolStats stats() const;

 private:
  using Steady = std::chrono::steady_clock;
  struct Job;
  // One child process slot: the child, its driver, and the tasks in flight to it.
  struct Child {
    int index = 0;
    std::thread driver;
    Mutex mu;
    pid_t pid RUNQ_GUARDED_BY(mu) = -1;
    int fd RUNQ_GUARDED_BY(mu) = -1;
    bool up RUNQ_GUARDED_BY(mu) = false;
    std::deque<std::unique_ptr<Job>> inflight RUNQ_GUARDED_BY(mu);  // in order sent; front runs
    std::atomic<bool> active{false};  // a driver runs for this slot (autoscale)
    bool retiring = false;            // driver only: the child said it retires
    bool counted_empty = true;        // driver only: counted in empty_drivers_
  };

  ProcessExecutor(const App& app, std::string worker_id, ProcessPoolOptions opts);
  bool autoscale() const { return opts_.min_children >= 0 && opts_.min_children < opts_.children; }
  void drive_loop(Child& c);
  // Reads one or more frames; false when the child's socket ended (handled: replaced or not).
  bool read_frames(Child& c, FrameReader& reader);
  bool check_idle(Child& c, std::unique_ptr<FrameReader>& reader, int& fd);
  // How often an idle driver looks at its child.
  static constexpr std::chrono::seconds kIdleCheck{1};
  void complete_front(Child& c, std::uint64_t seq, RunOutcome out);
  // The child's socket ended: settles what it ran, replaces it (unless stopping). Returns
  // the new socket, or -1.
  int child_ended(Child& c, bool retiring);
  bool spawn(Child& c);
  void release_all(Child& c);
  bool try_retire(Child& c) RUNQ_EXCLUDES(scale_mu_);
  void report_lost();
  void timer_loop();
  void scale() RUNQ_EXCLUDES(scale_mu_);
  void start_driver(Child& c);
  // Keeps empty_drivers_ in step with whether `c`'s driver has nothing in flight.
  void set_empty(Child& c, bool empty);
  void send_run(Child& c, Job& j) RUNQ_REQUIRES(c.mu);
  void signal_cancel(Child& c, Job& j) RUNQ_REQUIRES(c.mu);
  void start_front(Child& c, Steady::time_point now) RUNQ_REQUIRES(c.mu);
  void kill_job(Child& c, Job& j, AbortKind kind, std::string cause, Steady::time_point now)
      RUNQ_REQUIRES(c.mu);

  const App& app_;
  TaskRunner runner_;
  const ProcessPoolOptions opts_;
  std::unique_ptr<Zygote> zygote_;
  std::vector<std::unique_ptr<Child>> children_;  // opts_.children slots
  TaskFlow* flow_ = nullptr;                      // set by drive()
  std::thread timer_;
  std::atomic<bool> stopping_{false};     // the destructor runs
  std::atomic<bool> killing_all_{false};  // kill_running() was called: no more forks
  std::atomic<bool> flow_done_{false};    // the flow stopped handing out tasks
  std::atomic<bool> lost_reported_{false};
  std::atomic<int> idle_drivers_{0};  // drivers waiting for a task with nothing in flight
  // Drivers with nothing in flight, including those starting: a driver takes a second task
  // only while this is 0, so tasks never queue behind one child while another is free.
  std::atomic<int> empty_drivers_{0};
  std::atomic<std::uint64_t> next_seq_{1};
  Mutex scale_mu_;  // starting and retiring drivers (autoscale), join()
  bool joining_ RUNQ_GUARDED_BY(scale_mu_) = false;

  mutable Mutex stats_mu_;
  ProcessPoolStats stats_ RUNQ_GUARDED_BY(stats_mu_);
};

}  // namespace runq::internal
