// The worker: executors (one of which fetches at a time), settler and lease keeper around one
// Store.
//
// Fetching is a role, not a thread (leader/follower): an executor with nothing to run takes
// the role when no one holds it, reserves (or, when the last reserve came back empty, waits
// for work and reserves in one store call), runs the first task it got itself and leaves the
// rest in the buffer for the others. A task that arrives while the worker is idle therefore
// starts on the thread that received it, with no hand-off between threads.
//
// Thread safety / invariants (all guarded by mu_):
//   - every task this worker holds a lease on is in `held_` from reserve until its
//     settlement was applied (or refused), so the lease keeper extends exactly those leases;
//   - `buffer_` holds reserved tasks not yet started; buffer_.size() + running_ never exceeds
//     concurrency + prefetch;
//   - at most one executor holds the fetch role (`fetching_`); `idle_` and the fetch backoff
//     are touched only by the role holder;
//   - `settle_queue_` holds finished settlements not yet written; the settler writes them in
//     batches, retrying on Unavailable so a result is not lost when the store blips.
#include "runq/worker.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>
#include <unordered_map>

#include <unistd.h>

#include "app/task_runner.hpp"
#include "core/ids.hpp"
#include "runq/app.hpp"

namespace runq {
namespace {

struct Held {
  std::uint64_t token = 0;
  std::stop_source stop;
  Millis deadline = 0;  // soft time limit, 0 = none
  bool running = false;
};

void log_line(const std::string& line) { std::fprintf(stderr, "runq worker: %s\n", line.c_str()); }

}  // namespace

class Worker::Impl {
 public:
  Impl(App& app, WorkerOptions opts) : app_(app), opts_(std::move(opts)) {
    if (opts_.concurrency <= 0)
      opts_.concurrency = std::max(1u, std::thread::hardware_concurrency());
    adaptive_prefetch_ = opts_.prefetch < 0;
    if (adaptive_prefetch_) opts_.prefetch = std::max(4, 2 * opts_.concurrency);
    if (opts_.id.empty()) opts_.id = internal::new_worker_id();
    opts_.lease_ms = std::max<Millis>(opts_.lease_ms, 100);
    opts_.settle_batch = std::max(1, opts_.settle_batch);
  }

  Status start() {
    if (opts_.queues.empty()) return invalid_argument_error("starting worker: no queues given");
    try {
      store_ = app_.store();
    } catch (const Error& e) {
      return e.status();
    }
    runner_ = std::make_unique<internal::TaskRunner>(app_, opts_.id);
    started_ms_ = app_.clock().now_ms();
    (void)store_->heartbeat(worker_info());
    for (int i = 0; i < opts_.concurrency; ++i) executors_.emplace_back([this] { execute_loop(); });
    settler_ = std::thread([this] { settle_loop(); });
    keeper_ = std::thread([this] { keeper_loop(); });
    return ok_status();
  }

  void request_stop() {
    std::vector<Settlement> released;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
      stop_requested_at_ = app_.clock().now_ms();
      for (Delivery& d : buffer_) released.push_back(release_of(d));
      buffer_.clear();
    }
    notify_all_cvs();
    for (auto& s : released) push_settlement(std::move(s));
  }

  void wait() {
    std::unique_lock lock(join_mu_);
    if (joined_) return;
    wait_executors_with_grace();
    for (auto& t : executors_) t.join();
    {
      // Same lock order as the settler's wait predicate: settle_mu_, then mu_.
      std::lock_guard sl(settle_mu_);
      std::lock_guard l(mu_);
      executors_done_ = true;
    }
    settle_cv_.notify_all();
    if (settler_.joinable()) settler_.join();
    {
      std::lock_guard l(mu_);
      settler_done_ = true;
    }
    notify_all_cvs();
    if (keeper_.joinable()) keeper_.join();
    if (store_) (void)store_->remove_worker(opts_.id);
    joined_ = true;
  }

  WorkerCounters counters() const {
    std::lock_guard lock(mu_);
    WorkerCounters c = counters_;
    c.running = running_;
    return c;
  }

  const std::string& id() const { return opts_.id; }

