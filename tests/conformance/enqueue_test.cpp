// Conformance: enqueue (validation, atomic batches, idempotence per id), ordering within and
// across queues, and scheduled tasks.
#include <string>
#include <vector>

#include "conformance/store_conformance.hpp"

namespace runq::conformance {
namespace {

using ::runq::testing::IsOk;
using ::runq::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

TEST_P(StoreConformance, EnqueuedTaskIsReservedWithItsBody) {
  enqueue({make_task("a", "q")});
  Delivery d = reserve_one("q");
  EXPECT_EQ(d.id, "a");
  EXPECT_EQ(d.queue, "q");
  EXPECT_EQ(d.body, "body-of-a");
}

TEST_P(StoreConformance, EnqueueBatchAddsEveryTask) {
  enqueue({make_task("a"), make_task("b"), make_task("c")});
  EXPECT_THAT(ids_of(reserve({"default"}, 10)), UnorderedElementsAre("a", "b", "c"));
}

TEST_P(StoreConformance, BatchWithOneInvalidTaskAddsNothing) {
  std::vector<NewTask> batch = {make_task("a"), make_task("b"), make_task("")};
  EXPECT_THAT(store().enqueue(batch, kT0), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(reserve({"default"}, 10), IsEmpty());
  EXPECT_THAT(store().get_task("a", kT0), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreConformance, EnqueueRejectsEmptyId) {
  std::vector<NewTask> batch = {make_task("")};
  EXPECT_THAT(store().enqueue(batch, kT0), StatusIs(StatusCode::kInvalidArgument));
}

TEST_P(StoreConformance, EnqueueRejectsEmptyQueue) {
  std::vector<NewTask> batch = {make_task("a", "")};
  EXPECT_THAT(store().enqueue(batch, kT0), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store().get_task("a", kT0), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreConformance, EnqueueRejectsPriorityAboveNine) {
  std::vector<NewTask> batch = {make_task("a", "q", 10)};
  EXPECT_THAT(store().enqueue(batch, kT0), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store().get_task("a", kT0), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreConformance, EnqueueRejectsNegativePriority) {
  std::vector<NewTask> batch = {make_task("a", "q", -1)};
  EXPECT_THAT(store().enqueue(batch, kT0), StatusIs(StatusCode::kInvalidArgument));
}

TEST_P(StoreConformance, EnqueueRejectsMaxDeliveriesBelowOne) {
  NewTask t = make_task("a");
  t.max_deliveries = 0;
  std::vector<NewTask> batch = {t};
  EXPECT_THAT(store().enqueue(batch, kT0), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store().get_task("a", kT0), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreConformance, OversizedBodyIsTooLarge) {
  NewTask big = make_task("big");
  big.body.assign((1 << 20) + 1, 'x');  // every backend's default limit is 1 MiB
  std::vector<NewTask> batch = {make_task("small"), big};
  Status s = store().enqueue(batch, kT0);
  EXPECT_THAT(s, StatusIs(StatusCode::kTooLarge));
  EXPECT_FALSE(s.message().empty());
  EXPECT_THAT(store().get_task("small", kT0), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreConformance, BodyAtTheLimitIsAccepted) {
  NewTask t = make_task("big");
  t.body.assign(1 << 20, 'x');
  enqueue({t});
  EXPECT_EQ(reserve_one().body.size(), std::size_t{1} << 20);
}

TEST_P(StoreConformance, EmptyBatchIsAccepted) {
  EXPECT_THAT(store().enqueue(std::vector<NewTask>{}, kT0), IsOk());
}

TEST_P(StoreConformance, DuplicateIdIsSkipped) {
  enqueue({make_task("a")});
  NewTask again = make_task("a");
  again.body = "another body";
  enqueue({again, make_task("b")});
  auto got = reserve({"default"}, 10);
  ASSERT_EQ(got.size(), 2u);
  for (const Delivery& d : got) {
    if (d.id == "a") {
      EXPECT_EQ(d.body, "body-of-a");
    }
  }
}

TEST_P(StoreConformance, DuplicateIdWithinOneBatchIsSkipped) {
  NewTask second = make_task("a");
  second.body = "second";
  enqueue({make_task("a"), second});
  auto got = reserve({"default"}, 10);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "body-of-a");
}

TEST_P(StoreConformance, DuplicateOfRunningTaskIsSkipped) {
  enqueue({make_task("a")});
  Delivery d = reserve_one();
  enqueue({make_task("a")});
  EXPECT_THAT(reserve({"default"}, 10), IsEmpty());
  EXPECT_TRUE(settle_one(ack_of(d)));
}

TEST_P(StoreConformance, DuplicateOfFinishedTaskIsSkipped) {
  enqueue({make_task("a")});
  EXPECT_TRUE(settle_one(ack_of(reserve_one(), "{\"v\":1}")));
  enqueue({make_task("a")}, kT0 + 1);
  EXPECT_THAT(reserve({"default"}, 10, kT0 + 1), IsEmpty());
  EXPECT_EQ(task_info("a", kT0 + 1).state, TaskState::kSuccess);
}

TEST_P(StoreConformance, DuplicateOfDeadTaskIsSkipped) {
  enqueue({make_task("a")});
  EXPECT_TRUE(settle_one(dead_letter_of(reserve_one(), "bad input")));
  enqueue({make_task("a")}, kT0 + 1);
  EXPECT_THAT(reserve({"default"}, 10, kT0 + 1), IsEmpty());
  EXPECT_EQ(task_info("a", kT0 + 1).state, TaskState::kDead);
}

TEST_P(StoreConformance, HigherPriorityIsReservedFirst) {
  enqueue({make_task("p0", "q", 0), make_task("p9", "q", 9), make_task("p5", "q", 5)});
  EXPECT_EQ(reserve_one("q").id, "p9");
  EXPECT_EQ(reserve_one("q").id, "p5");
  EXPECT_EQ(reserve_one("q").id, "p0");
}

TEST_P(StoreConformance, SamePriorityIsFirstInFirstOut) {
  for (int i = 0; i < 5; ++i) enqueue({make_task("t" + std::to_string(i), "q", 3)}, kT0 + i);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(reserve_one("q", kT0 + 10).id, "t" + std::to_string(i));
}

TEST_P(StoreConformance, BatchOrderIsFirstInFirstOut) {
  enqueue({make_task("x"), make_task("y"), make_task("z")});
  EXPECT_THAT(ids_of(reserve({"default"}, 1)), ElementsAre("x"));
  EXPECT_THAT(ids_of(reserve({"default"}, 1)), ElementsAre("y"));
  EXPECT_THAT(ids_of(reserve({"default"}, 1)), ElementsAre("z"));
}

TEST_P(StoreConformance, EarlierQueueIsPreferred) {
  enqueue(
      {make_task("low1", "low", 9), make_task("high1", "high", 0), make_task("high2", "high", 0)});
  EXPECT_THAT(ids_of(reserve({"high", "low"}, 2)), UnorderedElementsAre("high1", "high2"));
  EXPECT_THAT(ids_of(reserve({"high", "low"}, 2)), ElementsAre("low1"));
}

TEST_P(StoreConformance, ReserveFillsFromLaterQueuesWhenEarlierRunDry) {
  enqueue({make_task("a1", "a"), make_task("b1", "b"), make_task("b2", "b")});
  EXPECT_THAT(ids_of(reserve({"a", "b"}, 2)), UnorderedElementsAre("a1", "b1"));
}

TEST_P(StoreConformance, ReserveTakesOnlyFromRequestedQueues) {
  enqueue({make_task("other1", "other")});
  EXPECT_THAT(reserve({"default"}, 10), IsEmpty());
  EXPECT_EQ(reserve_one("other").id, "other1");
}

TEST_P(StoreConformance, ReserveHandsOutAtMostMax) {
  enqueue({make_task("a"), make_task("b"), make_task("c")});
  EXPECT_EQ(reserve({"default"}, 2).size(), 2u);
  EXPECT_EQ(reserve({"default"}, 2).size(), 1u);
}

TEST_P(StoreConformance, ReserveOnEmptyQueueReturnsNothing) {
  EXPECT_THAT(reserve({"nothing-here"}, 5), IsEmpty());
}

TEST_P(StoreConformance, ReserveRejectsEmptyQueueList) {
  ReserveRequest req;
  req.now = kT0;
  EXPECT_THAT(store().reserve(req), StatusIs(StatusCode::kInvalidArgument));
}

TEST_P(StoreConformance, ReserveRejectsMaxBelowOne) {
  enqueue({make_task("a")});
  ReserveRequest req;
  req.queues = {"default"};
  req.max = 0;
  req.now = kT0;
  EXPECT_THAT(store().reserve(req), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(reserve_one().id, "a");
}

TEST_P(StoreConformance, FutureEtaMakesTaskScheduled) {
  enqueue({make_task("later", "default", 0, kT0 + 60 * kSecond)});
  TaskInfo info = task_info("later");
  EXPECT_EQ(info.state, TaskState::kScheduled);
  EXPECT_EQ(info.eta, kT0 + 60 * kSecond);
}

TEST_P(StoreConformance, PastEtaMakesTaskPending) {
  enqueue({make_task("now", "default", 0, kT0 - kSecond)});
  EXPECT_EQ(task_info("now").state, TaskState::kPending);
}

TEST_P(StoreConformance, ScheduledTaskIsNotReservedBeforeEta) {
  enqueue({make_task("later", "default", 0, kT0 + 60 * kSecond)});
  EXPECT_THAT(reserve({"default"}, 10, kT0 + 59 * kSecond), IsEmpty());
}

TEST_P(StoreConformance, ScheduledTaskIsReservedOnceDue) {
  enqueue({make_task("later", "default", 0, kT0 + 60 * kSecond)});
  EXPECT_EQ(reserve_one("default", kT0 + 61 * kSecond).id, "later");
}

TEST_P(StoreConformance, ScheduledTaskWithAnyHorizonWaitsInTheStore) {
  const Millis year = 365LL * 24 * 3600 * kSecond;
  enqueue({make_task("next-year", "default", 0, kT0 + year)});
  EXPECT_THAT(reserve({"default"}, 10, kT0 + year - 1), IsEmpty());
  EXPECT_EQ(reserve_one("default", kT0 + year).id, "next-year");
}

TEST_P(StoreConformance, PromotedTaskKeepsPriorityOrder) {
  enqueue({make_task("now-low", "q", 1), make_task("due-high", "q", 8, kT0 + kSecond)});
  EXPECT_EQ(reserve_one("q", kT0 + 2 * kSecond).id, "due-high");
}

}  // namespace
}  // namespace runq::conformance
