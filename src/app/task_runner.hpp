// TaskRunner: turns one Delivery into one Settlement. Decodes the message, checks expiry and
// the registry, binds arguments, runs the body, and decides between success, retry, failure
// and dead-letter. Shared by the Worker and eager mode, so both behave identically.
//
// Thread safety: run() may be called concurrently; the runner holds no mutable state.
#pragma once

#include <functional>
#include <stop_token>
#include <string>

#include "runq/store.hpp"

namespace runq {
class App;
}

namespace runq::internal {

// Why an attempt ended without its body returning (the process pool's child ended under it).
enum class AbortKind {
  kCrash,      // the child died: a signal, exit(), std::terminate, the OOM killer
  kTimeLimit,  // the hard time limit passed; the child was killed
  kRevoked,    // revoked with terminate; the child was killed
  kRefused,    // not started: a hard time limit the thread pool cannot enforce (FAILURE)
};

// The time limits of one task message: the message's own (set at enqueue), else the
// registered task's. 0 = none.
struct TaskLimits {
  Millis hard_ms = 0;
  Millis soft_ms = 0;
};

struct RunOutcome {
  Settlement settlement;
  bool counted_failure = false;  // ended FAILURE
};

class TaskRunner {
 public:
  TaskRunner(const App& app, std::string worker_id) : app_(app), worker_id_(std::move(worker_id)) {}

  // Runs `d` to completion. `progress` receives Context::progress() calls; `stop` is the
  // task's cancellation token. Never throws.
  RunOutcome run(const Delivery& d, std::stop_token stop,
                 const std::function<void(double)>& progress) const;

  // The outcome of an attempt of `d` that ended without its body returning, `cause` saying
  // how ("worker process crashed: signal 11 (SIGSEGV)", "time limit exceeded (2s)"). A crash
  // counts in the message's `crashes`; the crash_limit-th dead-letters the task with
  // "crashed its worker process N times (last: `last`)". Crashes and time limits are failed
  // attempts, retried under max_retries; a revoke ends REVOKED. Never throws.
  // `started`: when the attempt started (clock ms; 0 = unknown).
  RunOutcome aborted(const Delivery& d, AbortKind kind, const std::string& cause,
                     const std::string& last, Millis started = 0) const;

  // The limits of `d` (a body the store handed out). A body that does not decode has none.
  TaskLimits limits(const Delivery& d) const;

 private:
  const App& app_;
  std::string worker_id_;
};

}  // namespace runq::internal
