#include "worker/internal/executor_pool.hpp"

#include <algorithm>
#include <chrono>

#include "core/duration.hpp"
#include "core/message.hpp"
#include "core/message_scan.hpp"
#include "runq/app.hpp"
#include "worker/internal/log.hpp"

namespace runq::internal {
namespace {

Activity::Kind kind_of(const Settlement& s) {
  switch (s.outcome) {
    case Outcome::kRetry:
      return Activity::Kind::kRetried;
    case Outcome::kDeadLetter:
      return Activity::Kind::kDead;
    case Outcome::kRelease:
      return Activity::Kind::kReleased;
    case Outcome::kAck:
      break;
  }
  switch (s.state) {
    case TaskState::kFailure:
      return Activity::Kind::kFailed;
    case TaskState::kRevoked:
      return Activity::Kind::kRevoked;
    case TaskState::kExpired:
      return Activity::Kind::kExpired;
    default:
      return Activity::Kind::kSucceeded;
  }
}

}  // namespace
namespace {

class ThreadExecutor final : public Executor {
 public:
  ThreadExecutor(const App& app, std::string worker_id) : runner_(app, std::move(worker_id)) {}

  RunOutcome run(int, const Delivery& d, std::stop_token stop,
                 const std::function<void(double)>& progress) override {
    return runner_.run(d, std::move(stop), progress);
  }

