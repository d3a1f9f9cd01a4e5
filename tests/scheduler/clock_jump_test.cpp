// A Beat whose wall clock jumps an hour backwards or forwards (a host's clock corrected by
// hand or by NTP), on a real SQLite store with a ManualClock: no tick fires twice, and none
// is lost beyond what the misfire policy says about ticks the clock skipped.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "scheduler/beat.hpp"
#include "scheduler/internal/ticks.hpp"
#include "scheduler/schedule_test_util.hpp"
#include "support/temp_dir.hpp"

namespace runq {
namespace {

using testing::utc;

constexpr Millis kMinute = 60'000;
constexpr Millis kHour = 60 * kMinute;

class ClockJumpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<Store>> s = open_store("sqlite:" + dir_.file("runq.db"));
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    store_ = std::move(*s);
  }

  std::unique_ptr<Beat> beat(Misfire misfire) {
    PeriodicEntry e;
    e.name = "m";
    e.schedule = cron("* * * * *");
    e.misfire = misfire;
    e.make_task = [](Millis) {
      NewTask t;
      t.body = "{}";
      return t;
    };
    std::vector<PeriodicEntry> entries;
    entries.push_back(std::move(e));
    return std::make_unique<Beat>(*store_, clock_, std::move(entries));
  }

  // Ticks the beat every 10 s of its clock for `minutes`, recording how often each tick's
  // task was claimed (a claim enqueues the task with the tick's id).
  void run_for(Beat& b, int minutes) {
    for (int step = 0; step < minutes * 6; ++step) {
      clock_.advance(10'000);
      Millis before = last_tick();
      Result<int> fired = b.tick();
      ASSERT_TRUE(fired.ok()) << fired.status().to_string();
      total_fired_ += *fired;
      if (*fired > 0) ++claims_[last_tick()];
      ASSERT_GE(last_tick(), before);
    }
  }

  Millis last_tick() {
    Result<std::vector<ScheduleState>> all = store_->list_schedules();
    return all.ok() && !all->empty() ? all->front().last_tick : 0;
  }
  bool has_task(Millis tick) {
    return store_->get_task(internal::periodic_task_id("m", tick), clock_.now_ms()).ok();
  }
  // Every minute in [from, to] has its task.
  int missing_between(Millis from, Millis to) {
    int n = 0;
    for (Millis t = from; t <= to; t += kMinute) n += !has_task(t);
    return n;
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  ManualClock clock_{utc("2024-05-01T10:00:05")};
  int total_fired_ = 0;
  std::map<Millis, int> claims_;  // last tick after a pass that fired -> passes
};

TEST_F(ClockJumpTest, JumpBackAnHourFiresNothingTwiceAndResumesAfterTheLastTick) {
  auto b = beat(Misfire::kRunOnce);
  run_for(*b, 10);  // 10:01 .. 10:10 fire
  ASSERT_EQ(total_fired_, 10);

  clock_.set(clock_.now_ms() - kHour);  // 09:10:05
  run_for(*b, 70);                      // back to 10:20:05

  EXPECT_EQ(total_fired_, 20);  // 10:11 .. 10:20 once each; nothing of 09:11 .. 10:10 again
  EXPECT_EQ(missing_between(utc("2024-05-01T10:01:00"), utc("2024-05-01T10:20:00")), 0);
  EXPECT_FALSE(has_task(utc("2024-05-01T09:30:00")));
  for (const auto& [tick, passes] : claims_) EXPECT_EQ(passes, 1) << tick;
}

TEST_F(ClockJumpTest, JumpForwardAnHourRunsOneCatchUpTickByDefault) {
  auto b = beat(Misfire::kRunOnce);
  run_for(*b, 10);

  clock_.set(clock_.now_ms() + kHour);  // 11:10:05: 10:11 .. 11:10 were skipped by the clock
  run_for(*b, 10);

  // The latest skipped tick (11:10) runs once as the catch-up, then 11:11 .. 11:20 on time.
  EXPECT_EQ(total_fired_, 10 + 1 + 10);
  EXPECT_EQ(missing_between(utc("2024-05-01T11:10:00"), utc("2024-05-01T11:20:00")), 0);
  EXPECT_FALSE(has_task(utc("2024-05-01T10:30:00")));
  for (const auto& [tick, passes] : claims_) EXPECT_EQ(passes, 1) << tick;
}

TEST_F(ClockJumpTest, JumpForwardAnHourWithRunAllFiresEverySkippedTickOnce) {
  auto b = beat(Misfire::kRunAll);
  run_for(*b, 10);

  clock_.set(clock_.now_ms() + kHour);
  run_for(*b, 10);

  EXPECT_EQ(total_fired_, 80);  // 10:01 .. 11:20, every minute once
  EXPECT_EQ(missing_between(utc("2024-05-01T10:01:00"), utc("2024-05-01T11:20:00")), 0);
}

TEST_F(ClockJumpTest, JumpForwardThenBackFiresNothingTwice) {
  auto b = beat(Misfire::kRunAll);
  run_for(*b, 10);                      // 10:10:05
  clock_.set(clock_.now_ms() + kHour);  // 11:10:05: 10:11 .. 11:10 fire
  run_for(*b, 1);
  ASSERT_EQ(total_fired_, 71);

  clock_.set(clock_.now_ms() - kHour);  // corrected back to 10:11:05
  run_for(*b, 70);                      // 11:21:05

  EXPECT_EQ(total_fired_, 81);  // only 11:12 .. 11:21 are new
  EXPECT_EQ(missing_between(utc("2024-05-01T10:01:00"), utc("2024-05-01T11:21:00")), 0);
}

}  // namespace
}  // namespace runq
