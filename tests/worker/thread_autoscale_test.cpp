// Autoscale of the thread pool (`worker --autoscale MAX,MIN` without --pool processes): one
// executor thread at first; while every thread has a task and more wait, threads are added up
// to MAX; once idle for autoscale.idle_ms, all but MIN end; a new backlog grows the pool again.
#include <gtest/gtest.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "runq/runq.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace runq {
namespace {

using namespace std::chrono_literals;
using testing::wait_until;

int thread_id() { return static_cast<int>(::syscall(SYS_gettid)); }

class ThreadAutoscaleTest : public ::testing::Test {
 protected:
  AppOptions app_options() { return AppOptions{.store_url = "sqlite:" + dir_.file("runq.db")}; }
  testing::TempDir dir_;
};

TEST_F(ThreadAutoscaleTest, GrowsWithBacklogShrinksWhenIdleAndGrowsAgain) {
  App app(app_options());
  auto busy = app.task("busy", [] {
    // Keeps its thread busy long enough for the backlog to be seen (the workload itself).
    std::this_thread::sleep_for(200ms);
    return thread_id();
  });
  WorkerOptions o;
  o.concurrency = 3;
  o.autoscale = {.min = 1, .idle_ms = 200};
  o.grace_ms = 5000;
  Worker worker(app, o);
  ASSERT_TRUE(worker.start().ok());
  EXPECT_LE(worker.counters().pool_size, 2) << "started with more than MIN threads";
  for (int burst = 0; burst < 2; ++burst) {
    std::vector<AsyncResult<int>> rs;
    for (int i = 0; i < 15; ++i) rs.push_back(busy.delay());
    int most = 0;
    std::set<int> threads;
    for (auto& r : rs) {
      threads.insert(r.get(30s));
      most = std::max(most, worker.counters().pool_size);
    }
    EXPECT_EQ(threads.size(), 3u) << "burst " << burst << ": did not grow to 3 threads";
    EXPECT_LE(most, 3) << "grew past MAX";
    EXPECT_TRUE(wait_until([&] { return worker.counters().pool_size == 1; }, 20s))
        << "burst " << burst << ": " << worker.counters().pool_size << " threads left";
  }
  EXPECT_GT(busy.delay().get(20s), 0);  // the one left still runs tasks
  worker.request_stop();
  worker.wait();
  EXPECT_EQ(worker.counters().succeeded, 31u);
}

TEST_F(ThreadAutoscaleTest, WithoutAutoscaleAllThreadsRunAndStay) {
  App app(app_options());
  auto add = app.task("add", [](int a, int b) { return a + b; });
  WorkerOptions o;
  o.concurrency = 3;
  Worker worker(app, o);
  ASSERT_TRUE(worker.start().ok());
  EXPECT_EQ(add.delay(1, 2).get(20s), 3);
  EXPECT_EQ(worker.counters().pool_size, 3);
  worker.request_stop();
  worker.wait();
}

}  // namespace
}  // namespace runq
