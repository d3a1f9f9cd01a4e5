#include "worker/internal/fetcher.hpp"

#include <algorithm>

#include "worker/internal/log.hpp"

namespace runq::internal {

Fetcher::Fetcher(Store& store, const Clock& clock, LeaseTable& leases, Settler& settler,
                 FetcherOptions opts)
    : store_(store),
      clock_(clock),
      leases_(leases),
      settler_(settler),
      opts_(std::move(opts)),
      adaptive_prefetch_(opts_.prefetch < 0),
      min_prefetch_(adaptive_prefetch_ ? std::max(4, 2 * opts_.concurrency) : opts_.prefetch) {}

// ---- prefetch ---------------------------------------------------------------------------

int Fetcher::prefetch() const {
  if (!adaptive_prefetch_) return min_prefetch_;
  double target = opts_.concurrency * 20'000.0 / std::max(avg_run_us_, 1.0);
  return std::clamp(static_cast<int>(target), min_prefetch_, kMaxAdaptivePrefetch);
}

// Refill in batches: reserving one task each time one finishes would cost a store round trip
// per task. An empty buffer is refilled at once (executors may be idle).
bool Fetcher::should_refill() const {
  int free = room();
  return free >= std::max(1, capacity() / 2) || (buffer_.empty() && free > 0);
}

// Whether the calling executor should take the fetch role now: the buffer is empty, or it runs
// low and the last reserve found work.
bool Fetcher::should_fetch() const {
  if (fetching_ || stopping_ || room() <= 0) return false;
  return buffer_.empty() || (should_refill() && !idle_);
}

Delivery Fetcher::pop() {
  Delivery d = std::move(buffer_.front());
  buffer_.pop_front();
  ++running_;
  return d;
}

// ---- executors' side --------------------------------------------------------------------

std::optional<Delivery> Fetcher::next() {
  while (true) {
    {
      MutexLock lock(mu_);
      while (buffer_.empty() && !stopping_ && !should_fetch()) work_cv_.wait(mu_);
      if (!should_fetch()) {
        if (buffer_.empty()) return std::nullopt;  // stopping
        return pop();
      }
      fetching_ = true;
    }
    if (std::optional<Delivery> mine = fetch_as_leader()) return mine;
  }
}

std::optional<Delivery> Fetcher::next_until(std::chrono::steady_clock::time_point until) {
  while (true) {
    {
      MutexLock lock(mu_);
      while (buffer_.empty() && !stopping_ && !should_fetch()) {
        if (!work_cv_.wait_until(mu_, until) && buffer_.empty() && !should_fetch())
          return std::nullopt;
      }
      if (!should_fetch()) {
        if (buffer_.empty()) return std::nullopt;  // stopping
        return pop();
      }
      fetching_ = true;
    }
    if (std::optional<Delivery> mine = fetch_as_leader(false, until)) return mine;
    if (std::chrono::steady_clock::now() >= until) return std::nullopt;
  }
}

std::optional<Delivery> Fetcher::try_next() {
  {
    MutexLock lock(mu_);
    if (stopping_) return std::nullopt;
    if (!should_fetch() || (idle_ && buffer_.empty())) {
      if (buffer_.empty()) return std::nullopt;
      return pop();
    }
    fetching_ = true;
  }
  if (std::optional<Delivery> mine = fetch_as_leader(true)) return mine;
  MutexLock lock(mu_);
  if (buffer_.empty() || stopping_) return std::nullopt;
  return pop();
}

std::size_t Fetcher::waiting() const {
  MutexLock lock(mu_);
  return buffer_.size();
}

void Fetcher::finished(std::chrono::steady_clock::duration run_time) {
  bool wake_waiters;
  {
    MutexLock lock(mu_);
    --running_;
    double us = std::chrono::duration<double, std::micro>(run_time).count();
    avg_run_us_ = 0.9 * avg_run_us_ + 0.1 * us;
    wake_waiters = stopping_;
  }
  if (wake_waiters) state_cv_.notify_all();
}

// ---- the fetch role ---------------------------------------------------------------------

// Called by the role holder, without mu_. Reserves until it gets tasks, the worker stops, or
// there is buffered work to do instead; then gives up the role. Returns the first task it got,
// already counted as running, if any.
std::optional<Delivery> Fetcher::fetch_as_leader(bool once,
                                                 std::chrono::steady_clock::time_point until) {
  while (true) {
    // Backpressure: while finished tasks' results wait to be written beyond two settle
    // batches, reserving more would only pile up leases to keep alive (with a deep backlog
    // they lapsed and tasks ran twice). Waits for the settler, checking for a stop.
    bool backlog = false;
    while (!settler_.wait_backlog_below(kSettleBacklogLimit,
                                        std::chrono::milliseconds(once ? 0 : 200))) {
      MutexLock lock(mu_);
      if (stopping_ || once) {
        backlog = true;
        break;
      }
    }
    ReserveRequest req{opts_.queues, opts_.worker_id, 0, opts_.lease_ms, clock_.now_ms()};
    bool block;
    {
      MutexLock lock(mu_);
      req.max = room();
      if (stopping_ || backlog || req.max <= 0 || (idle_ && !buffer_.empty()) ||
          (idle_ && (once || std::chrono::steady_clock::now() >= until))) {
        fetching_ = false;
        work_cv_.notify_one();  // the role is free again
        return std::nullopt;
      }
      block = idle_;
    }
    Result<std::vector<Delivery>> got =
        block ? store_.wait_and_reserve(req, kIdleWaitMs, clock_) : store_.reserve(req);
    if (!got.ok()) {
      log_line("reserving tasks failed (retrying in " + std::to_string(fetch_backoff_ms_) +
               " ms): " + got.status().to_string());
      if (once) {
        MutexLock lock(mu_);
        fetching_ = false;
        work_cv_.notify_one();
        return std::nullopt;
      }
      sleep_unless_stopping(fetch_backoff_ms_);
      fetch_backoff_ms_ = std::min(fetch_backoff_ms_ * 2, 5000);
      MutexLock lock(mu_);
      idle_ = false;
      continue;
    }
    fetch_backoff_ms_ = 50;
    if (!got->empty()) return take_batch(std::move(got).value());
    MutexLock lock(mu_);
    idle_ = true;
  }
}

// Buffers a reserved batch, gives up the fetch role and returns the first task for the
// calling thread (no hand-off: it is the one that was waiting for it).
std::optional<Delivery> Fetcher::take_batch(std::vector<Delivery> batch) {
  // Leases first, outside mu_: the lease keeper must extend every task from here on, and
  // mu_ stays short for the executors waiting on it.
  leases_.add(batch);
  std::vector<Delivery> released;
  std::optional<Delivery> mine;
  std::size_t wake = 0;
  {
    MutexLock lock(mu_);
    fetching_ = false;
    idle_ = false;
    if (stopping_) {
      released = std::move(batch);
    } else {
      for (Delivery& d : batch) buffer_.push_back(std::move(d));
    }
    if (!buffer_.empty()) mine = pop();
    // One executor per buffered task, and one more to take the fetch role when it is due;
    // waking all of them would have the extra ones fight over mu_ for nothing.
    wake = buffer_.size() + (should_fetch() ? 1 : 0);
  }
  if (wake >= std::size_t(opts_.concurrency)) {
    work_cv_.notify_all();
  } else {
    for (std::size_t i = 0; i < wake; ++i) work_cv_.notify_one();
  }
  settler_.release(released);
  return mine;
}

void Fetcher::sleep_unless_stopping(int ms) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  MutexLock lock(mu_);
  while (!stopping_ && state_cv_.wait_until(mu_, until)) {
  }
}