 private:
  // ---- prefetch ------------------------------------------------------------------------
  // With the default (adaptive) prefetch the buffer holds about 20 ms of work per thread:
  // many short tasks are reserved in large batches (few store round trips), while long
  // tasks are not hoarded away from other workers. REQUIRES: mu_ held, for all of these.
  int prefetch() const {
    if (!adaptive_prefetch_) return opts_.prefetch;
    double target = opts_.concurrency * 20'000.0 / std::max(avg_run_us_, 1.0);
    return std::clamp(static_cast<int>(target), opts_.prefetch, kMaxAdaptivePrefetch);
  }
  int capacity() const { return opts_.concurrency + prefetch(); }
  int room() const { return capacity() - int(buffer_.size()) - running_; }
  // Refill in batches: reserving one task each time one finishes would cost a store round
  // trip per task. An empty buffer is refilled at once (executors may be idle).
  bool should_refill() const {
    int free = room();
    return free >= std::max(1, capacity() / 2) || (buffer_.empty() && free > 0);
  }
  void record_run_time(std::chrono::steady_clock::duration d) {
    double us = std::chrono::duration<double, std::micro>(d).count();
    avg_run_us_ = 0.9 * avg_run_us_ + 0.1 * us;
  }
  static constexpr int kMaxAdaptivePrefetch = 256;
  // Longest single wait for work: a stopping worker notices the stop within this long.
  static constexpr Millis kIdleWaitMs = 200;
  static constexpr Millis kCleanupEveryMs = 60'000;
  static constexpr std::int64_t kCleanupAgainAt = 1000;  // removed by one call: more is left

  void notify_all_cvs() {
    work_cv_.notify_all();
    state_cv_.notify_all();
  }

  // ---- fetching (a role one executor holds at a time) ----------------------------------
  using Started = std::pair<Delivery, std::stop_token>;  // a task and its cancellation flag

  // Whether the calling executor should take the fetch role now: the buffer is empty, or it
  // runs low and the last reserve found work. REQUIRES: mu_ held.
  bool should_fetch() const {
    if (fetching_ || stopping_ || room() <= 0) return false;
    return buffer_.empty() || (should_refill() && !idle_);
  }

  // Called by the role holder, without mu_. Reserves until it gets tasks, the worker stops, or
  // there is buffered work to do instead; then gives up the role. Returns the first task it
  // got, already started on the calling thread, if any.
  std::optional<Started> fetch_as_leader() {
    while (true) {
      ReserveRequest req{opts_.queues, opts_.id, 0, opts_.lease_ms, app_.clock().now_ms()};
      bool block;
      {
        std::lock_guard lock(mu_);
        req.max = room();
        if (stopping_ || req.max <= 0 || (idle_ && !buffer_.empty())) {
          fetching_ = false;
          work_cv_.notify_one();  // the role is free again
          return std::nullopt;
        }
        block = idle_;
      }
      Result<std::vector<Delivery>> got =
          block ? store_->wait_and_reserve(req, kIdleWaitMs, app_.clock()) : store_->reserve(req);
      if (!got.ok()) {
        log_line("reserving tasks failed (retrying in " + std::to_string(fetch_backoff_ms_) +
                 " ms): " + got.status().to_string());
        sleep_unless_stopping(fetch_backoff_ms_);
        fetch_backoff_ms_ = std::min(fetch_backoff_ms_ * 2, 5000);
        std::lock_guard lock(mu_);
        idle_ = false;
        continue;
      }
      fetch_backoff_ms_ = 50;
      if (!got->empty()) return take_batch(std::move(got).value());
      std::lock_guard lock(mu_);
      idle_ = true;
    }
  }

