// Conformance: results and their TTL, get_task through the lifecycle, progress, and the two
// blocking calls (wait_task, wait_for_work).
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "conformance/store_conformance.hpp"
#include "support/wait.hpp"

namespace runq::conformance {
namespace {

using ::runq::testing::IsOk;
using ::runq::testing::StatusIs;
using ::runq::testing::wait_until;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

Settlement ack_with_ttl(const Delivery& d, std::string result, Millis ttl) {
  Settlement s = ack_of(d, std::move(result));
  s.result_ttl = ttl;
  return s;
}

TEST_P(StoreConformance, ResultIsReadableBeforeItsTtl) {
  enqueue({make_task("a")});
  EXPECT_TRUE(settle_one(ack_with_ttl(reserve_one(), "r", 60 * kSecond)));
  EXPECT_EQ(task_info("a", kT0 + 59 * kSecond).result, "r");
}

TEST_P(StoreConformance, ResultIsNotFoundAfterTtlAndCleanup) {
  enqueue({make_task("a")});
  EXPECT_TRUE(settle_one(ack_with_ttl(reserve_one(), "r", 60 * kSecond)));
  const Millis after = kT0 + 61 * kSecond;
  auto removed = store().cleanup(after);
  ASSERT_THAT(removed, IsOk());
  EXPECT_GE(*removed, 1);
  EXPECT_THAT(store().get_task("a", after), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreConformance, CleanupKeepsResultsThatHaveNotExpired) {
  enqueue({make_task("a")});
  EXPECT_TRUE(settle_one(ack_with_ttl(reserve_one(), "r", 60 * kSecond)));
  ASSERT_THAT(store().cleanup(kT0 + 30 * kSecond), IsOk());
  EXPECT_EQ(task_info("a", kT0 + 30 * kSecond).result, "r");
}

TEST_P(StoreConformance, CleanupLeavesQueuedTasksAlone) {
  enqueue({make_task("a"), make_task("later", "default", 0, kT0 + 400 * 24 * 3600 * kSecond)});
  ASSERT_THAT(store().cleanup(kT0 + 365LL * 24 * 3600 * kSecond), IsOk());
  EXPECT_EQ(queue_stats("default").pending, 1);
  EXPECT_EQ(queue_stats("default").scheduled, 1);
}

TEST_P(StoreConformance, DeadLettersBeyondRetentionAreCleanedUp) {
  enqueue({make_task("a")});
  EXPECT_TRUE(settle_one(dead_letter_of(reserve_one(), "x")));
  ASSERT_THAT(store().cleanup(kT0 + 24 * 3600 * kSecond), IsOk());
  EXPECT_EQ(store().list_dead(10).value_or({}).size(), 1u) << "kept within retention";
  ASSERT_THAT(store().cleanup(kT0 + 8LL * 24 * 3600 * kSecond), IsOk());  // default: 7 days
  EXPECT_EQ(store().list_dead(10).value_or({}).size(), 0u);
}

TEST_P(StoreConformance, EmptyResultStoresNothing) {
  enqueue({make_task("a")});
  EXPECT_TRUE(settle_one(ack_of(reserve_one(), "")));
  auto info = store().get_task("a", kT0);
  if (info.ok()) {
    EXPECT_EQ(info->result, "");
    EXPECT_EQ(info->state, TaskState::kSuccess);
  } else {
    EXPECT_THAT(info, StatusIs(StatusCode::kNotFound));
  }
}

// Store::get_tasks (a chord body reads its members with it) answers, in order, what get_task
// answers for each id: across the Redis store's 512-id rounds, for queued, reserved, succeeded,
// dead-lettered and unknown ids, and with an id asked twice.
TEST_P(StoreConformance, GetTasksAnswersLikeGetTaskForEachIdInOrder) {
  std::vector<NewTask> batch;
  for (int i = 0; i < 1100; ++i) batch.push_back(make_task("t" + std::to_string(i)));
  enqueue(batch);
  std::vector<Delivery> got = reserve({"default"}, 3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_TRUE(settle_one(ack_of(got[0], "\"value 0\"")));
  EXPECT_TRUE(settle_one(dead_letter_of(got[1], "bad input")));
  // got[2] stays reserved.
  std::vector<std::string> ids;
  for (int i = 1099; i >= 0; --i) ids.push_back("t" + std::to_string(i));
  ids.insert(ids.begin() + 700, "never-enqueued");
  ids.push_back(got[0].id);

  auto many = store().get_tasks(ids, kT0);

  ASSERT_THAT(many, IsOk());
  ASSERT_EQ(many->size(), ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto one = store().get_task(ids[i], kT0);
    const auto& m = (*many)[i];
    ASSERT_EQ(m.ok(), one.ok()) << ids[i];
    if (!one.ok()) {
      EXPECT_EQ(m.status().code(), one.status().code()) << ids[i];
      continue;
    }
    EXPECT_EQ(m->id, ids[i]);
    EXPECT_EQ(m->state, one->state) << ids[i];
    EXPECT_EQ(m->result, one->result) << ids[i];
    EXPECT_EQ(m->dead_reason, one->dead_reason) << ids[i];
    EXPECT_EQ(m->body, one->body) << ids[i];
    EXPECT_EQ(m->worker_id, one->worker_id) << ids[i];
  }
  EXPECT_THAT((*many)[700], StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(many->back()->result, "\"value 0\"");
  EXPECT_EQ(many->back()->state, TaskState::kSuccess);
}

TEST_P(StoreConformance, GetTaskOfUnknownIdIsNotFound) {
  EXPECT_THAT(store().get_task("never-enqueued", kT0), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreConformance, GetTaskFollowsTheLifecycle) {
  enqueue({make_task("a", "q", 4, kT0 + kSecond)});
  TaskInfo scheduled = task_info("a");
  EXPECT_EQ(scheduled.state, TaskState::kScheduled);
  EXPECT_EQ(scheduled.queue, "q");
  EXPECT_EQ(scheduled.priority, 4);
  EXPECT_EQ(scheduled.body, "body-of-a");
  Delivery d = reserve_one("q", kT0 + 2 * kSecond, kLease, "w9");
  TaskInfo reserved = task_info("a", kT0 + 2 * kSecond);
  EXPECT_EQ(reserved.state, TaskState::kReserved);
  EXPECT_EQ(reserved.worker_id, "w9");
  EXPECT_EQ(reserved.deliveries, 1);
  EXPECT_EQ(reserved.body, "body-of-a");
  EXPECT_TRUE(settle_one(ack_of(d, "{}", TaskState::kFailure), kT0 + 3 * kSecond));
  TaskInfo failed = task_info("a", kT0 + 3 * kSecond);
  EXPECT_EQ(failed.state, TaskState::kFailure);
  EXPECT_EQ(failed.result, "{}");
}

TEST_P(StoreConformance, PendingTaskInfoShowsQueueAndBody) {
  enqueue({make_task("a", "q", 7)});
  TaskInfo info = task_info("a");
  EXPECT_EQ(info.id, "a");
  EXPECT_EQ(info.state, TaskState::kPending);
  EXPECT_EQ(info.queue, "q");
  EXPECT_EQ(info.priority, 7);
  EXPECT_EQ(info.deliveries, 0);
  EXPECT_EQ(info.body, "body-of-a");
}

TEST_P(StoreConformance, ProgressIsVisibleToGetTask) {
  enqueue({make_task("a")});
  Delivery d = reserve_one();
  EXPECT_THAT(store().set_progress(lease_of(d), 0.25), IsOk());
  EXPECT_DOUBLE_EQ(task_info("a").progress, 0.25);
  EXPECT_THAT(store().set_progress(lease_of(d), 0.75), IsOk());
  EXPECT_DOUBLE_EQ(task_info("a").progress, 0.75);
}

TEST_P(StoreConformance, SetProgressOfUnknownTaskIsNotFound) {
  EXPECT_THAT(store().set_progress(LeaseRef{"nope", 1}, 0.5), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreConformance, SetProgressAfterAckIsFailedPrecondition) {
  enqueue({make_task("a")});
  Delivery d = reserve_one();
  EXPECT_TRUE(settle_one(ack_of(d, "r")));
  EXPECT_THAT(store().set_progress(lease_of(d), 0.5), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_P(StoreConformance, WaitTaskReturnsWhenSettledByAnotherThread) {
  enqueue({make_task("a")});
  Delivery d = reserve_one();
  std::atomic<bool> started{false};
  std::atomic<bool> done{false};
  Result<TaskInfo> waited = internal_error("not run");
  std::thread waiter([&] {
    started = true;
    waited = store().wait_task("a", 10'000);
    done = true;
  });
  ASSERT_TRUE(wait_until([&] { return started.load(); }));
  EXPECT_TRUE(settle_one(ack_of(d, "from another thread")));
  EXPECT_TRUE(wait_until([&] { return done.load(); }, milliseconds(5000)))
      << "wait_task did not return within 5 s of the settlement";
  waiter.join();
  ASSERT_THAT(waited, IsOk());
  EXPECT_EQ(waited->state, TaskState::kSuccess);
  EXPECT_EQ(waited->result, "from another thread");
}

TEST_P(StoreConformance, WaitTaskWaitsThroughARetryUntilFinal) {
  enqueue({make_task("a")});
  std::atomic<bool> done{false};
  Result<TaskInfo> waited = internal_error("not run");
  std::thread waiter([&] {
    waited = store().wait_task("a", 10'000);
    done = true;
  });
  EXPECT_TRUE(settle_one(retry_of(reserve_one(), kT0)));

  EXPECT_FALSE(wait_until([&] { return done.load(); }, milliseconds(300)))
      << "wait_task returned on a retry, which is not final";
  EXPECT_TRUE(settle_one(ack_of(reserve_one(), "final")));
  EXPECT_TRUE(wait_until([&] { return done.load(); }, milliseconds(5000)));
  waiter.join();
  ASSERT_THAT(waited, IsOk());
  EXPECT_EQ(waited->state, TaskState::kSuccess);
}

TEST_P(StoreConformance, WaitTaskTimesOutWithDeadlineExceeded) {
  enqueue({make_task("a")});
  auto start = steady_clock::now();
  EXPECT_THAT(store().wait_task("a", 50), StatusIs(StatusCode::kDeadlineExceeded));
  EXPECT_LT(steady_clock::now() - start, milliseconds(5000));
}

TEST_P(StoreConformance, WaitTaskReturnsAtOnceForFinishedTask) {
  enqueue({make_task("a")});
  EXPECT_TRUE(settle_one(ack_of(reserve_one(), "r")));
  auto waited = store().wait_task("a", 10'000);
  ASSERT_THAT(waited, IsOk());
  EXPECT_EQ(waited->result, "r");
}

TEST_P(StoreConformance, WaitTaskReturnsForDeadTask) {
  enqueue({make_task("a")});
  EXPECT_TRUE(settle_one(dead_letter_of(reserve_one(), "x")));
  auto waited = store().wait_task("a", 10'000);
  ASSERT_THAT(waited, IsOk());
  EXPECT_EQ(waited->state, TaskState::kDead);
}

TEST_P(StoreConformance, WaitTaskOfUnknownIdIsNotFound) {
  EXPECT_THAT(store().wait_task("never-enqueued", 50), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreConformance, WaitForWorkReturnsPromptlyAfterEnqueue) {
  std::atomic<bool> started{false};
  std::atomic<bool> done{false};
  Status waited = internal_error("not run");
  std::thread waiter([&] {
    started = true;
    waited = store().wait_for_work({"q"}, 10'000);
    done = true;
  });
  ASSERT_TRUE(wait_until([&] { return started.load(); }));
  enqueue({make_task("a", "q")});
  EXPECT_TRUE(wait_until([&] { return done.load(); }, milliseconds(5000)))
      << "wait_for_work did not return within 5 s of an enqueue";
  waiter.join();
  EXPECT_THAT(waited, IsOk());
}

TEST_P(StoreConformance, WaitForWorkReturnsPromptlyAfterRelease) {
  enqueue({make_task("a", "q")});
  Delivery d = reserve_one("q");
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    store().wait_for_work({"q"}, 10'000).ignore_error();
    done = true;
  });
  EXPECT_TRUE(settle_one(release_of(d)));
  EXPECT_TRUE(wait_until([&] { return done.load(); }, milliseconds(5000)));
  waiter.join();
}

TEST_P(StoreConformance, WaitForWorkTimesOutWithoutWork) {
  auto start = steady_clock::now();
  EXPECT_THAT(store().wait_for_work({"q"}, 50), IsOk());
  EXPECT_LT(steady_clock::now() - start, milliseconds(5000));
}

ReserveRequest idle_worker_request(int max = 5) {
  ReserveRequest req;
  req.queues = {"q"};
  req.worker_id = "w1";
  req.max = max;
  req.lease_ms = 40 * kSecond;
  return req;
}

TEST_P(StoreConformance, WaitAndReserveLeasesATaskEnqueuedDuringTheWait) {
  ManualClock clock(kT0);
  std::atomic<bool> started{false};
  std::atomic<bool> done{false};
  Result<std::vector<Delivery>> got = internal_error("not run");
  std::thread waiter([&] {
    started = true;
    got = store().wait_and_reserve(idle_worker_request(), 10'000, clock);
    done = true;
  });
  ASSERT_TRUE(wait_until([&] { return started.load(); }));
  enqueue({make_task("a", "q")});
  // A spurious early return is allowed: the waiter then comes back with nothing.
  ASSERT_TRUE(wait_until([&] { return done.load(); }, milliseconds(5000)))
      << "wait_and_reserve did not return within 5 s of an enqueue";
  waiter.join();
  ASSERT_THAT(got, IsOk());
  if (got->empty()) got = store().wait_and_reserve(idle_worker_request(), 10'000, clock);
  ASSERT_THAT(got, IsOk());
  ASSERT_EQ(ids_of(*got), std::vector<std::string>{"a"});
  EXPECT_EQ((*got)[0].deliveries, 1);
  EXPECT_EQ((*got)[0].lease_expires, kT0 + 40 * kSecond);
  TaskInfo info = task_info("a");
  EXPECT_EQ(info.state, TaskState::kReserved);
  EXPECT_EQ(info.worker_id, "w1");
}

TEST_P(StoreConformance, WaitAndReserveTakesReadyTasksAtOnce) {
  enqueue({make_task("a", "q"), make_task("b", "q"), make_task("c", "q")});
  ManualClock clock(kT0);
  auto start = steady_clock::now();
  auto got = store().wait_and_reserve(idle_worker_request(2), 10'000, clock);
  EXPECT_LT(steady_clock::now() - start, milliseconds(5000));
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(ids_of(*got), (std::vector<std::string>{"a", "b"}));
}

TEST_P(StoreConformance, WaitAndReserveReservesAtTheClocksTimeAfterTheWait) {
  // The request carries no time: the store reserves at the clock's time, past the eta.
  enqueue({make_task("later", "q", 0, kT0 + 100)});
  ManualClock clock(kT0 + 200);
  auto got = store().wait_and_reserve(idle_worker_request(), 10'000, clock);
  ASSERT_THAT(got, IsOk());
  if (got->empty()) got = store().wait_and_reserve(idle_worker_request(), 10'000, clock);
  ASSERT_THAT(got, IsOk());
  ASSERT_EQ(ids_of(*got), std::vector<std::string>{"later"});
  EXPECT_EQ((*got)[0].lease_expires, kT0 + 200 + 40 * kSecond);
}

TEST_P(StoreConformance, WaitAndReserveTimesOutEmpty) {
  ManualClock clock(kT0);
  auto start = steady_clock::now();
  auto got = store().wait_and_reserve(idle_worker_request(), 50, clock);
  EXPECT_LT(steady_clock::now() - start, milliseconds(5000));
  ASSERT_THAT(got, IsOk());
  EXPECT_THAT(*got, ::testing::IsEmpty());
}

}  // namespace
}  // namespace runq::conformance