// ---- shutdown ---------------------------------------------------------------------------

bool Fetcher::stop() {
  std::vector<Delivery> released;
  {
    MutexLock lock(mu_);
    if (stopping_) return false;
    stopping_ = true;
    stop_requested_at_ = clock_.now_ms();
    released.assign(std::make_move_iterator(buffer_.begin()),
                    std::make_move_iterator(buffer_.end()));
    buffer_.clear();
  }
  notify_all();
  settler_.release(released);
  return true;
}

Millis Fetcher::wait_stop_requested() {
  MutexLock lock(mu_);
  while (!stopping_) state_cv_.wait(mu_);
  return stop_requested_at_;
}

bool Fetcher::wait_drained_for(std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(mu_);
  while (!drained()) {
    if (!state_cv_.wait_until(mu_, until)) return drained();
  }
  return true;
}

void Fetcher::wait_drained() {
  MutexLock lock(mu_);
  while (!drained()) state_cv_.wait(mu_);
}

int Fetcher::running() const {
  MutexLock lock(mu_);
  return running_;
}

bool Fetcher::stopping() const {
  MutexLock lock(mu_);
  return stopping_;
}

void Fetcher::notify_all() {
  work_cv_.notify_all();
  state_cv_.notify_all();
}

}  // namespace runq::internal
