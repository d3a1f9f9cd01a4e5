// Periodic exactly-once on every registered store: three schedulers (Beats), each with its own
// Store object and its own clock, race in threads over hundreds of ticks; every tick's task must
// be enqueued exactly once. The three objects come from the fixture the backend declares
// (StoreBackendInfo::test_fixture, made by tests/support/store_fixtures.cpp): three views of one
// store (memory: one object shared).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "runq/schedule.hpp"
#include "runq/store.hpp"
#include "scheduler/beat.hpp"
#include "scheduler/internal/ticks.hpp"
#include "store/backend.hpp"
#include "support/store_fixtures.hpp"

namespace runq {
namespace {

constexpr int kBeats = 3;
constexpr Millis kStart = 1'714'557'600'500;  // 2024-05-01T10:00:00.500Z
constexpr Millis kSpan = 200'000;             // 200 s: 200 ticks of the every-second schedule
constexpr Millis kStep = 250;                 // each Beat's clock moves in 250 ms steps

struct Spec {
  const char* name;
  Schedule schedule;
};

std::vector<Spec> specs() {
  return {{"every-second", cron("* * * * * *")},
          {"every-5s", cron("*/5 * * * * *", "Europe/Paris")},
          {"every-1500ms", every(std::chrono::milliseconds(1500))}};
}

std::vector<PeriodicEntry> entries() {
  std::vector<PeriodicEntry> out;
  for (const Spec& s : specs()) {
    PeriodicEntry e;
    e.name = s.name;
    e.schedule = s.schedule;
    e.make_task = [](Millis tick) {
      NewTask t;
      t.queue = "periodic";
      t.body = std::to_string(tick);
      return t;
    };
    out.push_back(std::move(e));
  }
  return out;
}

// Every tick in (from, to] of each schedule, as task ids.
std::set<std::string> expected_ids(Millis from, Millis to) {
  std::set<std::string> ids;
  for (const Spec& s : specs()) {
    for (Millis t = s.schedule.next_after(from); t <= to; t = s.schedule.next_after(t)) {
      ids.insert(internal::periodic_task_id(s.name, t));
    }
  }
  return ids;
}

bool under_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && (std::string_view(ci) == "true" || std::string_view(ci) == "1");
}

// The parameter is a registered URL scheme.
class PeriodicConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const testing::StoreFixture* fixture = testing::store_fixture(GetParam());
    ASSERT_NE(fixture, nullptr) << "no backend registered for scheme '" << GetParam() << "'";
    std::string why = fixture->unavailable ? fixture->unavailable() : "";
    if (!why.empty()) {
      if (under_ci()) FAIL() << GetParam() << " is required under CI: " << why;
      GTEST_SKIP() << GetParam() << " not available: " << why;
    }
    Result<std::vector<std::shared_ptr<Store>>> stores = fixture->open(kBeats);
    ASSERT_TRUE(stores.ok()) << stores.status().to_string();
    stores_ = std::move(stores).value();
  }

  // Asserts that exactly the tasks in `ids` exist (each once, nothing else).
  void expect_exactly(const std::set<std::string>& ids, Millis now) {
    int missing = 0;
    for (const std::string& id : ids) {
      if (!stores_[0]->get_task(id, now).ok() && ++missing <= 5) ADD_FAILURE() << "missing " << id;
    }
    EXPECT_EQ(missing, 0);
    Result<StoreStats> stats = stores_[0]->stats(now);
    ASSERT_TRUE(stats.ok()) << stats.status().to_string();
    std::int64_t queued = 0;
    for (const QueueStats& q : stats->queues) queued += q.pending + q.scheduled + q.running;
    EXPECT_EQ(queued, static_cast<std::int64_t>(ids.size()));
  }

  std::vector<std::shared_ptr<Store>> stores_;
};

