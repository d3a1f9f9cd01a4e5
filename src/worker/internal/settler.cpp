#include "worker/internal/settler.hpp"

#include <algorithm>
#include <iterator>

#include "worker/internal/log.hpp"

namespace runq::internal {

Settler::Settler(Store& store, const Clock& clock, LeaseTable& leases, SettlerOptions opts,
                 std::function<void()> on_max_tasks)
    : store_(store),
      clock_(clock),
      leases_(leases),
      opts_(opts),
      on_max_tasks_(std::move(on_max_tasks)) {}

Settler::~Settler() { finish(); }

void Settler::start() {
  thread_ = std::thread([this] { settle_loop(); });
}

void Settler::push(Settlement s, bool counted_failure) {
  {
    MutexLock lock(mu_);
    queue_.push_back(std::move(s));
    if (counted_failure) ++counters_.failed;
  }
  cv_.notify_one();
}

void Settler::release(const std::vector<Delivery>& tasks) {
  for (const Delivery& d : tasks) {
    Settlement s;
    s.outcome = Outcome::kRelease;
    s.id = d.id;
    s.token = d.token;
    s.state = TaskState::kPending;
    push(std::move(s));
  }
}

void Settler::finish() {
  {
    MutexLock lock(mu_);
    finishing_ = true;
  }
  cv_.notify_all();
  taken_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

WorkerCounters Settler::counters() const {
  MutexLock lock(mu_);
  return counters_;
}

bool Settler::wait_backlog_below(std::size_t limit, std::chrono::milliseconds max_wait) {
  const auto deadline = std::chrono::steady_clock::now() + max_wait;
  MutexLock lock(mu_);
  while (queue_.size() >= limit && !finishing_) {
    if (!taken_cv_.wait_until(mu_, deadline)) return queue_.size() < limit;
  }
  return true;
}

void Settler::settle_loop() {
  std::vector<Settlement> batch;
  while (true) {
    {
      MutexLock lock(mu_);
      while (queue_.empty() && !finishing_) cv_.wait(mu_);
      if (queue_.empty()) return;
      std::size_t n = std::min<std::size_t>(queue_.size(), std::max(1, opts_.batch));
      batch.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + n));
      queue_.erase(queue_.begin(), queue_.begin() + n);
    }
    taken_cv_.notify_all();
    write_batch(batch);
  }
}

// Writes one batch, retrying transient errors: results of finished tasks must reach the
// store even across a store restart (Unavailable) or while it is out of space
// (ResourceExhausted: a full disk under SQLite, Redis at maxmemory; space comes back when
// files are removed or cleanup runs). Dropping the batch would make every task in it run
// again once its lease lapsed. Gives up on any other error, after about half an hour of
// Unavailable or two minutes of ResourceExhausted; the batch then counts as refused, and
// its tasks run again once their leases lapse.
void Settler::write_batch(const std::vector<Settlement>& batch) {
  constexpr int kUnavailableAttempts = 1000;
  constexpr int kExhaustedAttempts = 64;
  int backoff_ms = 50;
  for (int attempt = 0;; ++attempt) {
    Result<std::vector<bool>> r = store_.settle(batch, clock_.now_ms());
    if (r.ok()) {
      record_settled(batch, *r);
      return;
    }
    const int limit = is_unavailable(r.status())          ? kUnavailableAttempts
                      : is_resource_exhausted(r.status()) ? kExhaustedAttempts
                                                          : 0;
    if (attempt >= limit) {
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

void Settler::record_settled(const std::vector<Settlement>& batch,
                             const std::vector<bool>& applied) {
  leases_.remove(batch);
  bool reached_max = false;
  {
    MutexLock lock(mu_);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const Settlement& s = batch[i];
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
  if (reached_max) on_max_tasks_();
}

}  // namespace runq::internal
