#include "http/internal/bounded_pool.hpp"

namespace runq::internal {

BoundedPool::BoundedPool(int threads, std::size_t max_queued) : max_queued_(max_queued) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

BoundedPool::~BoundedPool() { shutdown(); }

void BoundedPool::enqueue(std::function<void()> job) {
  std::unique_lock lock(mu_);
  has_room_.wait(lock, [&] { return jobs_.size() < max_queued_ || stopping_; });
  jobs_.push_back(std::move(job));
  has_job_.notify_one();
}

void BoundedPool::shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  has_job_.notify_all();
  has_room_.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void BoundedPool::run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mu_);
      has_job_.wait(lock, [&] { return !jobs_.empty() || stopping_; });
      // Queued connections are still served at shutdown: each job closes its socket.
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    has_room_.notify_one();
    job();
  }
}

}  // namespace runq::internal