 private:
  TaskRunner runner_;
};

}  // namespace

std::unique_ptr<Executor> new_thread_executor(const App& app, std::string worker_id) {
  return std::make_unique<ThreadExecutor>(app, std::move(worker_id));
}

void ExecutorPool::start(int n) {
  if (executor_.drives()) {
    driven_ = true;
    executor_.drive(*this);
    return;
  }
  for (int slot = 0; slot < n; ++slot) threads_.emplace_back([this, slot] { execute_loop(slot); });
}

void ExecutorPool::join() {
  if (driven_) {
    executor_.join();
    driven_ = false;
  }
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void ExecutorPool::record_start(const Delivery& d) {
  TaskMessage m;
  if (!scan_message(d.body, &m, nullptr)) {
    Result<TaskMessage> full = decode_message(d.body);
    if (!full.ok()) return;  // the runner dead-letters it; nothing ran
    m = std::move(full).value();
  }
  const Millis now = app_.clock().now_ms();
  activity_.started(d.id, m.name, now - std::max(m.created, m.eta), now);
}

std::optional<Delivery> ExecutorPool::next(bool wait, std::chrono::steady_clock::time_point until) {
  return wait ? fetcher_.next_until(until) : fetcher_.try_next();
}

bool ExecutorPool::stopping() const { return fetcher_.stopping(); }

std::size_t ExecutorPool::waiting() const { return fetcher_.waiting(); }

// The executor reads and enforces the limits itself (hard_limits()).
TaskFlow::Begun ExecutorPool::begin(const Delivery& d) {
  Begun b;
  std::optional<LeaseTable::Started> started = start_or_drop(d, 0);
  if (!started) {
    b.dropped = true;
    return b;
  }
  b.stop = std::move(started->stop);
  record_start(d);
  if (started->revoked)
    b.skip = runner_.aborted(d, AbortKind::kRevoked, "revoked before it started", "");
  return b;
}

void ExecutorPool::end(const Delivery& d, RunOutcome out, std::chrono::steady_clock::duration ran) {
  revoke_after_run(d, out);
  fetcher_.finished(ran);
  activity_.finished(d.id, kind_of(out.settlement),
                     std::chrono::duration_cast<std::chrono::milliseconds>(ran).count(),
                     app_.clock().now_ms());
  settler_.push(std::move(out.settlement), out.counted_failure);
}

void ExecutorPool::progress(const Delivery& d, double fraction) {
  (void)store_.set_progress(LeaseRef{d.id, d.token}, std::clamp(fraction, 0.0, 1.0));
}

std::optional<LeaseTable::Started> ExecutorPool::start_or_drop(const Delivery& d, Millis deadline) {
  std::optional<LeaseTable::Started> started = leases_.start(d, app_.clock().now_ms(), deadline);
  if (!started) {
    // Its lease lapsed while it waited here (the process was stopped, or starved): another
    // worker may be running it already, so it is not started; the store redelivers it.
    fetcher_.finished(std::chrono::steady_clock::duration::zero());
    skipped_lapsed_.fetch_add(1, std::memory_order_relaxed);
  }
  return started;
}

void ExecutorPool::execute_loop(int slot) {
  while (std::optional<Delivery> next = fetcher_.next()) {
    const Delivery& d = *next;
    // The process pool reads the limits itself (and enforces both in its children).
    TaskLimits limits = executor_.hard_limits() ? TaskLimits{} : runner_.limits(d);
    // Threads get the soft limit here, or the hard one standing in for it.
    Millis soft = limits.soft_ms;
    if (limits.hard_ms > 0 && (soft <= 0 || limits.hard_ms < soft)) soft = limits.hard_ms;
    Millis last_progress = 0;
    auto progress = [&](double f) {
      Millis now = app_.clock().now_ms();
      if (now - last_progress < 200 && f < 1.0) return;  // a few updates a second at most
      last_progress = now;
      (void)store_.set_progress(LeaseRef{d.id, d.token}, std::clamp(f, 0.0, 1.0));
    };
    std::optional<LeaseTable::Started> started =
        start_or_drop(d, soft > 0 ? app_.clock().now_ms() + soft : 0);
    if (!started) continue;
    record_start(d);
    auto t0 = std::chrono::steady_clock::now();
    RunOutcome out;
    if (started->revoked) {
      // Revoked before it started: it never runs.
      out = runner_.aborted(d, AbortKind::kRevoked, "revoked before it started", "");
    } else {
      out = execute(slot, d, limits, std::move(started->stop), progress);
      revoke_after_run(d, out);
    }
    const auto took = std::chrono::steady_clock::now() - t0;
    fetcher_.finished(took);
    activity_.finished(d.id, kind_of(out.settlement),
                       std::chrono::duration_cast<std::chrono::milliseconds>(took).count(),
                       app_.clock().now_ms());
    settler_.push(std::move(out.settlement), out.counted_failure);
  }
}

// Revoked while it ran: with terminate it ends REVOKED however it ended; without, a retry is
// not scheduled.
void ExecutorPool::revoke_after_run(const Delivery& d, RunOutcome& out) {
  std::optional<bool> terminate = leases_.revoked(d.id);
  const Outcome o = out.settlement.outcome;
  if (terminate && o != Outcome::kRelease && (*terminate || o == Outcome::kRetry)) {
    out = runner_.aborted(
        d, AbortKind::kRevoked,
        *terminate ? "revoked and terminated while running" : "revoked while running; not retried",
        "");
  }
}

RunOutcome ExecutorPool::execute(int slot, const Delivery& d, const TaskLimits& limits,
                                 std::stop_token stop,
                                 const std::function<void(double)>& progress) {
  if (limits.hard_ms > 0 && !executor_.hard_limits()) {
    if (require_hard_limits_) {
      return runner_.aborted(d, AbortKind::kRefused,
                             "hard time limit (" + format_duration(limits.hard_ms) +
                                 ") cannot be enforced by the thread pool; run the worker with "
                                 "--pool processes",
                             "");
    }
    if (!warned_hard_limit_.exchange(true)) {
      log_line("a task has a hard time limit (" + format_duration(limits.hard_ms) +
               "), which the thread pool cannot enforce: it acts as a soft limit. Use --pool "
               "processes to enforce it, or --require-hard-limits to refuse such tasks");
    }
  }
  return executor_.run(slot, d, std::move(stop), progress);
}

}  // namespace runq::internal
