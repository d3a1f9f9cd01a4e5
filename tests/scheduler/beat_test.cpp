// Beat on a real in-process store with a ManualClock: due ticks fire once, misfire policies,
// pause/resume, info for `schedule list`, skew between Beats, and run()'s loop.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <thread>

#include "scheduler/beat.hpp"
#include "scheduler/internal/ticks.hpp"
#include "scheduler/schedule_test_util.hpp"
#include "store/memory_store.hpp"
#include "support/wait.hpp"

namespace runq {
namespace {

using testing::utc;

PeriodicEntry entry(const std::string& name, Schedule schedule, Misfire misfire = Misfire::kRunOnce,
                    int run_all_limit = 100) {
  PeriodicEntry e;
  e.name = name;
  e.schedule = std::move(schedule);
  e.misfire = misfire;
  e.run_all_limit = run_all_limit;
  e.make_task = [](Millis tick) {
    NewTask t;
    t.id = "ignored";  // Beat replaces it with the tick's id
    t.queue = "periodic";
    t.body = "{\"tick\":" + std::to_string(tick) + "}";
    return t;
  };
  return e;
}

std::vector<PeriodicEntry> one(PeriodicEntry e) {
  std::vector<PeriodicEntry> v;
  v.push_back(std::move(e));
  return v;
}

class BeatTest : public ::testing::Test {
 protected:
  bool has_task(const std::string& name, std::string_view tick_utc) {
    return store_->get_task(internal::periodic_task_id(name, utc(tick_utc)), clock_.now_ms()).ok();
  }
  std::int64_t task_count() {
    Result<StoreStats> stats = store_->stats(clock_.now_ms());
    EXPECT_TRUE(stats.ok()) << stats.status().to_string();
    std::int64_t n = 0;
    for (const QueueStats& q : stats->queues) n += q.pending + q.scheduled + q.running;
    return n;
  }
  ScheduleState state(const std::string& name) {
    Result<std::vector<ScheduleState>> all = store_->list_schedules();
    EXPECT_TRUE(all.ok());
    for (const ScheduleState& s : *all)
      if (s.name == name) return s;
    return {};
  }
  int tick(Beat& beat) {
    Result<int> n = beat.tick();
    EXPECT_TRUE(n.ok()) << n.status().to_string();
    return n.value_or(-1);
  }

