#include "worker/internal/executor_pool.hpp"

#include <algorithm>
#include <chrono>

#include "runq/app.hpp"

namespace runq::internal {
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
  for (int slot = 0; slot < n; ++slot) threads_.emplace_back([this, slot] { execute_loop(slot); });
}

void ExecutorPool::join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void ExecutorPool::execute_loop(int slot) {
  while (std::optional<Delivery> next = fetcher_.next()) {
    const Delivery& d = *next;
    std::stop_token stop = leases_.start(d, soft_deadline(d));
    Millis last_progress = 0;
    auto progress = [&](double f) {
      Millis now = app_.clock().now_ms();
      if (now - last_progress < 200 && f < 1.0) return;  // a few updates a second at most
      last_progress = now;
      (void)store_.set_progress(LeaseRef{d.id, d.token}, std::clamp(f, 0.0, 1.0));
    };
    auto t0 = std::chrono::steady_clock::now();
    RunOutcome out = executor_.run(slot, d, std::move(stop), progress);
    fetcher_.finished(std::chrono::steady_clock::now() - t0);
    settler_.push(std::move(out.settlement), out.counted_failure);
  }
}

// The soft time limit of `d`, 0 for none. Only for that: the runner decodes the message again,
// which is cheap relative to a store round trip and keeps the runner independent of the
// worker.
Millis ExecutorPool::soft_deadline(const Delivery& d) const {
  auto pos = d.body.find("\"task\":\"");
  if (pos == std::string::npos) return 0;
  pos += 8;
  auto end = d.body.find('"', pos);
  if (end == std::string::npos) return 0;
  const TaskDefinition* def = app_.find_task(std::string_view(d.body).substr(pos, end - pos));
  if (def == nullptr || def->options.time_limit() <= 0) return 0;
  return app_.clock().now_ms() + def->options.time_limit();
}

}  // namespace runq::internal
