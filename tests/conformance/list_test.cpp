// Conformance: list_tasks — order, every filter, cursor pages that cover everything once, and
// pages whose work is bounded however many tasks do not match.
#include <set>
#include <string>
#include <vector>

#include "conformance/store_conformance.hpp"

namespace runq::conformance {
namespace {

using ::runq::testing::IsOk;
using ::runq::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

NewTask named(std::string id, std::string task, std::string queue = "default", Millis eta = 0) {
  NewTask t = make_task(std::move(id), std::move(queue), 0, eta);
  t.task = std::move(task);
  return t;
}

// Every page's ids, following the cursors to the end (at most 10,000 pages).
std::vector<std::string> list_all(Store& store, const TaskFilter& f = {}, std::size_t limit = 100,
                                  Millis now = kT0, int* pages = nullptr) {
  std::vector<std::string> ids;
  std::string cursor;
  for (int page = 0; page < 10'000; ++page) {
    Result<TaskPage> p = store.list_tasks(f, cursor, limit, now);
    EXPECT_THAT(p, IsOk());
    if (!p.ok()) break;
    EXPECT_LE(p->tasks.size(), limit);
    for (const TaskSummary& t : p->tasks) ids.push_back(t.id);
    if (pages) *pages = page + 1;
    if (p->next_cursor.empty()) break;
    cursor = p->next_cursor;
  }
  return ids;
}

TaskFilter in_state(TaskState s) {
  TaskFilter f;
  f.state = s;
  return f;
}

TEST_P(StoreConformance, ListTasksListsNewestEnqueueFirst) {
  enqueue({named("a", "t")}, kT0);
  enqueue({named("b", "t")}, kT0 + 1);
  enqueue({named("c", "t")}, kT0 + 2);

  EXPECT_THAT(list_all(store(), {}, 100, kT0 + 3), ElementsAre("c", "b", "a"));
}

TEST_P(StoreConformance, ListTasksTiesAreOrderedByIdDescending) {
  enqueue({named("x1", "t"), named("x3", "t"), named("x2", "t")});

  EXPECT_THAT(list_all(store()), ElementsAre("x3", "x2", "x1"));
}

TEST_P(StoreConformance, ListTasksSummaryCarriesQueueTaskStateAndTime) {
  enqueue({named("a", "mail", "q1")}, kT0 + 5);

  auto p = store().list_tasks({}, "", 10, kT0 + 5);

  ASSERT_THAT(p, IsOk());
  ASSERT_EQ(p->tasks.size(), 1u);
  EXPECT_EQ(p->tasks[0].queue, "q1");
  EXPECT_EQ(p->tasks[0].task, "mail");
  EXPECT_EQ(p->tasks[0].state, TaskState::kPending);
  EXPECT_EQ(p->tasks[0].enqueued, kT0 + 5);
}

TEST_P(StoreConformance, ListTasksFiltersByQueue) {
  enqueue({named("a1", "t", "a"), named("b1", "t", "b"), named("a2", "t", "a")});
  TaskFilter f;
  f.queue = "a";

  EXPECT_THAT(list_all(store(), f), ElementsAre("a2", "a1"));
}

TEST_P(StoreConformance, ListTasksFiltersByTaskName) {
  enqueue({named("m1", "mail"), named("r1", "report"), named("m2", "mail", "other")});
  TaskFilter f;
  f.task = "mail";

  EXPECT_THAT(list_all(store(), f), ElementsAre("m2", "m1"));
}

TEST_P(StoreConformance, ListTasksFiltersByTaskNameAndQueue) {
  enqueue({named("m1", "mail"), named("r1", "report"), named("m2", "mail", "other")});
  TaskFilter f;
  f.task = "mail";
  f.queue = "other";

  EXPECT_THAT(list_all(store(), f), ElementsAre("m2"));
}

TEST_P(StoreConformance, ListTasksFiltersByState) {
  enqueue({named("run", "t", "default"), named("later", "t", "default", kT0 + kLease),
           named("wait", "t", "w")});
  Delivery d = reserve_one("default");

  EXPECT_THAT(list_all(store(), in_state(TaskState::kReserved)), ElementsAre("run"));
  EXPECT_THAT(list_all(store(), in_state(TaskState::kScheduled)), ElementsAre("later"));
  EXPECT_THAT(list_all(store(), in_state(TaskState::kPending)), ElementsAre("wait"));
  EXPECT_EQ(d.id, "run");
}

TEST_P(StoreConformance, ListTasksListsRetryDeadAndFinishedStates) {
  enqueue({named("ok", "t", "a"), named("again", "t", "b"), named("died", "t", "c")});
  ASSERT_TRUE(settle_one(ack_of(reserve_one("a"), "{}")));
  ASSERT_TRUE(settle_one(retry_of(reserve_one("b"), kT0 + kLease)));
  ASSERT_TRUE(settle_one(dead_letter_of(reserve_one("c"), "bad")));

  EXPECT_THAT(list_all(store(), in_state(TaskState::kSuccess)), ElementsAre("ok"));
  EXPECT_THAT(list_all(store(), in_state(TaskState::kRetry)), ElementsAre("again"));
  EXPECT_THAT(list_all(store(), in_state(TaskState::kDead)), ElementsAre("died"));
}

TEST_P(StoreConformance, ListTasksFinishedTaskKeepsItsQueue) {
  enqueue({named("ok", "t", "a")});
  ASSERT_TRUE(settle_one(ack_of(reserve_one("a"), "{}")));
  TaskFilter f;
  f.queue = "a";

  EXPECT_THAT(list_all(store(), f), ElementsAre("ok"));
}

TEST_P(StoreConformance, ListTasksFinishedTaskLeavesTheListWhenItsRecordExpires) {
  enqueue({named("ok", "t")});
  Settlement s = ack_of(reserve_one(), "{}");
  s.result_ttl = 10 * kSecond;
  ASSERT_TRUE(settle_one(s));

  EXPECT_THAT(list_all(store(), {}, 100, kT0 + 5 * kSecond), ElementsAre("ok"));
  EXPECT_THAT(list_all(store(), {}, 100, kT0 + 11 * kSecond), IsEmpty());
  ASSERT_THAT(store().cleanup(kT0 + 11 * kSecond), IsOk());
  EXPECT_THAT(list_all(store(), {}, 100, kT0 + 11 * kSecond), IsEmpty());
}

TEST_P(StoreConformance, ListTasksShowsAnIdEnqueuedAgainOnceAtItsNewTime) {
  enqueue({named("a", "t")});
  Settlement s = ack_of(reserve_one(), "{}");
  s.result_ttl = kSecond;
  ASSERT_TRUE(settle_one(s));

  enqueue({named("a", "t")}, kT0 + 2 * kSecond);
  auto p = store().list_tasks({}, "", 10, kT0 + 2 * kSecond);

  ASSERT_THAT(p, IsOk());
  ASSERT_EQ(p->tasks.size(), 1u);
  EXPECT_EQ(p->tasks[0].enqueued, kT0 + 2 * kSecond);
  EXPECT_EQ(p->tasks[0].state, TaskState::kPending);
}

TEST_P(StoreConformance, ListTasksFiltersByEnqueueTimeRange) {
  for (int i = 0; i < 5; ++i) enqueue({named("t" + std::to_string(i), "t")}, kT0 + i * kSecond);
  TaskFilter f;
  f.enqueued_from = kT0 + kSecond;
  f.enqueued_before = kT0 + 4 * kSecond;

  EXPECT_THAT(list_all(store(), f, 100, kT0 + 5 * kSecond), ElementsAre("t3", "t2", "t1"));
}

TEST_P(StoreConformance, ListTasksCursorPagesListEveryTaskOnceInOrder) {
  std::vector<NewTask> batch;
  for (int i = 0; i < 25; ++i) batch.push_back(named("id" + std::to_string(100 + i), "t"));
  enqueue(batch);

  std::vector<std::string> ids = list_all(store(), {}, 7);

  ASSERT_EQ(ids.size(), 25u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 25u);
  EXPECT_EQ(ids.front(), "id124");
  EXPECT_EQ(ids.back(), "id100");
}

TEST_P(StoreConformance, ListTasksPurgedTasksAreNotListed) {
  enqueue({named("p", "t", "q"), named("keep", "t", "other")});
  ASSERT_THAT(store().purge_queue("q"), IsOk());

  EXPECT_THAT(list_all(store()), ElementsAre("keep"));
}

TEST_P(StoreConformance, ListTasksPurgedDeadLettersAreNotListed) {
  enqueue({named("died", "t")});
  ASSERT_TRUE(settle_one(dead_letter_of(reserve_one(), "bad")));
  ASSERT_THAT(store().purge_dead(), IsOk());

  EXPECT_THAT(list_all(store()), IsEmpty());
}

TEST_P(StoreConformance, ListTasksClaimedTickTaskIsListed) {
  auto claimed = store().claim_tick("nightly", kT0, named("tick-1", "report"), kT0);
  ASSERT_THAT(claimed, IsOk());
  TaskFilter f;
  f.task = "report";

  EXPECT_THAT(list_all(store(), f), ElementsAre("tick-1"));
}

// A filter that matches one task among many: each page reads a bounded number of entries, so
// the pages before the match come back empty with a cursor, and the match is still found.
TEST_P(StoreConformance, ListTasksSelectiveFilterPagesWithBoundedWork) {
  enqueue({named("died", "t")});
  ASSERT_TRUE(settle_one(dead_letter_of(reserve_one(), "bad")));
  std::vector<NewTask> batch;
  for (int i = 0; i < 500; ++i) batch.push_back(named("p" + std::to_string(i), "t"));
  enqueue(batch, kT0 + 1);

  auto first = store().list_tasks(in_state(TaskState::kDead), "", 1, kT0 + 1);
  int pages = 0;
  std::vector<std::string> ids = list_all(store(), in_state(TaskState::kDead), 1, kT0 + 1, &pages);

  ASSERT_THAT(first, IsOk());
  EXPECT_THAT(first->tasks, IsEmpty());
  EXPECT_FALSE(first->next_cursor.empty());
  EXPECT_THAT(ids, ElementsAre("died"));
  EXPECT_GE(pages, static_cast<int>(501 / list_tasks_budget(1)));
}

TEST_P(StoreConformance, ListTasksLimitOutsideRangeIsInvalidArgument) {
  EXPECT_THAT(store().list_tasks({}, "", 0, kT0), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store().list_tasks({}, "", kMaxListLimit + 1, kT0),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_P(StoreConformance, ListTasksForeignCursorIsInvalidArgument) {
  EXPECT_THAT(store().list_tasks({}, "not-a-cursor", 10, kT0),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_P(StoreConformance, ListTasksInvertedTimeRangeIsInvalidArgument) {
  TaskFilter f;
  f.enqueued_from = kT0 + 10;
  f.enqueued_before = kT0;

  EXPECT_THAT(store().list_tasks(f, "", 10, kT0), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace runq::conformance