TEST_P(PeriodicConformance, ThreeRacingSchedulersFireEveryTickExactlyOnce) {
  std::vector<std::unique_ptr<ManualClock>> clocks;
  std::vector<std::unique_ptr<Beat>> beats;
  for (int i = 0; i < kBeats; ++i) {
    clocks.push_back(std::make_unique<ManualClock>(kStart));
    beats.push_back(std::make_unique<Beat>(*stores_[i], *clocks[i], entries()));
    ASSERT_TRUE(beats[i]->register_schedules().ok());
  }
  std::atomic<int> fired{0}, errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kBeats; ++i) {
    threads.emplace_back([&, i] {
      // No barrier: the threads drift apart, so claims race at arbitrary clock offsets.
      for (Millis t = kStart; t <= kStart + kSpan; t += kStep) {
        clocks[i]->set(t);
        Result<int> n = beats[i]->tick();
        if (n.ok()) {
          fired += *n;
        } else {
          ++errors;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  // Transient store errors leave ticks for a later pass; one last pass each settles them.
  for (int i = 0; i < kBeats; ++i) {
    Result<int> n = beats[i]->tick();
    ASSERT_TRUE(n.ok()) << n.status().to_string();
    fired += *n;
  }
  std::set<std::string> ids = expected_ids(kStart - 1, kStart + kSpan);
  ASSERT_EQ(ids.size(), 200u + 40u + 133u);
  // Each tick was claimed by exactly one Beat: the claim, not only enqueue's id check.
  EXPECT_EQ(fired.load(), static_cast<int>(ids.size())) << errors.load() << " passes failed";
  expect_exactly(ids, kStart + kSpan);
  Result<std::vector<ScheduleState>> states = stores_[0]->list_schedules();
  ASSERT_TRUE(states.ok());
  for (const ScheduleState& s : *states) {
    auto info = nlohmann::json::parse(s.info);
    EXPECT_EQ(info["last_task_id"], internal::periodic_task_id(s.name, s.last_tick)) << s.name;
  }
}

TEST_P(PeriodicConformance, AfterAnOutageRunOnceFiresOneTickWhateverTheNumberOfSchedulers) {
  std::vector<std::unique_ptr<ManualClock>> clocks;
  std::vector<std::unique_ptr<Beat>> beats;
  for (int i = 0; i < kBeats; ++i) {
    clocks.push_back(std::make_unique<ManualClock>(kStart));
    beats.push_back(std::make_unique<Beat>(*stores_[i], *clocks[i], entries()));
  }
  // First passes 10 s after start: one run per schedule (its latest tick), not ten.
  std::set<std::string> ids;
  for (const Spec& s : specs()) {
    ids.insert(internal::periodic_task_id(
        s.name, *internal::latest_tick(s.schedule, kStart - 1, kStart + 10'000)));
  }
  for (int i = 0; i < kBeats; ++i) {
    clocks[i]->set(kStart + 10'000);
    ASSERT_TRUE(beats[i]->tick().ok());
  }
  expect_exactly(ids, kStart + 10'000);
  // An hour later all three come back at once: each schedule catches up with one run, the
  // latest tick, and the three Beats do not each fire it.
  const Millis back = kStart + 3'600'000;
  int fired = 0;
  for (int i = 0; i < kBeats; ++i) {
    clocks[i]->set(back);
    Result<int> n = beats[i]->tick();
    ASSERT_TRUE(n.ok()) << n.status().to_string();
    fired += *n;
  }
  EXPECT_EQ(fired, 3);
  for (const Spec& s : specs()) {
    ids.insert(internal::periodic_task_id(
        s.name, *internal::latest_tick(s.schedule, kStart + 10'000, back)));
  }
  expect_exactly(ids, back);
}

TEST_P(PeriodicConformance, APausedScheduleFiresOnNoScheduler) {
  std::vector<std::unique_ptr<ManualClock>> clocks;
  std::vector<std::unique_ptr<Beat>> beats;
  for (int i = 0; i < kBeats; ++i) {
    clocks.push_back(std::make_unique<ManualClock>(kStart));
    beats.push_back(std::make_unique<Beat>(*stores_[i], *clocks[i], entries()));
    ASSERT_TRUE(beats[i]->register_schedules().ok());
  }
  for (const Spec& s : specs()) ASSERT_TRUE(stores_[0]->set_schedule_paused(s.name, true).ok());
  for (Millis t = kStart; t <= kStart + 20'000; t += kStep) {
    for (int i = 0; i < kBeats; ++i) {
      clocks[i]->set(t);
      Result<int> n = beats[i]->tick();
      ASSERT_TRUE(n.ok()) << n.status().to_string();
      EXPECT_EQ(*n, 0);
    }
  }
  expect_exactly({}, kStart + 20'000);
}

std::vector<std::string> registered_schemes() {
  std::vector<std::string> out;
  for (const StoreBackendInfo& info : store_backends()) out.emplace_back(info.scheme);
  return out;
}

INSTANTIATE_TEST_SUITE_P(Stores, PeriodicConformance, ::testing::ValuesIn(registered_schemes()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace runq
