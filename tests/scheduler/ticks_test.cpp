// Tick arithmetic: latest tick by binary search, due ticks per misfire policy, task ids.
#include <gtest/gtest.h>

#include <chrono>

#include "scheduler/internal/ticks.hpp"
#include "scheduler/schedule_test_util.hpp"

namespace runq::internal {
namespace {

using runq::testing::utc;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(LatestTick, FindsTheLastTickInASpan) {
  Schedule s = cron("*/15 * * * *");
  EXPECT_EQ(latest_tick(s, utc("2024-05-01T10:00:00"), utc("2024-05-01T10:44:59")),
            utc("2024-05-01T10:30:00"));
  EXPECT_EQ(latest_tick(s, utc("2024-05-01T10:00:00"), utc("2024-05-01T10:45:00")),
            utc("2024-05-01T10:45:00"));
  EXPECT_EQ(latest_tick(s, utc("2024-05-01T10:00:00"), utc("2024-05-01T10:14:59")), std::nullopt);
  EXPECT_EQ(latest_tick(s, utc("2024-05-01T10:00:00"), utc("2024-05-01T10:00:00")), std::nullopt);
}

TEST(LatestTick, LongSpansAreCheap) {
  Schedule every_second = cron("* * * * * *");
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(latest_tick(every_second, utc("2000-01-01T00:00:00"), utc("2024-05-01T10:00:00.500")),
            utc("2024-05-01T10:00:00"));
  Schedule yearly = cron("0 0 29 2 *");
  EXPECT_EQ(latest_tick(yearly, utc("1990-01-01T00:00:00"), utc("2024-05-01T10:00:00")),
            utc("2024-02-29T00:00:00"));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, seconds(1));
}

TEST(DueTicks, NothingDueBeforeTheFirstTick) {
  Schedule s = cron("0 * * * *");
  EXPECT_TRUE(due_ticks(s, utc("2024-05-01T10:00:00"), utc("2024-05-01T10:59:59"), 1000,
                        Misfire::kRunAll, 100)
                  .empty());
}

TEST(DueTicks, OnTimeTicksFireUnderEveryPolicy) {
  Schedule s = cron("0 * * * *");
  for (Misfire m : {Misfire::kRunOnce, Misfire::kSkip, Misfire::kRunAll}) {
    EXPECT_EQ(
        due_ticks(s, utc("2024-05-01T10:00:00"), utc("2024-05-01T11:00:00.900"), 1000, m, 100),
        std::vector<Millis>{utc("2024-05-01T11:00:00")})
        << misfire_name(m);
  }
}

TEST(DueTicks, MissedTicksFollowThePolicy) {
  Schedule s = cron("0 * * * *");
  Millis after = utc("2024-05-01T10:00:00");
  Millis now = utc("2024-05-01T14:30:00");  // 11:00..14:00 missed, none on time
  EXPECT_EQ(due_ticks(s, after, now, 1000, Misfire::kRunOnce, 100),
            std::vector<Millis>{utc("2024-05-01T14:00:00")});
  EXPECT_TRUE(due_ticks(s, after, now, 1000, Misfire::kSkip, 100).empty());
  EXPECT_EQ(due_ticks(s, after, now, 1000, Misfire::kRunAll, 100),
            (std::vector<Millis>{utc("2024-05-01T11:00:00"), utc("2024-05-01T12:00:00"),
                                 utc("2024-05-01T13:00:00"), utc("2024-05-01T14:00:00")}));
  EXPECT_EQ(due_ticks(s, after, now, 1000, Misfire::kRunAll, 2),
            (std::vector<Millis>{utc("2024-05-01T13:00:00"), utc("2024-05-01T14:00:00")}));
  EXPECT_TRUE(due_ticks(s, after, now, 1000, Misfire::kRunAll, 0).empty());
}

TEST(DueTicks, RunOnceDoesNotAddACatchUpWhenATickIsOnTime) {
  Schedule s = every(seconds(1));
  Millis after = utc("2024-05-01T10:00:00");
  Millis now = utc("2024-05-01T10:00:05.200");  // 01..04 missed (> 1 s late), 05 on time
  EXPECT_EQ(due_ticks(s, after, now, 1000, Misfire::kRunOnce, 100),
            std::vector<Millis>{utc("2024-05-01T10:00:05")});
  EXPECT_EQ(due_ticks(s, after, now, 1000, Misfire::kSkip, 100),
            std::vector<Millis>{utc("2024-05-01T10:00:05")});
  EXPECT_EQ(due_ticks(s, after, now, 1000, Misfire::kRunAll, 100).size(), 5u);
  // The grace boundary: a tick exactly grace_ms late is on time.
  EXPECT_EQ(due_ticks(s, after, utc("2024-05-01T10:00:02"), 1000, Misfire::kSkip, 100),
            (std::vector<Millis>{utc("2024-05-01T10:00:01"), utc("2024-05-01T10:00:02")}));
}

TEST(DueTicks, AWeekOfDowntimeOnAFastScheduleIsBounded) {
  Schedule s = every(std::chrono::milliseconds(100));
  Millis after = utc("2024-05-01T00:00:00");
  Millis now = utc("2024-05-08T00:00:00.050");
  auto t0 = std::chrono::steady_clock::now();
  std::vector<Millis> all = due_ticks(s, after, now, 1000, Misfire::kRunAll, 100);
  std::vector<Millis> once = due_ticks(s, after, now, 1000, Misfire::kRunOnce, 100);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, seconds(1));
  ASSERT_EQ(all.size(), 110u);  // 100 missed + the 10 on time in the last second
  EXPECT_EQ(all.back(), utc("2024-05-08T00:00:00"));
  EXPECT_EQ(all.front(), utc("2024-05-07T23:59:49.100"));
  EXPECT_EQ(once.size(), 10u);
}

TEST(TaskId, DeterministicPerScheduleAndTick) {
  EXPECT_EQ(periodic_task_id("nightly", utc("2024-03-31T01:00:00")),
            "periodic:nightly:2024-03-31T01:00:00Z");
  EXPECT_EQ(periodic_task_id("fast", utc("2024-03-31T01:00:00.250")),
            "periodic:fast:2024-03-31T01:00:00.250Z");
  EXPECT_NE(periodic_task_id("a", 1000), periodic_task_id("b", 1000));
  EXPECT_NE(periodic_task_id("a", 1000), periodic_task_id("a", 2000));
}

}  // namespace
}  // namespace runq::internal
