// Conformance: how a delivery ends (ack, retry, release, dead-letter) and the dead-letter
// admin calls (list_dead, retry_dead, purge_dead).
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

std::vector<std::string> dead_ids(Store& store, std::size_t limit = 100) {
  auto dead = store.list_dead(limit);
  EXPECT_THAT(dead, IsOk());
  std::vector<std::string> ids;
  for (const DeadTask& d : dead.value_or({})) ids.push_back(d.id);
  return ids;
}

TEST_P(StoreConformance, AckedTaskLeavesItsQueue) {
  enqueue({make_task("a")});
  EXPECT_TRUE(settle_one(ack_of(reserve_one())));
  EXPECT_THAT(reserve({"default"}, 10, kT0 + 10 * kLease), IsEmpty());
  QueueStats q = queue_stats("default");
  EXPECT_EQ(q.pending + q.scheduled + q.running, 0);
}

TEST_P(StoreConformance, AckRecordsStateAndResult) {
  enqueue({make_task("a")});
  EXPECT_TRUE(settle_one(ack_of(reserve_one(), "{\"value\":5}")));
  TaskInfo info = task_info("a");
  EXPECT_EQ(info.state, TaskState::kSuccess);
  EXPECT_EQ(info.result, "{\"value\":5}");
}

TEST_P(StoreConformance, AckWithFailureIsCountedAsFailed) {
  enqueue({make_task("ok"), make_task("bad")});
  auto got = reserve({"default"}, 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_THAT(settle({ack_of(got[0], "r"), ack_of(got[1], "e", TaskState::kFailure)}),
              ElementsAre(true, true));
  StoreStats s = all_stats();
  EXPECT_EQ(s.completed, 2u);
  EXPECT_EQ(s.failed, 1u);
}

TEST_P(StoreConformance, AckCanRecordExpiredAndRevoked) {
  enqueue({make_task("late"), make_task("cancelled")});
  Delivery late = reserve_one();
  Delivery cancelled = reserve_one();
  EXPECT_THAT(
      settle({ack_of(late, "", TaskState::kExpired), ack_of(cancelled, "", TaskState::kRevoked)}),
      ElementsAre(true, true));
  auto late_info = store().get_task(late.id, kT0);
  if (late_info.ok()) {
    EXPECT_EQ(late_info->state, TaskState::kExpired);
  }
  auto cancelled_info = store().get_task(cancelled.id, kT0);
  if (cancelled_info.ok()) {
    EXPECT_EQ(cancelled_info->state, TaskState::kRevoked);
  }
}

TEST_P(StoreConformance, SettleRejectsAckWithNonFinalState) {
  enqueue({make_task("a")});
  Delivery d = reserve_one();
  std::vector<Settlement> s = {ack_of(d, "", TaskState::kPending)};
  EXPECT_THAT(store().settle(s, kT0), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(task_info("a").state, TaskState::kReserved);
}

TEST_P(StoreConformance, SettleRejectsEmptyIdAndAppliesNothing) {
  enqueue({make_task("a")});
  Delivery d = reserve_one();
  Settlement nameless = ack_of(d);
  nameless.id = "";
  std::vector<Settlement> batch = {ack_of(d, "r"), nameless};
  EXPECT_THAT(store().settle(batch, kT0), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(task_info("a").state, TaskState::kReserved);
  EXPECT_TRUE(settle_one(ack_of(d)));
}

TEST_P(StoreConformance, SettleReturnsOneFlagPerSettlement) {
  enqueue({make_task("a"), make_task("b")});
  auto got = reserve({"default"}, 2);
  ASSERT_EQ(got.size(), 2u);
  Settlement wrong = ack_of(got[1]);
  wrong.token += 1000;
  EXPECT_THAT(settle({ack_of(got[0]), wrong, ack_of(got[1])}), ElementsAre(true, false, true));
}

TEST_P(StoreConformance, SecondSettleOfSameDeliveryIsRefused) {
  enqueue({make_task("a")});
  Delivery d = reserve_one();
  EXPECT_TRUE(settle_one(ack_of(d, "first")));
  EXPECT_FALSE(settle_one(ack_of(d, "second")));
  EXPECT_EQ(task_info("a").result, "first");
}

TEST_P(StoreConformance, RetryPutsTaskInRetryState) {
  enqueue({make_task("a")});
  EXPECT_TRUE(settle_one(retry_of(reserve_one(), kT0 + 60 * kSecond)));
  TaskInfo info = task_info("a");
  EXPECT_EQ(info.state, TaskState::kRetry);
  EXPECT_EQ(info.eta, kT0 + 60 * kSecond);
  EXPECT_EQ(queue_stats("default").scheduled, 1);
}

TEST_P(StoreConformance, RetriedTaskIsNotReservableBeforeRetryAt) {
  enqueue({make_task("a")});
  EXPECT_TRUE(settle_one(retry_of(reserve_one(), kT0 + 60 * kSecond)));
  EXPECT_THAT(reserve({"default"}, 10, kT0 + 59 * kSecond), IsEmpty());
}

TEST_P(StoreConformance, RetriedTaskIsReservableAfterRetryAtWithDeliveriesReset) {
  enqueue({make_task("a")});
  Delivery first = reserve_one();
  EXPECT_TRUE(settle_one(retry_of(first, kT0 + 60 * kSecond)));
  Delivery again = reserve_one("default", kT0 + 60 * kSecond + 1);
  EXPECT_EQ(again.id, "a");
  EXPECT_EQ(again.deliveries, 1);
  EXPECT_GT(again.token, first.token);
}

TEST_P(StoreConformance, RetryReplacesBody) {
  enqueue({make_task("a")});
  EXPECT_TRUE(settle_one(retry_of(reserve_one(), kT0, "attempt-2")));
  EXPECT_EQ(reserve_one("default", kT0 + 1).body, "attempt-2");
}

TEST_P(StoreConformance, RetryWithoutBodyKeepsBody) {
  enqueue({make_task("a")});
  EXPECT_TRUE(settle_one(retry_of(reserve_one(), kT0)));
  EXPECT_EQ(reserve_one("default", kT0 + 1).body, "body-of-a");
}

TEST_P(StoreConformance, RetriedTaskIsNotAFinishedTask) {
  enqueue({make_task("a")});
  EXPECT_TRUE(settle_one(retry_of(reserve_one(), kT0 + kSecond)));
  EXPECT_EQ(all_stats().completed, 0u);
}

TEST_P(StoreConformance, ReleasedTaskIsImmediatelyReservable) {
  enqueue({make_task("a")});
  Delivery d = reserve_one();
  EXPECT_TRUE(settle_one(release_of(d)));
  EXPECT_EQ(task_info("a").state, TaskState::kPending);
  Delivery again = reserve_one();
  EXPECT_EQ(again.id, "a");
  EXPECT_EQ(again.deliveries, 1) << "a release must not count as a delivery";
  EXPECT_GT(again.token, d.token);
}

TEST_P(StoreConformance, ReleasedHolderIsStale) {
  enqueue({make_task("a")});
  Delivery d = reserve_one();
  EXPECT_TRUE(settle_one(release_of(d)));
  EXPECT_FALSE(settle_one(ack_of(d, "after release")));
  EXPECT_EQ(task_info("a").state, TaskState::kPending);
}

TEST_P(StoreConformance, DeadLetterRecordsReason) {
  enqueue({make_task("a", "q")});
  EXPECT_TRUE(settle_one(dead_letter_of(reserve_one("q"), "unknown task 'nope'")));
  TaskInfo info = task_info("a");
  EXPECT_EQ(info.state, TaskState::kDead);
  EXPECT_EQ(info.dead_reason, "unknown task 'nope'");
  EXPECT_EQ(info.body, "body-of-a");
}

TEST_P(StoreConformance, DeadLetterIsListedWithQueueBodyAndTime) {
  enqueue({make_task("a", "q")});
  EXPECT_TRUE(settle_one(dead_letter_of(reserve_one("q"), "bad"), kT0 + 7));
  auto dead = store().list_dead(10);
  ASSERT_THAT(dead, IsOk());
  ASSERT_EQ(dead->size(), 1u);
  const DeadTask& d = (*dead)[0];
  EXPECT_EQ(d.id, "a");
  EXPECT_EQ(d.queue, "q");
  EXPECT_EQ(d.reason, "bad");
  EXPECT_EQ(d.died_at, kT0 + 7);
  EXPECT_EQ(d.body, "body-of-a");
}

TEST_P(StoreConformance, DeadLettersAreListedOldestFirstUpToLimit) {
  enqueue({make_task("a"), make_task("b"), make_task("c")});
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(settle_one(dead_letter_of(reserve_one("default", kT0 + i), "x"), kT0 + i));
  }
  EXPECT_THAT(dead_ids(store()), ElementsAre("a", "b", "c"));
  EXPECT_THAT(dead_ids(store(), 2), ElementsAre("a", "b"));
}

TEST_P(StoreConformance, RetryDeadRequeuesEveryDeadTask) {
  enqueue({make_task("a"), make_task("b")});
  EXPECT_TRUE(settle_one(dead_letter_of(reserve_one(), "x")));
  EXPECT_TRUE(settle_one(dead_letter_of(reserve_one(), "y")));
  auto n = store().retry_dead({}, kT0 + 1);
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(*n, 2);
  EXPECT_THAT(dead_ids(store()), IsEmpty());
  EXPECT_EQ(task_info("a", kT0 + 1).state, TaskState::kPending);
  auto again = reserve({"default"}, 10, kT0 + 1);
  EXPECT_THAT(ids_of(again), UnorderedElementsAre("a", "b"));
  for (const Delivery& d : again) EXPECT_EQ(d.deliveries, 1) << "deliveries must be reset";
}

TEST_P(StoreConformance, RetryDeadWithIdsRequeuesOnlyThose) {
  enqueue({make_task("a"), make_task("b")});
  EXPECT_TRUE(settle_one(dead_letter_of(reserve_one(), "x")));
  EXPECT_TRUE(settle_one(dead_letter_of(reserve_one(), "y")));
  std::vector<std::string> ids = {"b", "not-dead"};
  auto n = store().retry_dead(ids, kT0 + 1);
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(*n, 1);
  EXPECT_THAT(dead_ids(store()), ElementsAre("a"));
  EXPECT_EQ(reserve_one("default", kT0 + 1).id, "b");
}

TEST_P(StoreConformance, RetryDeadAfterLeaseLapsesGivesFreshDeliveries) {
  NewTask t = make_task("a");
  t.max_deliveries = 1;
  enqueue({t});
  reserve_one("default", kT0, kSecond);
  EXPECT_THAT(reserve({"default"}, 1, kT0 + 2 * kSecond), IsEmpty());
  auto n = store().retry_dead({}, kT0 + 3 * kSecond);
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(reserve_one("default", kT0 + 3 * kSecond).deliveries, 1);
}

TEST_P(StoreConformance, PurgeDeadDeletesDeadLetters) {
  enqueue({make_task("a"), make_task("b"), make_task("alive")});
  EXPECT_TRUE(settle_one(dead_letter_of(reserve_one(), "x")));
  EXPECT_TRUE(settle_one(dead_letter_of(reserve_one(), "y")));
  auto n = store().purge_dead();
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(*n, 2);
  EXPECT_THAT(dead_ids(store()), IsEmpty());
  EXPECT_EQ(queue_stats("default").dead, 0);
  EXPECT_EQ(queue_stats("default").pending, 1);
}

}  // namespace
}  // namespace runq::conformance
