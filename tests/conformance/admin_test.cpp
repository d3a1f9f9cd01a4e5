// Conformance: stats, the worker registry, purge_queue, and periodic schedules (tick claims).
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "conformance/store_conformance.hpp"

namespace runq::conformance {
namespace {

using ::runq::testing::IsOk;
using ::runq::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

WorkerInfo worker(std::string id, Millis expires) {
  WorkerInfo w;
  w.id = std::move(id);
  w.host = "host-1";
  w.pid = 4242;
  w.queues = {"default", "mail"};
  w.concurrency = 4;
  w.running = 1;
  w.processed = 17;
  w.failed = 2;
  w.started = kT0 - 60 * kSecond;
  w.last_seen = kT0;
  w.expires = expires;
  return w;
}

std::vector<std::string> worker_ids(const StoreStats& s) {
  std::vector<std::string> ids;
  for (const WorkerInfo& w : s.workers) ids.push_back(w.id);
  return ids;
}

TEST_P(StoreConformance, StatsCountsEachStatePerQueue) {
  enqueue({make_task("p1", "a"), make_task("p2", "a"), make_task("run", "a", 9),
           make_task("s1", "a", 0, kT0 + kLease), make_task("dead", "b", 9), make_task("b1", "b")});
  reserve_one("a");  // "run" (priority 9)
  EXPECT_TRUE(settle_one(dead_letter_of(reserve_one("b"), "x")));
  QueueStats a = queue_stats("a");
  EXPECT_EQ(a.pending, 2);
  EXPECT_EQ(a.scheduled, 1);
  EXPECT_EQ(a.running, 1);
  EXPECT_EQ(a.dead, 0);
  QueueStats b = queue_stats("b");
  EXPECT_EQ(b.pending, 1);
  EXPECT_EQ(b.dead, 1);
}

TEST_P(StoreConformance, StatsOfEmptyStoreIsEmpty) {
  StoreStats s = all_stats();
  EXPECT_THAT(s.queues, IsEmpty());
  EXPECT_THAT(s.workers, IsEmpty());
  EXPECT_EQ(s.completed, 0u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(s.duplicates, 0u);
}

TEST_P(StoreConformance, StatsListsAliveWorkers) {
  RUNQ_ASSERT_OK(store().heartbeat(worker("w1", kT0 + 10 * kSecond)));
  StoreStats s = all_stats();
  ASSERT_EQ(s.workers.size(), 1u);
  const WorkerInfo& w = s.workers[0];
  EXPECT_EQ(w.id, "w1");
  EXPECT_EQ(w.host, "host-1");
  EXPECT_EQ(w.pid, 4242);
  EXPECT_EQ(w.queues, (std::vector<std::string>{"default", "mail"}));
  EXPECT_EQ(w.concurrency, 4);
  EXPECT_EQ(w.running, 1);
  EXPECT_EQ(w.processed, 17u);
  EXPECT_EQ(w.failed, 2u);
  EXPECT_EQ(w.started, kT0 - 60 * kSecond);
  EXPECT_EQ(w.last_seen, kT0);
  EXPECT_EQ(w.expires, kT0 + 10 * kSecond);
}

TEST_P(StoreConformance, StatsOmitsWorkersWhoseHeartbeatExpired) {
  RUNQ_ASSERT_OK(store().heartbeat(worker("gone", kT0 + 5 * kSecond)));
  RUNQ_ASSERT_OK(store().heartbeat(worker("alive", kT0 + 60 * kSecond)));
  EXPECT_THAT(worker_ids(all_stats(kT0 + 10 * kSecond)), ElementsAre("alive"));
}

TEST_P(StoreConformance, HeartbeatRenewsAWorker) {
  RUNQ_ASSERT_OK(store().heartbeat(worker("w1", kT0 + 5 * kSecond)));
  WorkerInfo again = worker("w1", kT0 + 20 * kSecond);
  again.processed = 18;
  RUNQ_ASSERT_OK(store().heartbeat(again));
  StoreStats s = all_stats(kT0 + 10 * kSecond);
  ASSERT_EQ(s.workers.size(), 1u);
  EXPECT_EQ(s.workers[0].processed, 18u);
}

TEST_P(StoreConformance, RemovedWorkerIsNotListed) {
  RUNQ_ASSERT_OK(store().heartbeat(worker("w1", kT0 + 60 * kSecond)));
  RUNQ_ASSERT_OK(store().heartbeat(worker("w2", kT0 + 60 * kSecond)));
  EXPECT_THAT(store().remove_worker("w1"), IsOk());
  EXPECT_THAT(worker_ids(all_stats()), ElementsAre("w2"));
}

TEST_P(StoreConformance, RemoveUnknownWorkerIsNotFound) {
  EXPECT_THAT(store().remove_worker("nobody"), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreConformance, PurgeQueueDeletesPendingAndScheduledTasks) {
  enqueue({make_task("p", "q"), make_task("s", "q", 0, kT0 + kLease)});
  auto n = store().purge_queue("q");
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(*n, 2);
  EXPECT_THAT(reserve({"q"}, 10, kT0 + 2 * kLease), IsEmpty());
}

TEST_P(StoreConformance, PurgeQueueLeavesRunningTasksAlone) {
  enqueue({make_task("run", "q", 9), make_task("p", "q")});
  Delivery d = reserve_one("q");
  auto n = store().purge_queue("q");
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(queue_stats("q").running, 1);
  EXPECT_TRUE(settle_one(ack_of(d, "r")));
}

TEST_P(StoreConformance, PurgeQueueTouchesOnlyThatQueue) {
  enqueue({make_task("a1", "a"), make_task("b1", "b")});
  auto n = store().purge_queue("a");
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(reserve_one("b").id, "b1");
}

TEST_P(StoreConformance, PurgeUnknownQueueRemovesNothing) {
  auto n = store().purge_queue("no-such-queue");
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(*n, 0);
}

TEST_P(StoreConformance, ClaimTickFiresOncePerTick) {
  auto first = store().claim_tick("nightly", kT0, make_task("nightly@1"), kT0);
  auto second = store().claim_tick("nightly", kT0, make_task("nightly@1"), kT0 + 1);
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(second, IsOk());
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*second);
}

TEST_P(StoreConformance, ClaimedTickEnqueuesItsTask) {
  NewTask t = make_task("nightly@1", "reports", 3);
  ASSERT_THAT(store().claim_tick("nightly", kT0, t, kT0), IsOk());
  Delivery d = reserve_one("reports");
  EXPECT_EQ(d.id, "nightly@1");
  EXPECT_EQ(d.body, "body-of-nightly@1");
}

TEST_P(StoreConformance, ClaimOfOlderTickIsRefused) {
  ASSERT_THAT(store().claim_tick("s", kT0 + 60 * kSecond, make_task("s@2"), kT0), IsOk());
  auto older = store().claim_tick("s", kT0, make_task("s@1"), kT0);
  ASSERT_THAT(older, IsOk());
  EXPECT_FALSE(*older);
  EXPECT_THAT(store().get_task("s@1", kT0), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreConformance, ClaimOfNewerTickFiresAgain) {
  ASSERT_THAT(store().claim_tick("s", kT0, make_task("s@1"), kT0), IsOk());
  auto next = store().claim_tick("s", kT0 + 60 * kSecond, make_task("s@2"), kT0 + 60 * kSecond);
  ASSERT_THAT(next, IsOk());
  EXPECT_TRUE(*next);
  EXPECT_EQ(queue_stats("default", kT0 + 60 * kSecond).pending, 2);
}

TEST_P(StoreConformance, ClaimRecordsLastTick) {
  ASSERT_THAT(store().claim_tick("s", kT0 + 5, make_task("s@1"), kT0), IsOk());
  auto schedules = store().list_schedules();
  ASSERT_THAT(schedules, IsOk());
  ASSERT_EQ(schedules->size(), 1u);
  EXPECT_EQ((*schedules)[0].name, "s");
  EXPECT_EQ((*schedules)[0].last_tick, kT0 + 5);
  EXPECT_FALSE((*schedules)[0].paused);
}

TEST_P(StoreConformance, PausedScheduleDoesNotClaim) {
  RUNQ_ASSERT_OK(store().put_schedule_info("s", "{}"));
  RUNQ_ASSERT_OK(store().set_schedule_paused("s", true));
  auto claimed = store().claim_tick("s", kT0, make_task("s@1"), kT0);
  ASSERT_THAT(claimed, IsOk());
  EXPECT_FALSE(*claimed);
  EXPECT_THAT(store().get_task("s@1", kT0), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreConformance, ResumedScheduleClaimsAgain) {
  RUNQ_ASSERT_OK(store().put_schedule_info("s", "{}"));
  RUNQ_ASSERT_OK(store().set_schedule_paused("s", true));
  RUNQ_ASSERT_OK(store().set_schedule_paused("s", false));
  auto claimed = store().claim_tick("s", kT0, make_task("s@1"), kT0);
  ASSERT_THAT(claimed, IsOk());
  EXPECT_TRUE(*claimed);
}

TEST_P(StoreConformance, ClaimWithInvalidTaskIsInvalidArgument) {
  auto claimed = store().claim_tick("s", kT0, make_task("s@1", "q", 42), kT0);
  EXPECT_THAT(claimed, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store().get_task("s@1", kT0), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreConformance, ConcurrentClaimsOfOneTickFireOnce) {
  constexpr int kThreads = 4;
  std::atomic<int> fired{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      auto r = store().claim_tick("race", kT0, make_task("race@1"), kT0);
      if (!r.ok()) ++errors;
      if (r.ok() && *r) ++fired;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(fired.load(), 1);
  EXPECT_EQ(queue_stats("default").pending, 1);
}

TEST_P(StoreConformance, PutScheduleInfoCreatesSchedule) {
  RUNQ_ASSERT_OK(store().put_schedule_info("nightly", "{\"cron\":\"0 3 * * *\"}"));
  auto schedules = store().list_schedules();
  ASSERT_THAT(schedules, IsOk());
  ASSERT_EQ(schedules->size(), 1u);
  EXPECT_EQ((*schedules)[0].name, "nightly");
  EXPECT_EQ((*schedules)[0].info, "{\"cron\":\"0 3 * * *\"}");
  EXPECT_EQ((*schedules)[0].last_tick, 0);
  EXPECT_FALSE((*schedules)[0].paused);
}

TEST_P(StoreConformance, PutScheduleInfoKeepsLastTickAndPaused) {
  ASSERT_THAT(store().claim_tick("s", kT0, make_task("s@1"), kT0), IsOk());
  RUNQ_ASSERT_OK(store().set_schedule_paused("s", true));
  RUNQ_ASSERT_OK(store().put_schedule_info("s", "new info"));
  auto schedules = store().list_schedules();
  ASSERT_THAT(schedules, IsOk());
  ASSERT_EQ(schedules->size(), 1u);
  EXPECT_EQ((*schedules)[0].info, "new info");
  EXPECT_EQ((*schedules)[0].last_tick, kT0);
  EXPECT_TRUE((*schedules)[0].paused);
}

TEST_P(StoreConformance, ListSchedulesIsSortedByName) {
  for (const char* name : {"charlie", "alpha", "bravo"}) {
    RUNQ_ASSERT_OK(store().put_schedule_info(name, "{}"));
  }
  auto schedules = store().list_schedules();
  ASSERT_THAT(schedules, IsOk());
  std::vector<std::string> names;
  for (const ScheduleState& s : *schedules) names.push_back(s.name);
  EXPECT_THAT(names, ElementsAre("alpha", "bravo", "charlie"));
}

TEST_P(StoreConformance, PausingUnknownScheduleIsNotFound) {
  EXPECT_THAT(store().set_schedule_paused("never-registered", true),
              StatusIs(StatusCode::kNotFound));
}

}  // namespace
}  // namespace runq::conformance