  std::unique_ptr<Store> store_ = new_memory_store();
  ManualClock clock_{utc("2024-05-01T10:00:30")};
};

TEST_F(BeatTest, FiresEachDueTickOnce) {
  Beat beat(*store_, clock_, one(entry("minutely", cron("* * * * *"))));
  ASSERT_TRUE(beat.register_schedules().ok());
  EXPECT_EQ(tick(beat), 0);
  EXPECT_EQ(beat.next_wakeup(), utc("2024-05-01T10:01:00"));
  clock_.set(utc("2024-05-01T10:01:00"));
  EXPECT_EQ(tick(beat), 1);
  EXPECT_EQ(tick(beat), 0);
  clock_.set(utc("2024-05-01T10:01:59.999"));
  EXPECT_EQ(tick(beat), 0);
  clock_.set(utc("2024-05-01T10:02:00.400"));
  EXPECT_EQ(tick(beat), 1);
  EXPECT_TRUE(has_task("minutely", "2024-05-01T10:01:00"));
  EXPECT_TRUE(has_task("minutely", "2024-05-01T10:02:00"));
  EXPECT_EQ(task_count(), 2);
  EXPECT_EQ(state("minutely").last_tick, utc("2024-05-01T10:02:00"));
  EXPECT_EQ(beat.next_wakeup(), utc("2024-05-01T10:03:00"));
}

TEST_F(BeatTest, TaskKeepsItsFieldsButGetsTheTickId) {
  Beat beat(*store_, clock_, one(entry("m", cron("* * * * *"))));
  clock_.set(utc("2024-05-01T10:01:00"));
  ASSERT_EQ(tick(beat), 1);
  Result<TaskInfo> info = store_->get_task("periodic:m:2024-05-01T10:01:00Z", clock_.now_ms());
  ASSERT_TRUE(info.ok()) << info.status().to_string();
  EXPECT_EQ(info->queue, "periodic");
  EXPECT_EQ(info->body, "{\"tick\":" + std::to_string(utc("2024-05-01T10:01:00")) + "}");
  EXPECT_FALSE(store_->get_task("ignored", clock_.now_ms()).ok());
}

TEST_F(BeatTest, NeverFiredScheduleStartsAtTheBeatsStartTime) {
  clock_.set(utc("2024-05-01T10:00:00"));  // exactly on a tick: it counts
  Beat beat(*store_, clock_, one(entry("h", cron("0 * * * *"), Misfire::kRunAll)));
  EXPECT_EQ(tick(beat), 1);
  EXPECT_TRUE(has_task("h", "2024-05-01T10:00:00"));
  EXPECT_EQ(task_count(), 1);  // no replay of the ticks before 10:00
}

class MisfireTest : public BeatTest {
 protected:
  // A Beat fires 10:01, then no scheduler runs until 15:30:30; returns the new Beat's count.
  int fire_after_outage(Misfire misfire, int limit = 100) {
    {
      Beat first(*store_, clock_, one(entry("m", cron("* * * * *"), misfire, limit)));
      clock_.set(utc("2024-05-01T10:01:00"));
      EXPECT_EQ(tick(first), 1);
    }
    clock_.set(utc("2024-05-01T15:30:30"));
    Beat second(*store_, clock_, one(entry("m", cron("* * * * *"), misfire, limit)));
    return tick(second);
  }
};

TEST_F(MisfireTest, RunOnceFiresTheLatestMissedTick) {
  EXPECT_EQ(fire_after_outage(Misfire::kRunOnce), 1);
  EXPECT_TRUE(has_task("m", "2024-05-01T15:30:00"));
  EXPECT_EQ(task_count(), 2);
  EXPECT_EQ(state("m").last_tick, utc("2024-05-01T15:30:00"));
}

TEST_F(MisfireTest, SkipFiresNoneOfTheMissedTicks) {
  EXPECT_EQ(fire_after_outage(Misfire::kSkip), 0);
  EXPECT_EQ(task_count(), 1);
  Beat beat(*store_, clock_, one(entry("m", cron("* * * * *"), Misfire::kSkip)));
  clock_.set(utc("2024-05-01T15:31:00.300"));
  EXPECT_EQ(tick(beat), 1);  // the next on-time tick fires
  EXPECT_TRUE(has_task("m", "2024-05-01T15:31:00"));
}

TEST_F(MisfireTest, RunAllFiresTheLatestMissedTicksUpToItsLimit) {
  // 10:02 .. 15:30 = 329 missed ticks; the limit keeps the latest 100.
  EXPECT_EQ(fire_after_outage(Misfire::kRunAll, 100), 100);
  EXPECT_TRUE(has_task("m", "2024-05-01T13:51:00"));
  EXPECT_FALSE(has_task("m", "2024-05-01T13:50:00"));
  EXPECT_TRUE(has_task("m", "2024-05-01T15:30:00"));
  EXPECT_EQ(task_count(), 101);
  EXPECT_EQ(state("m").last_tick, utc("2024-05-01T15:30:00"));
}

TEST_F(MisfireTest, RunAllUnderItsLimitFiresEveryMissedTick) {
  EXPECT_EQ(fire_after_outage(Misfire::kRunAll, 1000), 329);
  EXPECT_EQ(task_count(), 330);
}

TEST_F(BeatTest, PausedSchedulesDoNotFireAndSkipWhatTheyMissed) {
  Beat beat(*store_, clock_, one(entry("m", cron("* * * * *"), Misfire::kRunAll)));
  ASSERT_TRUE(beat.register_schedules().ok());
  ASSERT_TRUE(store_->set_schedule_paused("m", true).ok());
  clock_.set(utc("2024-05-01T10:01:00"));
  EXPECT_EQ(tick(beat), 0);
  clock_.set(utc("2024-05-01T10:05:30"));
  EXPECT_EQ(tick(beat), 0);
  ASSERT_TRUE(store_->set_schedule_paused("m", false).ok());
  EXPECT_EQ(tick(beat), 0);  // 10:01..10:05 fell due while paused: not wanted
  clock_.set(utc("2024-05-01T10:06:00"));
  EXPECT_EQ(tick(beat), 1);
  EXPECT_EQ(task_count(), 1);
  EXPECT_TRUE(has_task("m", "2024-05-01T10:06:00"));
}

TEST_F(BeatTest, RegisterWritesInfoForScheduleList) {
  PeriodicEntry e = entry("digest", cron("0 8 * * *", "Europe/Paris"));
  e.info_json_extra = R"({"task":"send_digest","args":[1]})";
  Beat beat(*store_, clock_, one(e));
  ASSERT_TRUE(beat.register_schedules().ok());
  auto info = nlohmann::json::parse(state("digest").info);
  EXPECT_EQ(info["expression"], "0 8 * * *");
  EXPECT_EQ(info["zone"], "Europe/Paris");
  EXPECT_EQ(info["misfire"], "run_once");
  EXPECT_EQ(info["next_run"], utc("2024-05-02T06:00:00"));
  EXPECT_EQ(info["next_run_iso"], "2024-05-02T08:00:00+02:00");
  EXPECT_TRUE(info["last_run"].is_null());
  EXPECT_EQ(info["task"], "send_digest");

  clock_.set(utc("2024-05-02T06:00:00.200"));
  ASSERT_EQ(tick(beat), 1);
  info = nlohmann::json::parse(state("digest").info);
  EXPECT_EQ(info["last_run"], utc("2024-05-02T06:00:00"));
  EXPECT_EQ(info["last_run_iso"], "2024-05-02T08:00:00+02:00");
  EXPECT_EQ(info["last_task_id"], "periodic:digest:2024-05-02T06:00:00Z");
  EXPECT_EQ(info["next_run_iso"], "2024-05-03T08:00:00+02:00");
  EXPECT_EQ(info["args"], nlohmann::json::array({1}));
}

TEST_F(BeatTest, InvalidEntriesAreRejected) {
  std::vector<PeriodicEntry> dup;
  dup.push_back(entry("a", cron("* * * * *")));
  dup.push_back(entry("a", cron("@hourly")));
  Beat d(*store_, clock_, std::move(dup));
  EXPECT_TRUE(is_invalid_argument(d.register_schedules()));
  EXPECT_TRUE(is_invalid_argument(d.tick().status()));

  PeriodicEntry no_task = entry("b", cron("* * * * *"));
  no_task.make_task = nullptr;
  EXPECT_TRUE(is_invalid_argument(Beat(*store_, clock_, one(no_task)).register_schedules()));
  PeriodicEntry bad_extra = entry("c", cron("* * * * *"));
  bad_extra.info_json_extra = "[1,2]";
  EXPECT_TRUE(is_invalid_argument(Beat(*store_, clock_, one(bad_extra)).register_schedules()));
  EXPECT_TRUE(is_invalid_argument(
      Beat(*store_, clock_, one(entry("", cron("@daily")))).register_schedules()));
}

TEST_F(BeatTest, ThrowingMakeTaskIsAnErrorNotACrash) {
  PeriodicEntry e = entry("boom", cron("* * * * *"));
  e.make_task = [](Millis) -> NewTask { throw std::runtime_error("no encoder"); };
  Beat beat(*store_, clock_, one(e));
  clock_.set(utc("2024-05-01T10:01:00"));
  Result<int> n = beat.tick();
  EXPECT_TRUE(is_internal(n.status()));
  EXPECT_NE(n.status().message().find("no encoder"), std::string::npos);
  EXPECT_EQ(state("boom").last_tick, 0);
}

TEST_F(BeatTest, TwoBeatsWithSkewedClocksFireEachTickOnce) {
  ManualClock ahead(clock_.now_ms() + 20'000);  // 20 s fast
  Beat slow(*store_, clock_, one(entry("m", cron("* * * * *"))));
  Beat fast(*store_, ahead, one(entry("m", cron("* * * * *"))));
  int fired_fast = 0, fired_slow = 0;
  for (int step = 0; step < 600; ++step) {  // 10 minutes in 1 s steps
    clock_.advance(1000);
    ahead.advance(1000);
    fired_slow += tick(slow);
    fired_fast += tick(fast);
  }
  EXPECT_EQ(fired_fast + fired_slow, 10);
  EXPECT_EQ(fired_fast, 10);  // the fast clock reaches every tick first
  EXPECT_EQ(task_count(), 10);
}

TEST_F(BeatTest, NoTickFiresBeforeTheBeatsOwnClockReachesIt) {
  Beat beat(*store_, clock_, one(entry("m", cron("* * * * *"))));
  clock_.set(utc("2024-05-01T10:00:59.999"));
  EXPECT_EQ(tick(beat), 0);
  EXPECT_EQ(task_count(), 0);
  clock_.set(utc("2024-05-01T10:01:00"));
  EXPECT_EQ(tick(beat), 1);
}

TEST_F(BeatTest, DstNightInParisFiresEveryScheduleTheDocumentedNumberOfTimes) {
  clock_.set(utc("2024-03-30T22:00:00"));  // 23:00 CET, the night clocks jump 02:00 -> 03:00
  std::vector<PeriodicEntry> entries;
  entries.push_back(entry("gap", cron("30 2 * * *", "Europe/Paris")));
  entries.push_back(entry("quarter", cron("*/15 * * * *", "Europe/Paris")));
  Beat beat(*store_, clock_, std::move(entries));
  int fired = 0;
  for (int i = 0; i < 6 * 60 * 2; ++i) {  // six hours in 30 s steps
    clock_.advance(30'000);
    fired += tick(beat);
  }
  EXPECT_TRUE(has_task("gap", "2024-03-31T01:00:00"));  // 03:00 CEST, the end of the gap
  EXPECT_EQ(fired, 1 + (6 * 4 + 1));  // gap once; quarter every 15 real minutes, both ends
  EXPECT_TRUE(has_task("quarter", "2024-03-31T00:45:00"));  // 01:45 CET
  EXPECT_TRUE(has_task("quarter", "2024-03-31T01:00:00"));  // 03:00 CEST
}

TEST_F(BeatTest, RunLoopFiresAndStopsPromptly) {
  BeatOptions options;
  options.poll_ms = 5;
  Beat beat(*store_, clock_, one(entry("m", cron("* * * * *"))), options);
  std::jthread loop([&](std::stop_token st) { beat.run(st); });
  clock_.set(utc("2024-05-01T10:01:00"));
  EXPECT_TRUE(testing::wait_until([&] { return has_task("m", "2024-05-01T10:01:00"); }));
  auto t0 = std::chrono::steady_clock::now();
  loop.request_stop();
  loop.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  EXPECT_TRUE(beat.last_status().ok());
  EXPECT_EQ(task_count(), 1);
}

}  // namespace
}  // namespace runq
