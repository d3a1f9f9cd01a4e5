// Conformance: flow control in the store — a paused queue hands out nothing (and is no work
// for wait_for_work) until resumed, while its tasks stay; a bounded queue refuses the enqueue
// (or the tick) that would overfill it, whole; the controls are listed.
#include <chrono>
#include <string>
#include <vector>

#include "conformance/store_conformance.hpp"

namespace runq::conformance {
namespace {

using ::runq::testing::IsOk;
using ::runq::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// ---- pause / resume -----------------------------------------------------------------------

TEST_P(StoreConformance, PausedQueueHandsOutNothingUntilResumed) {
  enqueue({make_task("a", "q"), make_task("b", "other")});

  ASSERT_THAT(store().set_queue_paused("q", true), IsOk());

  EXPECT_EQ(ids_of(reserve({"q", "other"}, 10)), std::vector<std::string>{"b"});
  EXPECT_THAT(reserve({"q"}, 10), IsEmpty());
  EXPECT_EQ(task_info("a").state, TaskState::kPending);
  ASSERT_THAT(store().set_queue_paused("q", false), IsOk());
  EXPECT_EQ(ids_of(reserve({"q"}, 10)), std::vector<std::string>{"a"});
}

TEST_P(StoreConformance, PausingLetsReservedTasksSettle) {
  enqueue({make_task("a", "q")});
  Delivery d = reserve_one("q");

  ASSERT_THAT(store().set_queue_paused("q", true), IsOk());

  EXPECT_TRUE(settle_one(ack_of(d)));
  EXPECT_EQ(task_info("a").state, TaskState::kSuccess);
}

TEST_P(StoreConformance, PausedQueueKeepsTasksWhoseEtaPasses) {
  enqueue({make_task("later", "q", 0, kT0 + 5 * kSecond)});
  ASSERT_THAT(store().set_queue_paused("q", true), IsOk());

  EXPECT_THAT(reserve({"q"}, 10, kT0 + 10 * kSecond), IsEmpty());

  EXPECT_FALSE(is_final(task_info("later", kT0 + 10 * kSecond).state));
  ASSERT_THAT(store().set_queue_paused("q", false), IsOk());
  EXPECT_EQ(ids_of(reserve({"q"}, 10, kT0 + 10 * kSecond)), std::vector<std::string>{"later"});
}

TEST_P(StoreConformance, PausingTwiceAndResumingARunningQueueAreNoErrors) {
  EXPECT_THAT(store().set_queue_paused("q", false), IsOk());
  EXPECT_THAT(store().set_queue_paused("q", true), IsOk());
  EXPECT_THAT(store().set_queue_paused("q", true), IsOk());

  Result<std::vector<QueueControl>> controls = store().queue_controls();

  ASSERT_THAT(controls.status(), IsOk());
  EXPECT_THAT(*controls, ElementsAre(QueueControl{"q", true, 0}));
}

// A paused queue's ready task is no work: if it were, every wait would return at once and
// an idle worker would spin. One of a few bounded waits must last (the first may consume a
// wake-up left by the enqueue).
TEST_P(StoreConformance, WaitForWorkDoesNotCountAPausedQueue) {
  enqueue({make_task("a", "q")});
  ASSERT_THAT(store().set_queue_paused("q", true), IsOk());
  bool blocked = false;

  for (int i = 0; i < 3 && !blocked; ++i) {
    auto start = std::chrono::steady_clock::now();
    ASSERT_THAT(store().wait_for_work({"q"}, 400), IsOk());
    blocked = std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(200);
  }

  EXPECT_TRUE(blocked) << "wait_for_work returned at once three times on a paused queue";
}

TEST_P(StoreConformance, QueueControlsListPausedAndBoundedQueues) {
  ASSERT_THAT(store().set_queue_paused("a", true), IsOk());
  ASSERT_THAT(store().set_queue_limit("b", 5), IsOk());

  Result<std::vector<QueueControl>> controls = store().queue_controls();

  ASSERT_THAT(controls.status(), IsOk());
  EXPECT_THAT(*controls, ElementsAre(QueueControl{"a", true, 0}, QueueControl{"b", false, 5}));
  ASSERT_THAT(store().set_queue_paused("a", false), IsOk());
  ASSERT_THAT(store().set_queue_limit("b", 0), IsOk());
  EXPECT_THAT(store().queue_controls().value(), IsEmpty());
}

TEST_P(StoreConformance, QueueControlsRefuseEmptyNamesAndNegativeLimits) {
  EXPECT_THAT(store().set_queue_paused("", true), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store().set_queue_limit("", 3), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store().set_queue_limit("q", -1), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store().queue_controls().value(), IsEmpty());
}

// ---- bounded queues -----------------------------------------------------------------------

TEST_P(StoreConformance, EnqueueBeyondTheLimitIsRefusedWithTheQueueNameAndLimit) {
  ASSERT_THAT(store().set_queue_limit("q", 2), IsOk());
  enqueue({make_task("a", "q"), make_task("b", "q")});

  Status s = store().enqueue(std::vector<NewTask>{make_task("c", "q")}, kT0);

  EXPECT_THAT(s, StatusIs(StatusCode::kResourceExhausted));
  EXPECT_THAT(s.message(), HasSubstr("queue 'q' is full (2 tasks)"));
  EXPECT_THAT(store().get_task("c", kT0), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreConformance, BatchThatDoesNotFitIsRefusedWhole) {
  ASSERT_THAT(store().set_queue_limit("q", 2), IsOk());
  enqueue({make_task("a", "q")});

  Status s = store().enqueue(
      std::vector<NewTask>{make_task("x", "other"), make_task("b", "q"), make_task("c", "q")}, kT0);

  EXPECT_THAT(s, StatusIs(StatusCode::kResourceExhausted));
  EXPECT_THAT(store().get_task("x", kT0), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store().get_task("b", kT0), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(queue_stats("q").pending, 1);
}

// More tasks than one store call may carry at once (Redis splits at 1,000): still all or none.
TEST_P(StoreConformance, LargeBatchThatDoesNotFitIsRefusedWhole) {
  ASSERT_THAT(store().set_queue_limit("q", 1500), IsOk());
  std::vector<NewTask> batch;
  for (int i = 0; i < 2000; ++i) batch.push_back(make_task("t" + std::to_string(i), "q"));

  Status s = store().enqueue(batch, kT0);

  EXPECT_THAT(s, StatusIs(StatusCode::kResourceExhausted));
  EXPECT_EQ(queue_stats("q").pending, 0);
  batch.resize(1500);
  EXPECT_THAT(store().enqueue(batch, kT0), IsOk());
  EXPECT_EQ(queue_stats("q").pending, 1500);
}

TEST_P(StoreConformance, LimitCountsScheduledTasksButNotReservedOnes) {
  ASSERT_THAT(store().set_queue_limit("q", 2), IsOk());
  enqueue({make_task("a", "q"), make_task("later", "q", 0, kT0 + 60 * kSecond)});
  EXPECT_THAT(store().enqueue(std::vector<NewTask>{make_task("c", "q")}, kT0),
              StatusIs(StatusCode::kResourceExhausted));

  reserve_one("q");

  EXPECT_THAT(store().enqueue(std::vector<NewTask>{make_task("c", "q")}, kT0), IsOk());
}

TEST_P(StoreConformance, LimitBelowTheCurrentLengthKeepsTasksAndRefusesNewOnes) {
  enqueue({make_task("a", "q"), make_task("b", "q"), make_task("c", "q")});

  ASSERT_THAT(store().set_queue_limit("q", 1), IsOk());

  EXPECT_EQ(queue_stats("q").pending, 3);
  EXPECT_THAT(store().enqueue(std::vector<NewTask>{make_task("d", "q")}, kT0),
              StatusIs(StatusCode::kResourceExhausted));
  EXPECT_EQ(reserve({"q"}, 10).size(), 3u);
  EXPECT_THAT(store().enqueue(std::vector<NewTask>{make_task("d", "q")}, kT0), IsOk());
}

TEST_P(StoreConformance, LimitZeroRemovesTheBound) {
  ASSERT_THAT(store().set_queue_limit("q", 1), IsOk());
  enqueue({make_task("a", "q")});

  ASSERT_THAT(store().set_queue_limit("q", 0), IsOk());

  EXPECT_THAT(store().enqueue(std::vector<NewTask>{make_task("b", "q")}, kT0), IsOk());
}

TEST_P(StoreConformance, TickIntoAFullQueueIsRefusedAndNotClaimed) {
  ASSERT_THAT(store().set_queue_limit("q", 1), IsOk());
  enqueue({make_task("a", "q")});

  Result<bool> claimed = store().claim_tick("every-minute", kT0, make_task("tick1", "q"), kT0);

  EXPECT_THAT(claimed.status(), StatusIs(StatusCode::kResourceExhausted));
  reserve_one("q");
  claimed = store().claim_tick("every-minute", kT0, make_task("tick1", "q"), kT0);
  ASSERT_THAT(claimed.status(), IsOk());
  EXPECT_TRUE(*claimed);
}

}  // namespace
}  // namespace runq::conformance
