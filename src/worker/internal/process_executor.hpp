// The process pool (WorkerOptions::pool = kProcesses): an Executor that runs task bodies in
// long-lived child processes forked by a Zygote, so that a task that crashes, leaks or loops
// ends only its own attempt.
//
// Each child has one AF_UNIX stream socket to the worker (wire.hpp frames) and up to `depth`
// tasks in flight: while it runs one, the next is already in its socket, so a child never
// waits for the worker between tasks. The worker runs children × depth executor threads; each
// task goes to the child with the fewest tasks in flight, so an idle child is always used
// before a busy one gets a second task.
//
// Per child, a reader thread reads outcomes and progress, and when the child's socket ends it
// gets the child's wait status from the zygote, settles the task that was running as a crash
// (TaskRunner::aborted), forks a replacement and hands it the tasks that had not started. A
// timer thread enforces hard time limits and revoke-with-terminate: SIGTERM, then SIGKILL
// after `term_grace_ms`.
//
// Thread safety: run() is called concurrently by the executor threads; terminate() and
// kill_running() from any thread. Each child's state has its own lock.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <deque>
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

struct ProcessPoolOptions {
  int children = 1;
  int depth = 2;              // tasks in flight per child (>= 1)
  Millis term_grace_ms = 50;  // SIGTERM → SIGKILL at a hard time limit
  ChildOptions child;
};

// Replacement statistics, for diagnostics and benchmarks.
struct ProcessPoolStats {
  std::uint64_t crashes = 0;   // children that ended while running a task (any cause)
  std::uint64_t recycled = 0;  // children that retired (max tasks / memory)
  // Time from noticing a child's end to its replacement being ready to read tasks, in µs.
  std::vector<std::int64_t> replacement_us;
};

class ProcessExecutor final : public Executor {
 public:
  // Forks the zygote (REQUIRES: before the worker starts threads; see Zygote::start), then
  // the children. Errors: those of Zygote::start and Zygote::spawn.
  static Result<std::unique_ptr<ProcessExecutor>> start(const App& app, std::string worker_id,
                                                        ProcessPoolOptions opts);
  // Closes every child's socket (children finish the task they run and exit), joins the
  // threads, then stops the zygote. REQUIRES: no run() in progress.
  ~ProcessExecutor() override;

  RunOutcome run(int slot, const Delivery& d, std::stop_token stop,
                 const std::function<void(double)>& progress) override;
  // Revoke with terminate: the child running `id` is killed `grace_ms` from now (or from when
  // the task starts, if it is queued in a child); the attempt ends REVOKED.
  void terminate(const std::string& id, Millis grace_ms) override;
  // Kills every child that runs a task (shutdown after the grace period); those attempts end
  // with Outcome::kRelease and are delivered again.
  void kill_running() override;
  bool hard_limits() const override { return true; }

  ProcessPoolStats stats() const;

 private:
  using Steady = std::chrono::steady_clock;
  struct Job;
  // One child process and the tasks in flight to it.
  struct Child {
    int index = 0;
    std::thread reader;
    Mutex mu;
    CondVar cv;  // a job of this child got its outcome
    pid_t pid RUNQ_GUARDED_BY(mu) = -1;
    int fd RUNQ_GUARDED_BY(mu) = -1;
    bool up RUNQ_GUARDED_BY(mu) = false;
    std::deque<Job*> inflight RUNQ_GUARDED_BY(mu);  // in the order sent; front() runs
    int load = 0;  // tasks assigned, not returned; guarded by ProcessExecutor::assign_mu_
  };

  ProcessExecutor(const App& app, std::string worker_id, ProcessPoolOptions opts);
  // The child with the fewest tasks in flight (an idle one first), counted as one more.
  Child& assign() RUNQ_EXCLUDES(assign_mu_);
  void unassign(Child& c) RUNQ_EXCLUDES(assign_mu_);
  void reader_loop(Child& c);
  bool spawn(Child& c);
  void timer_loop();
  void send_run(Child& c, Job& j) RUNQ_REQUIRES(c.mu);
  void signal_cancel(Child& c, Job& j) RUNQ_REQUIRES(c.mu);
  void start_front(Child& c, Steady::time_point now) RUNQ_REQUIRES(c.mu);
  void kill_job(Child& c, Job& j, AbortKind kind, std::string cause, Steady::time_point now)
      RUNQ_REQUIRES(c.mu);

  const App& app_;
  TaskRunner runner_;
  const ProcessPoolOptions opts_;
  std::unique_ptr<Zygote> zygote_;
  std::vector<std::unique_ptr<Child>> children_;
  Mutex assign_mu_;
  std::thread timer_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> next_seq_{1};

  mutable Mutex stats_mu_;
  ProcessPoolStats stats_ RUNQ_GUARDED_BY(stats_mu_);
};

}  // namespace runq::internal
