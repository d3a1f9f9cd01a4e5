// The process pool's executor on its own, against real child processes and tasks reserved
// from a real SQLite file: the ways it stops, including a stop that races with forking a
// replacement child, never wait for ever.
#include "worker/internal/process_executor.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "runq/runq.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace runq {
namespace {

using namespace std::chrono_literals;
using internal::ProcessExecutor;
using internal::ProcessPoolOptions;
using internal::RunOutcome;
using internal::TaskFlow;
using testing::TempDir;
using testing::wait_until;

// The worker's side, reduced to a list: hands out the deliveries it was given, then reports
// stopping; records each outcome.
class ListFlow final : public TaskFlow {
 public:
  void add(Delivery d) {
    std::lock_guard lock(mu_);
    todo_.push_back(std::move(d));
  }
  void stop() { stopping_ = true; }
  std::optional<Delivery> next(bool wait, std::chrono::steady_clock::time_point until) override {
    while (true) {
      {
        std::lock_guard lock(mu_);
        if (!todo_.empty()) {
          Delivery d = std::move(todo_.front());
          todo_.pop_front();
          return d;
        }
      }
      if (!wait || stopping_ || std::chrono::steady_clock::now() >= until) return std::nullopt;
      std::this_thread::sleep_for(1ms);
    }
  }
  bool stopping() const override { return stopping_; }
  std::size_t waiting() const override {
    std::lock_guard lock(mu_);
    return todo_.size();
  }
  Begun begin(const Delivery&) override { return {}; }
  void end(const Delivery&, RunOutcome out, std::chrono::steady_clock::duration) override {
    std::lock_guard lock(mu_);
    ended_.push_back(std::move(out));
  }
  void progress(const Delivery&, double) override {}
  std::vector<RunOutcome> ended() const {
    std::lock_guard lock(mu_);
    return ended_;
  }

 private:
  mutable std::mutex mu_;
  std::deque<Delivery> todo_;
  std::vector<RunOutcome> ended_;
  std::atomic<bool> stopping_{false};
};

class ProcessExecutorTest : public ::testing::Test {
 protected:
  AppOptions app_options() { return AppOptions{.store_url = "sqlite:" + dir_.file("runq.db")}; }
  // Reserves the next task enqueued on `app`, as a worker would.
  static Delivery reserve(App& app) {
    Result<std::vector<Delivery>> d =
        app.store()->reserve(ReserveRequest{.queues = {std::string(kDefaultQueue)},
                                            .worker_id = "w",
                                            .max = 1,
                                            .now = app.clock().now_ms()});
    EXPECT_TRUE(d.ok() && d->size() == 1);
    return d.ok() && !d->empty() ? d->front() : Delivery{};
  }
  // Ends the test binary if `f` does not return within `limit`: a hang must fail, not stall.
  template <typename F>
  static void within(std::chrono::seconds limit, const char* what, F f) {
    std::atomic<bool> done{false};
    std::thread watchdog([&] {
      auto end = std::chrono::steady_clock::now() + limit;
      while (!done && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(5ms);
      if (!done) {
        std::fprintf(stderr, "%s did not end within %lld s\n", what,
                     static_cast<long long>(limit.count()));
        std::abort();
      }
    });
    f();
    done = true;
    watchdog.join();
  }
  TempDir dir_;
};

// A child that retires (max tasks per child) is replaced by a fork the executor asks of the
// zygote. A stop that lands during that fork once missed the replacement: nothing closed its
// socket, and stopping waited for it for ever. The stop starts the moment the old child was
// counted as recycled, which is just before the replacement is asked for.
TEST_F(ProcessExecutorTest, StopWhileReplacingARetiredChildEnds) {
  App app(app_options());
  auto one = app.task("one", [] { return 1; });
  for (int round = 0; round < 20; ++round) {
    ProcessPoolOptions opts;
    opts.children = 1;
    opts.child.max_tasks = 1;
    auto ex = ProcessExecutor::start(app, "w", opts);
    ASSERT_TRUE(ex.ok()) << ex.status().to_string();
    ListFlow flow;
    one.delay();
    flow.add(reserve(app));
    (*ex)->drive(flow);
    ASSERT_TRUE(wait_until([&] { return (*ex)->stats().recycled == 1; }, 20s));
    ASSERT_EQ(flow.ended().size(), 1u);
    EXPECT_EQ(flow.ended()[0].settlement.state, TaskState::kSuccess);
    flow.stop();
    within(30s, "stopping the process pool", [&] {
      if (round % 2 == 0) (*ex)->join();  // as the worker does; else the destructor alone
      ex->reset();
    });
  }
}

}  // namespace
}  // namespace runq
