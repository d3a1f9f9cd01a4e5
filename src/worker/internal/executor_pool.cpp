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

void ExecutorPool::start(int n, int min_threads, Millis idle_ms) {
  if (executor_.drives()) {
    driven_ = true;
    executor_.drive(*this);
    return;
  }
  max_threads_ = std::max(1, n);
  min_threads_ = min_threads >= 1 && min_threads < max_threads_ ? min_threads : -1;
  idle_ms_ = std::max<Millis>(10, idle_ms);
  const int initial = autoscaled() ? min_threads_ : max_threads_;
  {
    MutexLock lock(scale_mu_);
    slots_.resize(static_cast<std::size_t>(max_threads_));
    for (int slot = 0; slot < initial; ++slot) {
      slots_[slot].active = true;
      slots_[slot].thread = std::thread([this, slot] { execute_loop(slot); });
    }
    active_ = initial;
  }
  if (autoscaled()) scaler_ = std::thread([this] { scale_loop(); });
}

void ExecutorPool::join() {
  if (driven_ && !executor_joined_) {
    executor_.join();
    executor_joined_ = true;
  }
  {
    MutexLock lock(scale_mu_);
    joining_ = true;
  }
  scale_cv_.notify_all();
  if (scaler_.joinable()) scaler_.join();
  // No thread is added from here on, and none retires (retire() sees joining_).
  std::vector<std::thread> threads;
  {
    MutexLock lock(scale_mu_);
    for (Slot& s : slots_) {
      if (s.thread.joinable()) threads.push_back(std::move(s.thread));
    }
  }
  for (auto& t : threads) t.join();
}

int ExecutorPool::size() const {
  if (driven_) return executor_.pool_size();
  MutexLock lock(scale_mu_);
  return active_;
}

bool ExecutorPool::retire(int slot) {
  MutexLock lock(scale_mu_);
  if (joining_ || active_ <= min_threads_) return false;
  slots_[slot].active = false;
  --active_;
  return true;
}

void ExecutorPool::scale_loop() {
  for (;;) {
    {
      MutexLock lock(scale_mu_);
      if (!joining_) scale_cv_.wait_for(scale_mu_, std::chrono::milliseconds(100));
      if (joining_) return;
    }
    if (fetcher_.stopping()) continue;  // no growth while stopping; join() ends the loop
    // Read before taking scale_mu_ (no nesting): a snapshot is enough to decide on one thread.
    const std::size_t waiting = fetcher_.waiting();
    const int running = fetcher_.running();
    std::thread ended;  // the previous thread of the slot reused, joined outside the lock
    {
      MutexLock lock(scale_mu_);
      if (joining_ || active_ >= max_threads_ || waiting == 0 || running < active_) continue;
      auto free_slot =
          std::find_if(slots_.begin(), slots_.end(), [](const Slot& s) { return !s.active; });
      if (free_slot == slots_.end()) continue;
      const int slot = static_cast<int>(free_slot - slots_.begin());
      ended = std::move(free_slot->thread);  // retired: it returns without taking a lock
      free_slot->active = true;
      free_slot->thread = std::thread([this, slot] { execute_loop(slot); });
      ++active_;
    }
    if (ended.joinable()) ended.join();
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
  for (;;) {
    std::optional<Delivery> next = autoscaled()
                                       ? fetcher_.next_until(std::chrono::steady_clock::now() +
                                                             std::chrono::milliseconds(idle_ms_))
                                       : fetcher_.next();
    if (next) {
      run_one(slot, *next);
      continue;
    }
    // No task: the worker stops, or (autoscale) none came for idle_ms.
    if (!autoscaled() || fetcher_.stopping() || retire(slot)) return;
  }
}

void ExecutorPool::run_one(int slot, const Delivery& d) {
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
  if (!started) return;
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
