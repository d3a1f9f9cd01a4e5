// WorkerOptions::beat: a Worker embedded in a program runs the app's periodic scheduler for
// its lifetime, as `runq worker --beat` does; without the option it leaves schedules alone.
#include <gtest/gtest.h>

#include <atomic>

#include "runq/runq.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace runq {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;
using testing::wait_until;

class WorkerBeatTest : public ::testing::Test {
 protected:
  AppOptions app_options() { return AppOptions{.store_url = "sqlite:" + dir_.file("runq.db")}; }
  TempDir dir_;
};

TEST_F(WorkerBeatTest, WorkerWithBeatFiresPeriodicTicks) {
  App app(app_options());
  std::atomic<int> ticks{0};
  auto tick = app.task("tick", [&](int n) { return ticks += n; });
  app.periodic("every-second", every(1s), tick, 1);

  Worker worker(app, WorkerOptions{.concurrency = 1, .beat = true});
  ASSERT_TRUE(worker.start().ok());

  EXPECT_TRUE(wait_until([&] { return ticks.load() >= 1; }, 10s));
  auto schedules = app.store()->list_schedules();
  ASSERT_TRUE(schedules.ok());
  ASSERT_EQ(schedules->size(), 1u);
  EXPECT_EQ((*schedules)[0].name, "every-second");
  EXPECT_GT((*schedules)[0].last_tick, 0);
}

TEST_F(WorkerBeatTest, WorkerWithoutBeatRegistersNoSchedules) {
  App app(app_options());
  std::atomic<int> runs{0};
  auto tick = app.task("tick", [&] { return ++runs; });
  app.periodic("every-second", every(1s), tick);
  auto probe = app.task("probe", [&] { return ++runs; });

  Worker worker(app, WorkerOptions{.concurrency = 1});
  ASSERT_TRUE(worker.start().ok());
  EXPECT_EQ(probe.delay().get(5s), 1);  // the worker is up and running tasks

  auto schedules = app.store()->list_schedules();
  ASSERT_TRUE(schedules.ok());
  EXPECT_TRUE(schedules->empty());
}

}  // namespace
}  // namespace runq