  // Buffers a reserved batch, gives up the fetch role and starts the first task on the
  // calling thread (no hand-off: it is the one that was waiting for it).
  std::optional<Started> take_batch(std::vector<Delivery> batch) {
    std::vector<Settlement> released;
    std::optional<Started> mine;
    std::size_t wake = 0;
    {
      std::lock_guard lock(mu_);
      fetching_ = false;
      idle_ = false;
      for (Delivery& d : batch) {
        if (stopping_) {
          released.push_back(release_of(d));
          continue;
        }
        held_[d.id].token = d.token;
        buffer_.push_back(std::move(d));
      }
      if (!buffer_.empty()) {
        Delivery d = std::move(buffer_.front());
        buffer_.pop_front();
        std::stop_token stop = start_locked(d);
        mine.emplace(std::move(d), std::move(stop));
      }
      // One executor per buffered task, and one more to take the fetch role when it is due;
      // waking all of them would have the extra ones fight over mu_ for nothing.
      wake = buffer_.size() + (should_fetch() ? 1 : 0);
    }
    if (wake >= std::size_t(opts_.concurrency)) {
      work_cv_.notify_all();
    } else {
      for (std::size_t i = 0; i < wake; ++i) work_cv_.notify_one();
    }
    for (auto& s : released) push_settlement(std::move(s));
    return mine;
  }

  Settlement release_of(const Delivery& d) {
    Settlement s;
    s.outcome = Outcome::kRelease;
    s.id = d.id;
    s.token = d.token;
    s.state = TaskState::kPending;
    return s;
  }

