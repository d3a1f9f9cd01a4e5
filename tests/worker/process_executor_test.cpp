// The process pool's executor on its own, against real child processes and tasks reserved
// from a real SQLite file: the ways it stops, including a stop that races with forking a
// replacement child, never wait for ever.
#include "worker/internal/process_executor.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "runq/runq.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace runq {
namespace {

using namespace std::chrono_literals;
using internal::ProcessExecutor;
using internal::ProcessPoolOptions;
using internal::RunOutcome;
using testing::TempDir;
using testing::wait_until;

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
// socket, and stopping waited for it for ever. The stop is started the moment the old child
// was counted as recycled, which is just before the replacement is asked for.
TEST_F(ProcessExecutorTest, StopWhileReplacingARetiredChildEnds) {
  App app(app_options());
  auto one = app.task("one", [] { return 1; });
  for (int round = 0; round < 20; ++round) {
    ProcessPoolOptions opts;
    opts.children = 1;
    opts.child.max_tasks = 1;
    auto ex = ProcessExecutor::start(app, "w", opts);
    ASSERT_TRUE(ex.ok()) << ex.status().to_string();
    one.delay();
    Delivery d = reserve(app);
    RunOutcome out = (*ex)->run(0, d, std::stop_token{}, {});
    EXPECT_EQ(out.settlement.state, TaskState::kSuccess);
    ASSERT_TRUE(wait_until([&] { return (*ex)->stats().recycled == 1; }, 20s));
    within(30s, "stopping the process pool", [&] { ex->reset(); });
  }
}

}  // namespace
}  // namespace runq
