// Conformance: workflows in the store — WorkflowLinks (dependencies: WAITING until every
// dependency ended, CANCELED when one failed, resolved inside the call that ends it) and
// FollowUps (tasks added iff their settlement is accepted). Includes the races of chords:
// members settled at the same instant from two threads, and a lapsed-lease duplicate that must
// count once.
#include <string>
#include <thread>
#include <vector>

#include "conformance/store_conformance.hpp"

namespace runq::conformance {
namespace {

using ::runq::testing::IsOk;
using ::runq::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

// A backend without workflows refuses links (FailedPrecondition); its cases are skipped,
// naming the gap, instead of failing the suite.
#define RUNQ_SKIP_UNLESS_WORKFLOWS_SUPPORTED()                                           \
  do {                                                                                   \
    if (!store().supports_workflows())                                                   \
      GTEST_SKIP() << GetParam().name << " does not implement workflows (dependencies)"; \
  } while (false)

NewTask waiting_on(std::string id, std::vector<std::string> deps, bool allow_failure = false) {
  NewTask t = make_task(std::move(id));
  t.links.depends_on = std::move(deps);
  t.links.allow_dependency_failure = allow_failure;
  return t;
}

// Reserves and acks `id` (which must be the only ready task) with `state`.
void finish(Store& store, const std::string& id, TaskState state, Millis now = kT0) {
  ReserveRequest req;
  req.queues = {"default"};
  req.worker_id = "w1";
  req.now = now;
  Result<std::vector<Delivery>> got = store.reserve(req);
  ASSERT_THAT(got.status(), IsOk());
  ASSERT_EQ(got->size(), 1u) << "expected " << id << " alone to be ready";
  ASSERT_EQ((*got)[0].id, id);
  Result<std::vector<bool>> flags = store.settle({{ack_of((*got)[0], "", state)}}, now);
  ASSERT_THAT(flags.status(), IsOk());
  ASSERT_TRUE((*flags)[0]);
}

TEST_P(StoreConformance, DependentWaitsUntilEveryDependencySucceeded) {
  RUNQ_SKIP_UNLESS_WORKFLOWS_SUPPORTED();
  enqueue({make_task("a"), make_task("b"), waiting_on("c", {"a", "b", "a"})});
  EXPECT_EQ(task_info("c").state, TaskState::kWaiting);
  std::vector<Delivery> got = reserve({"default"}, 10);
  ASSERT_THAT(ids_of(got), UnorderedElementsAre("a", "b"));
  ASSERT_TRUE(settle_one(ack_of(got[0])));
  EXPECT_EQ(task_info("c").state, TaskState::kWaiting);
  EXPECT_THAT(reserve({"default"}, 10), IsEmpty());
  ASSERT_TRUE(settle_one(ack_of(got[1])));
  EXPECT_EQ(task_info("c").state, TaskState::kPending);
  Delivery c = reserve_one();
  EXPECT_EQ(c.id, "c");
  EXPECT_EQ(c.body, "body-of-c");
}

TEST_P(StoreConformance, FailedDependencyCancelsItsDependentsTransitively) {
  RUNQ_SKIP_UNLESS_WORKFLOWS_SUPPORTED();
  enqueue({make_task("a"), waiting_on("b", {"a"}), waiting_on("c", {"b"})});
  finish(store(), "a", TaskState::kFailure);
  TaskInfo b = task_info("b");
  EXPECT_EQ(b.state, TaskState::kCanceled);
  EXPECT_EQ(b.dead_reason, "dependency a ended failure");
  TaskInfo c = task_info("c");
  EXPECT_EQ(c.state, TaskState::kCanceled);
  EXPECT_EQ(c.dead_reason, "dependency a ended failure");  // the root cause, not b
  Result<TaskInfo> waited = store().wait_task("c", 1000);
  ASSERT_THAT(waited.status(), IsOk());
  EXPECT_EQ(waited->state, TaskState::kCanceled);
  EXPECT_THAT(reserve({"default"}, 10), IsEmpty());
}

TEST_P(StoreConformance, AllowDependencyFailureRunsTheDependentAnyway) {
  RUNQ_SKIP_UNLESS_WORKFLOWS_SUPPORTED();
  enqueue({make_task("a"), waiting_on("b", {"a"}, /*allow_failure=*/true)});
  finish(store(), "a", TaskState::kFailure);
  EXPECT_EQ(task_info("b").state, TaskState::kPending);
  EXPECT_EQ(reserve_one().id, "b");
}

TEST_P(StoreConformance, DependenciesAlreadyFinalAreResolvedAtEnqueue) {
  RUNQ_SKIP_UNLESS_WORKFLOWS_SUPPORTED();
  enqueue({make_task("ok")});
  finish(store(), "ok", TaskState::kSuccess);
  enqueue({make_task("bad")});
  finish(store(), "bad", TaskState::kFailure);
  enqueue({waiting_on("after-ok", {"ok"}), waiting_on("after-bad", {"ok", "bad"})});
  EXPECT_EQ(task_info("after-ok").state, TaskState::kPending);
  TaskInfo canceled = task_info("after-bad");
  EXPECT_EQ(canceled.state, TaskState::kCanceled);
  EXPECT_EQ(canceled.dead_reason, "dependency bad ended failure");
  EXPECT_EQ(ids_of(reserve({"default"}, 10)), std::vector<std::string>{"after-ok"});
}

TEST_P(StoreConformance, UnknownDependencyOrCycleIsRefusedAndNothingIsAdded) {
  RUNQ_SKIP_UNLESS_WORKFLOWS_SUPPORTED();
  std::vector<NewTask> unknown = {make_task("x"), waiting_on("y", {"never-enqueued"})};
  Status st = store().enqueue(unknown, kT0);
  EXPECT_THAT(st, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(st.message(), HasSubstr("dependency 'never-enqueued' does not exist"));
  std::vector<NewTask> self = {waiting_on("s", {"s"})};
  EXPECT_THAT(store().enqueue(self, kT0), StatusIs(StatusCode::kInvalidArgument));
  std::vector<NewTask> later = {waiting_on("p", {"q"}), waiting_on("q", {"p"})};
  Status cycle = store().enqueue(later, kT0);
  EXPECT_THAT(cycle, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(cycle.message(), HasSubstr("comes later in the same batch"));
  EXPECT_THAT(store().get_task("x", kT0).status(), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store().get_task("p", kT0).status(), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(reserve({"default"}, 10), IsEmpty());
}

TEST_P(StoreConformance, RetryOfADependencyDoesNotCountUntilItIsFinal) {
  RUNQ_SKIP_UNLESS_WORKFLOWS_SUPPORTED();
  enqueue({make_task("a"), waiting_on("w", {"a"})});
  ASSERT_TRUE(settle_one(retry_of(reserve_one(), kT0 + kSecond)));
  EXPECT_EQ(task_info("w").state, TaskState::kWaiting);
  Delivery again = reserve_one("default", kT0 + 2 * kSecond);
  ASSERT_EQ(again.id, "a");
  ASSERT_TRUE(settle_one(ack_of(again), kT0 + 2 * kSecond));
  EXPECT_EQ(task_info("w", kT0 + 2 * kSecond).state, TaskState::kPending);
}

TEST_P(StoreConformance, LapsedLeaseDuplicateOfAMemberCountsOnce) {
  RUNQ_SKIP_UNLESS_WORKFLOWS_SUPPORTED();
  enqueue({make_task("m1"), make_task("m2"), waiting_on("body", {"m1", "m2"})});
  Delivery first = reserve_one("default", kT0, kLease);
  ASSERT_EQ(first.id, "m1");
  // The first holder stalls; its lease lapses and m1 goes to another worker.
  Millis later = kT0 + kLease + kSecond;
  std::vector<Delivery> got = reserve({"default"}, 10, later, kLease, "w2");
  ASSERT_THAT(ids_of(got), UnorderedElementsAre("m1", "m2"));
  Delivery second = got[0].id == "m1" ? got[0] : got[1];
  Delivery m2 = got[0].id == "m1" ? got[1] : got[0];
  // The stale holder's late settlement (with a follow-up) is refused and counts nothing.
  Settlement stale = ack_of(first);
  stale.then.tasks.push_back(make_task("follow-up"));
  EXPECT_FALSE(settle_one(stale, later));
  EXPECT_EQ(task_info("body", later).state, TaskState::kWaiting);
  EXPECT_THAT(store().get_task("follow-up", later).status(), StatusIs(StatusCode::kNotFound));
  ASSERT_TRUE(settle_one(ack_of(second), later));
  EXPECT_EQ(task_info("body", later).state, TaskState::kWaiting);
  ASSERT_TRUE(settle_one(ack_of(m2), later));
  EXPECT_EQ(task_info("body", later).state, TaskState::kPending);
  EXPECT_EQ(ids_of(reserve({"default"}, 10, later)), std::vector<std::string>{"body"});
}

TEST_P(StoreConformance, MembersSettledAtOnceFromTwoThreadsReleaseTheBodyOnce) {
  RUNQ_SKIP_UNLESS_WORKFLOWS_SUPPORTED();
  constexpr int kMembers = 40;
  std::vector<NewTask> tasks;
  std::vector<std::string> members;
  for (int i = 0; i < kMembers; ++i) {
    members.push_back("m" + std::to_string(i));
    tasks.push_back(make_task(members.back()));
  }
  tasks.push_back(waiting_on("body", members));
  enqueue(tasks);
  std::vector<Delivery> all = reserve({"default"}, kMembers + 1);
  ASSERT_EQ(all.size(), static_cast<std::size_t>(kMembers));
  std::vector<Settlement> even, odd;
  for (std::size_t i = 0; i < all.size(); ++i) (i % 2 == 0 ? even : odd).push_back(ack_of(all[i]));
  auto settle_each = [this](const std::vector<Settlement>* batch) {
    for (const Settlement& s : *batch) {
      Result<std::vector<bool>> r = store().settle({&s, 1}, kT0);
      EXPECT_THAT(r.status(), IsOk());
    }
  };
  std::thread t1(settle_each, &even);
  std::thread t2(settle_each, &odd);
  t1.join();
  t2.join();
  EXPECT_EQ(task_info("body").state, TaskState::kPending);
  EXPECT_EQ(ids_of(reserve({"default"}, 10)), std::vector<std::string>{"body"});
  EXPECT_THAT(reserve({"default"}, 10), IsEmpty());
}

TEST_P(StoreConformance, FollowUpsAreAddedWithTheAcceptedSettlement) {
  RUNQ_SKIP_UNLESS_WORKFLOWS_SUPPORTED();
  enqueue({make_task("step1")});
  Delivery d = reserve_one();
  Settlement s = ack_of(d, "{\"v\":1}");
  s.then.tasks.push_back(make_task("step2", "other"));
  s.then.tasks.push_back(waiting_on("step3", {"step2"}));
  ASSERT_TRUE(settle_one(s));
  EXPECT_EQ(task_info("step1").state, TaskState::kSuccess);
  EXPECT_EQ(task_info("step2").state, TaskState::kPending);
  EXPECT_EQ(task_info("step3").state, TaskState::kWaiting);
  Delivery next = reserve_one("other");
  EXPECT_EQ(next.body, "body-of-step2");
}

TEST_P(StoreConformance, TaskAddedCanceledEndsAtOnceAndCancelsItsDependents) {
  RUNQ_SKIP_UNLESS_WORKFLOWS_SUPPORTED();
  NewTask step = make_task("later-step");
  step.links.canceled = "chain step first-step failed";
  enqueue({step, waiting_on("after", {"later-step"})});
  TaskInfo info = task_info("later-step");
  EXPECT_EQ(info.state, TaskState::kCanceled);
  EXPECT_EQ(info.dead_reason, "chain step first-step failed");
  EXPECT_EQ(task_info("after").state, TaskState::kCanceled);
  EXPECT_EQ(task_info("after").dead_reason, "chain step first-step failed");
  EXPECT_THAT(reserve({"default"}, 10), IsEmpty());
}

TEST_P(StoreConformance, DeadLetteredOrRevokedDependencyCancelsItsDependents) {
  RUNQ_SKIP_UNLESS_WORKFLOWS_SUPPORTED();
  NewTask fragile = make_task("fragile");
  fragile.max_deliveries = 1;
  enqueue(
      {fragile, waiting_on("w1", {"fragile"}), make_task("queued"), waiting_on("w2", {"queued"})});
  std::vector<Delivery> got = reserve({"default"}, 1);
  ASSERT_EQ(ids_of(got), std::vector<std::string>{"fragile"});
  // The holder dies; the next reserve dead-letters the task (max_deliveries 1).
  Millis later = kT0 + kLease + kSecond;
  Revocation r;
  r.id = "queued";
  ASSERT_THAT(store().revoke(r, later).status(), IsOk());
  EXPECT_THAT(reserve({"default"}, 10, later), IsEmpty());
  EXPECT_EQ(task_info("fragile", later).state, TaskState::kDead);
  EXPECT_EQ(task_info("w1", later).state, TaskState::kCanceled);
  EXPECT_EQ(task_info("w1", later).dead_reason, "dependency fragile ended dead");
  EXPECT_EQ(task_info("w2", later).state, TaskState::kCanceled);
  EXPECT_EQ(task_info("w2", later).dead_reason, "dependency queued ended revoked");
}

// ---- workflows and flow control together ---------------------------------------------------

#define RUNQ_SKIP_UNLESS_WORKFLOWS_AND_QUEUE_CONTROLS()                        \
  do {                                                                         \
    RUNQ_SKIP_UNLESS_WORKFLOWS_SUPPORTED();                                    \
    if (is_failed_precondition(store().queue_controls().status()))             \
      GTEST_SKIP() << GetParam().name << " does not implement queue controls"; \
  } while (false)

// A waiting task counts against a bounded queue like any other: the batch is refused whole.
TEST_P(StoreConformance, LinkedTasksCountAgainstABoundedQueue) {
  RUNQ_SKIP_UNLESS_WORKFLOWS_AND_QUEUE_CONTROLS();
  ASSERT_THAT(store().set_queue_limit("q", 2), IsOk());
  enqueue({make_task("a", "q")});
  NewTask body = waiting_on("body", {"a"});
  body.queue = "q";

  Status s = store().enqueue(std::vector<NewTask>{make_task("b", "q"), body}, kT0);

  EXPECT_THAT(s, StatusIs(StatusCode::kResourceExhausted));
  EXPECT_THAT(s.message(), HasSubstr("queue 'q' is full (2 tasks)"));
  EXPECT_THAT(store().get_task("b", kT0), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store().get_task("body", kT0), StatusIs(StatusCode::kNotFound));
}

// A dependent released into a paused queue waits there until the queue resumes.
TEST_P(StoreConformance, DependentReleasedIntoAPausedQueueWaitsForResume) {
  RUNQ_SKIP_UNLESS_WORKFLOWS_AND_QUEUE_CONTROLS();
  NewTask next = waiting_on("next", {"a"});
  next.queue = "q";
  enqueue({make_task("a"), next});
  ASSERT_THAT(store().set_queue_paused("q", true), IsOk());
  finish(store(), "a", TaskState::kSuccess);

  EXPECT_EQ(task_info("next").state, TaskState::kPending);
  EXPECT_THAT(reserve({"q"}, 10), IsEmpty());
  ASSERT_THAT(store().set_queue_paused("q", false), IsOk());
  EXPECT_EQ(ids_of(reserve({"q"}, 10)), std::vector<std::string>{"next"});
}

}  // namespace
}  // namespace runq::conformance