  void sleep_unless_stopping(int ms) {
    std::unique_lock lock(mu_);
    state_cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopping_; });
  }

  // ---- executors ----------------------------------------------------------------------
  // Marks `d` as running on the calling thread. REQUIRES: mu_ held.
  std::stop_token start_locked(const Delivery& d) {
    ++running_;
    Held& h = held_[d.id];
    h.running = true;
    if (const TaskDefinition* def = find_def(d)) {
      if (def->options.time_limit() > 0)
        h.deadline = app_.clock().now_ms() + def->options.time_limit();
    }
    return h.stop.get_token();
  }

  // The next task for this executor, started: from the buffer, or fetched by this thread
  // when the fetch role is free and due. Returns nullopt when the worker stops.
  std::optional<Started> next_task() {
    while (true) {
      {
        std::unique_lock lock(mu_);
        work_cv_.wait(lock, [&] { return !buffer_.empty() || stopping_ || should_fetch(); });
        if (!should_fetch()) {
          if (buffer_.empty()) return std::nullopt;  // stopping
          Delivery d = std::move(buffer_.front());
          buffer_.pop_front();
          std::stop_token stop = start_locked(d);
          return Started{std::move(d), std::move(stop)};
        }
        fetching_ = true;
      }
      if (std::optional<Started> started = fetch_as_leader()) return started;
    }
  }

  void execute_loop() {
    while (true) {
      auto next = next_task();
      if (!next) return;
      Delivery d = std::move(next->first);
      std::stop_token stop = std::move(next->second);
      LeaseRef ref{d.id, d.token};
      Millis last_progress = 0;
      auto progress = [&](double f) {
        Millis now = app_.clock().now_ms();
        if (now - last_progress < 200 && f < 1.0) return;  // a few updates a second at most
        last_progress = now;
        (void)store_->set_progress(LeaseRef{ref.id, ref.token}, std::clamp(f, 0.0, 1.0));
      };
      auto t0 = std::chrono::steady_clock::now();
      internal::RunOutcome out = runner_->run(d, stop, progress);
      bool wake_waiters;
      {
        std::lock_guard lock(mu_);
        --running_;
        if (out.counted_failure) ++counters_.failed;
        record_run_time(std::chrono::steady_clock::now() - t0);
        wake_waiters = stopping_;
      }
      if (wake_waiters) state_cv_.notify_all();
      push_settlement(std::move(out.settlement));
    }
  }

  // Only for the time limit: the runner decodes the message again, which is cheap relative to
  // a store round trip and keeps the runner independent of the worker.
  const TaskDefinition* find_def(const Delivery& d) {
    auto pos = d.body.find("\"task\":\"");
    if (pos == std::string::npos) return nullptr;
    pos += 8;
    auto end = d.body.find('"', pos);
    if (end == std::string::npos) return nullptr;
    return app_.find_task(std::string_view(d.body).substr(pos, end - pos));
  }

  // ---- settler ------------------------------------------------------------------------
  void push_settlement(Settlement s) {
    {
      std::lock_guard lock(settle_mu_);
      settle_queue_.push_back(std::move(s));
    }
    settle_cv_.notify_one();
  }

  void settle_loop() {
    std::vector<Settlement> batch;
    while (true) {
      {
        std::unique_lock lock(settle_mu_);
        settle_cv_.wait(lock, [&] { return !settle_queue_.empty() || executors_finished(); });
        if (settle_queue_.empty()) return;
        std::size_t n = std::min<std::size_t>(settle_queue_.size(), opts_.settle_batch);
        batch.assign(std::make_move_iterator(settle_queue_.begin()),
                     std::make_move_iterator(settle_queue_.begin() + n));
        settle_queue_.erase(settle_queue_.begin(), settle_queue_.begin() + n);
      }
      write_batch(batch);
    }
  }

  bool executors_finished() {
    std::lock_guard lock(mu_);
    return executors_done_;
  }

  // Writes one batch, retrying transient errors: results of finished tasks must reach the
  // store even across a store restart. Gives up only on a permanent error.
  void write_batch(const std::vector<Settlement>& batch) {
    int backoff_ms = 50;
    for (int attempt = 0;; ++attempt) {
      Result<std::vector<bool>> r = store_->settle(batch, app_.clock().now_ms());
      if (r.ok()) {
        record_settled(batch, *r);
        return;
      }
      if (!is_unavailable(r.status()) || attempt > 1000) {
        log_line("storing " + std::to_string(batch.size()) +
                 " results failed: " + r.status().to_string());
        record_settled(batch, std::vector<bool>(batch.size(), false));
        return;
      }
      if (attempt == 0) log_line("storing results: " + r.status().to_string() + " (retrying)");
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
      backoff_ms = std::min(backoff_ms * 2, 2000);
    }
  }

  void record_settled(const std::vector<Settlement>& batch, const std::vector<bool>& applied) {
    bool reached_max = false;
    {
      std::lock_guard lock(mu_);
      for (std::size_t i = 0; i < batch.size(); ++i) {
        const Settlement& s = batch[i];
        auto it = held_.find(s.id);
        if (it != held_.end() && it->second.token == s.token) held_.erase(it);
        if (s.outcome == Outcome::kRelease) continue;
        ++counters_.processed;
        if (!applied[i])
          ++counters_.refused;
        else if (s.outcome == Outcome::kRetry)
          ++counters_.retried;
        else if (s.outcome == Outcome::kDeadLetter)
          ++counters_.dead;
        else if (s.state == TaskState::kSuccess)
          ++counters_.succeeded;
      }
      reached_max = opts_.max_tasks > 0 && counters_.processed >= opts_.max_tasks;
    }
    if (reached_max) request_stop();
  }

  // ---- lease keeper and heartbeat -----------------------------------------------------
  void keeper_loop() {
    Millis tick = std::max<Millis>(20, std::min(opts_.lease_ms / 3, opts_.heartbeat_ms));
    Millis last_beat = 0, last_extend = app_.clock().now_ms(), last_cleanup = 0;
    bool cleanup_behind = false;
    while (true) {
      {
        std::unique_lock lock(mu_);
        state_cv_.wait_for(lock, std::chrono::milliseconds(std::min<Millis>(tick, 100)),
                           [&] { return settler_done_; });
        if (settler_done_) return;
      }
      Millis now = app_.clock().now_ms();
      enforce_time_limits(now);
      if (now - last_extend >= opts_.lease_ms / 3) {
        extend_leases(now);
        last_extend = now;
      }
      if (now - last_beat >= opts_.heartbeat_ms) {
        (void)store_->heartbeat(worker_info());
        last_beat = now;
      }
      if (cleanup_behind || now - last_cleanup >= kCleanupEveryMs) {
        // A store may bound the work of one call (Redis: 10,000 expired results): while it
        // keeps finding that much, clean up again at the next tick instead of in a minute.
        Result<std::int64_t> removed = store_->cleanup(now);
        cleanup_behind = removed.ok() && *removed >= kCleanupAgainAt;
        last_cleanup = now;
      }
    }
  }

  void enforce_time_limits(Millis now) {
    std::lock_guard lock(mu_);
    for (auto& [id, h] : held_) {
      if (h.running && h.deadline > 0 && now >= h.deadline) h.stop.request_stop();
    }
  }

  void extend_leases(Millis now) {
    std::vector<LeaseRef> refs;
    {
      std::lock_guard lock(mu_);
      refs.reserve(held_.size());
      for (const auto& [id, h] : held_) refs.push_back({id, h.token});
    }
    if (refs.empty()) return;
    Result<std::vector<bool>> r = store_->extend(refs, opts_.lease_ms, now);
    if (!r.ok()) {
      log_line("extending leases failed: " + r.status().to_string());
      return;
    }
    std::lock_guard lock(mu_);
    for (std::size_t i = 0; i < refs.size(); ++i) {
      if ((*r)[i]) continue;
      auto it = held_.find(refs[i].id);
      // Lost to another worker: tell the task to stop; its result will be refused anyway.
      if (it != held_.end() && it->second.token == refs[i].token) it->second.stop.request_stop();
    }
  }

  WorkerInfo worker_info() {
    WorkerInfo w;
    w.id = opts_.id;
    w.host = internal::host_name();
    w.pid = static_cast<int>(::getpid());
    w.queues = opts_.queues;
    w.concurrency = opts_.concurrency;
    w.started = started_ms_;
    w.last_seen = app_.clock().now_ms();
    w.expires = w.last_seen + std::max<Millis>(3 * opts_.heartbeat_ms, 5000);
    std::lock_guard lock(mu_);
    w.running = running_;
    w.processed = counters_.processed;
    w.failed = counters_.failed;
    return w;
  }

  void wait_executors_with_grace() {
    std::unique_lock lock(mu_);
    auto all_idle = [&] { return running_ == 0 && buffer_.empty(); };
    state_cv_.wait(lock, [&] { return stopping_; });
    Millis grace_end = stop_requested_at_ + opts_.grace_ms;
    while (!all_idle()) {
      Millis left = grace_end - app_.clock().now_ms();
      if (left <= 0) {
        for (auto& [id, h] : held_) h.stop.request_stop();
        log_line(std::to_string(running_) +
                 " task(s) still running after the grace period; "
                 "cancelling them (they end when they check Context::cancelled())");
        state_cv_.wait(lock, all_idle);
        break;
      }
      state_cv_.wait_for(lock, std::chrono::milliseconds(std::min<Millis>(left, 100)));
    }
  }

  App& app_;
  WorkerOptions opts_;
  std::shared_ptr<Store> store_;
  std::unique_ptr<internal::TaskRunner> runner_;
  Millis started_ms_ = 0;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;   // executors: a task or the fetch role is free, or stopping
  std::condition_variable state_cv_;  // stop, idle and shutdown waits
  bool adaptive_prefetch_ = false;
  double avg_run_us_ = 1e6;  // moving average of task run time; starts pessimistic (1 s)
  std::deque<Delivery> buffer_;
  std::unordered_map<std::string, Held> held_;
  int running_ = 0;
  bool fetching_ = false;      // an executor holds the fetch role
  bool idle_ = false;          // the last reserve came back empty
  int fetch_backoff_ms_ = 50;  // role holder only
  bool stopping_ = false;
  bool executors_done_ = false;
  bool settler_done_ = false;
  Millis stop_requested_at_ = 0;
  WorkerCounters counters_;

  std::mutex settle_mu_;
  std::condition_variable settle_cv_;
  std::deque<Settlement> settle_queue_;

  std::mutex join_mu_;
  bool joined_ = false;
  std::thread settler_, keeper_;
  std::vector<std::thread> executors_;
};

Worker::Worker(App& app, WorkerOptions options)
    : impl_(std::make_unique<Impl>(app, std::move(options))) {}
Worker::~Worker() {
  impl_->request_stop();
  impl_->wait();
}
Status Worker::start() { return impl_->start(); }
void Worker::request_stop() { impl_->request_stop(); }
void Worker::wait() { impl_->wait(); }
Status Worker::run() {
  RUNQ_RETURN_IF_ERROR(start());
  wait();
  return ok_status();
}
WorkerCounters Worker::counters() const { return impl_->counters(); }
const std::string& Worker::id() const { return impl_->id(); }

}  // namespace runq
