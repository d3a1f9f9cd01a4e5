// Conformance: Store::revoke and revoke_requests — a queued or scheduled task ends REVOKED and
// is never handed out; a reserved one gets a request its holder reads, which any settlement
// ends and a lapsed lease turns into REVOKED; a final or unknown id changes nothing.
#include <string>
#include <vector>

#include "conformance/store_conformance.hpp"

namespace runq::conformance {
namespace {

using ::runq::testing::IsOk;
using ::runq::testing::StatusIs;
using ::testing::IsEmpty;

// A backend that has not implemented revoke yet answers FailedPrecondition (the Store
// default); its revoke cases are skipped, naming the gap, instead of failing the suite.
#define RUNQ_SKIP_UNLESS_REVOKE_SUPPORTED()                                           \
  do {                                                                                \
    Result<std::vector<RevokeRequest>> probe = store().revoke_requests({});           \
    if (is_failed_precondition(probe.status()))                                       \
      GTEST_SKIP() << GetParam().name                                                 \
                   << " does not implement revoke yet: " << probe.status().message(); \
  } while (false)

Revocation revocation(std::string id, bool terminate = false, std::string result = "") {
  Revocation r;
  r.id = std::move(id);
  r.terminate = terminate;
  r.result = std::move(result);
  r.result_ttl = 60 * kSecond;
  return r;
}

TEST_P(StoreConformance, RevokeOfPendingTaskEndsItRevokedAndItIsNeverHandedOut) {
  RUNQ_SKIP_UNLESS_REVOKE_SUPPORTED();
  enqueue({make_task("a"), make_task("b")});
  Result<TaskState> state = store().revoke(revocation("a", false, "{\"revoked\":1}"), kT0);
  ASSERT_THAT(state.status(), IsOk());
  EXPECT_EQ(*state, TaskState::kRevoked);
  std::vector<Delivery> got = reserve({"default"}, 10);
  EXPECT_EQ(ids_of(got), std::vector<std::string>{"b"});
  TaskInfo info = task_info("a");
  EXPECT_EQ(info.state, TaskState::kRevoked);
  EXPECT_EQ(info.result, "{\"revoked\":1}");
  EXPECT_EQ(queue_stats("default").pending, 0);
  EXPECT_EQ(all_stats().completed, 1u);
  EXPECT_EQ(all_stats().failed, 0u);
  // The record is kept for its ttl: the id stays taken, then is forgotten.
  EXPECT_THAT(store().get_task("a", kT0 + 61 * kSecond), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreConformance, RevokeOfScheduledTaskEndsItRevoked) {
  RUNQ_SKIP_UNLESS_REVOKE_SUPPORTED();
  enqueue({make_task("later", "default", 0, kT0 + 10 * kSecond)});
  Result<TaskState> state = store().revoke(revocation("later"), kT0);
  ASSERT_THAT(state.status(), IsOk());
  EXPECT_EQ(*state, TaskState::kRevoked);
  EXPECT_THAT(reserve({"default"}, 10, kT0 + 20 * kSecond), IsEmpty());
  EXPECT_EQ(task_info("later").state, TaskState::kRevoked);
}

TEST_P(StoreConformance, RevokeOfRetryingTaskEndsItRevoked) {
  RUNQ_SKIP_UNLESS_REVOKE_SUPPORTED();
  enqueue({make_task("r")});
  ASSERT_TRUE(settle_one(retry_of(reserve_one(), kT0 + 5 * kSecond)));
  Result<TaskState> state = store().revoke(revocation("r"), kT0);
  ASSERT_THAT(state.status(), IsOk());
  EXPECT_EQ(*state, TaskState::kRevoked);
  EXPECT_THAT(reserve({"default"}, 10, kT0 + 10 * kSecond), IsEmpty());
}

TEST_P(StoreConformance, RevokeOfReservedTaskRecordsARequestForItsHolder) {
  RUNQ_SKIP_UNLESS_REVOKE_SUPPORTED();
  enqueue({make_task("run"), make_task("other")});
  Delivery d = reserve_one();
  Delivery other = reserve_one();
  Result<TaskState> state = store().revoke(revocation("run", /*terminate=*/false), kT0);
  ASSERT_THAT(state.status(), IsOk());
  EXPECT_EQ(*state, TaskState::kReserved);
  EXPECT_EQ(task_info("run").state, TaskState::kReserved);  // the holder decides
  std::vector<std::string> held = {"run", "other", "unknown"};
  Result<std::vector<RevokeRequest>> requests = store().revoke_requests(held);
  ASSERT_THAT(requests.status(), IsOk());
  ASSERT_EQ(requests->size(), 1u);
  EXPECT_EQ((*requests)[0].id, "run");
  EXPECT_FALSE((*requests)[0].terminate);
  // A second revoke adds terminate; a third without it does not take it away.
  ASSERT_THAT(store().revoke(revocation("run", true), kT0).status(), IsOk());
  ASSERT_THAT(store().revoke(revocation("run", false), kT0).status(), IsOk());
  requests = store().revoke_requests(held);
  ASSERT_THAT(requests.status(), IsOk());
  ASSERT_EQ(requests->size(), 1u);
  EXPECT_TRUE((*requests)[0].terminate);
  // The holder settles it REVOKED: the request is gone with it.
  EXPECT_TRUE(settle_one(ack_of(d, "", TaskState::kRevoked)));
  EXPECT_EQ(task_info("run").state, TaskState::kRevoked);
  requests = store().revoke_requests(held);
  ASSERT_THAT(requests.status(), IsOk());
  EXPECT_THAT(*requests, IsEmpty());
  EXPECT_TRUE(settle_one(ack_of(other)));
}

TEST_P(StoreConformance, AnySettlementEndsARevokeRequest) {
  RUNQ_SKIP_UNLESS_REVOKE_SUPPORTED();
  enqueue({make_task("a")});
  Delivery d = reserve_one();
  ASSERT_THAT(store().revoke(revocation("a"), kT0).status(), IsOk());
  EXPECT_TRUE(settle_one(retry_of(d, kT0 + kSecond)));
  std::vector<std::string> held = {"a"};
  Result<std::vector<RevokeRequest>> requests = store().revoke_requests(held);
  ASSERT_THAT(requests.status(), IsOk());
  EXPECT_THAT(*requests, IsEmpty());
  // The retry is queued again and can be handed out (the request applied to that attempt).
  EXPECT_EQ(reserve_one("default", kT0 + 2 * kSecond).id, "a");
}

TEST_P(StoreConformance, RevokedTaskWhoseLeaseLapsesEndsRevokedNotRequeued) {
  RUNQ_SKIP_UNLESS_REVOKE_SUPPORTED();
  enqueue({make_task("a")});
  reserve_one("default", kT0, kLease);
  ASSERT_THAT(store().revoke(revocation("a", true, "{\"r\":1}"), kT0).status(), IsOk());
  // Its worker died: the next reserve after the lease lapsed finds it revoked.
  EXPECT_THAT(reserve({"default"}, 10, kT0 + kLease + kSecond), IsEmpty());
  TaskInfo info = task_info("a", kT0 + kLease + kSecond);
  EXPECT_EQ(info.state, TaskState::kRevoked);
  EXPECT_EQ(info.result, "{\"r\":1}");
}

TEST_P(StoreConformance, RevokeOfFinishedTaskChangesNothingAndReturnsItsState) {
  RUNQ_SKIP_UNLESS_REVOKE_SUPPORTED();
  enqueue({make_task("done"), make_task("dead")});
  ASSERT_TRUE(settle_one(ack_of(reserve_one(), "{\"v\":1}")));
  ASSERT_TRUE(settle_one(dead_letter_of(reserve_one(), "bad")));
  Result<TaskState> done = store().revoke(revocation("done", true, "{\"x\":2}"), kT0);
  ASSERT_THAT(done.status(), IsOk());
  EXPECT_EQ(*done, TaskState::kSuccess);
  EXPECT_EQ(task_info("done").result, "{\"v\":1}");
  Result<TaskState> dead = store().revoke(revocation("dead"), kT0);
  ASSERT_THAT(dead.status(), IsOk());
  EXPECT_EQ(*dead, TaskState::kDead);
  EXPECT_EQ(all_stats().completed, 1u);
}

TEST_P(StoreConformance, RevokeOfUnknownIdIsNotFound) {
  RUNQ_SKIP_UNLESS_REVOKE_SUPPORTED();
  EXPECT_THAT(store().revoke(revocation("nope"), kT0).status(), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store().revoke(revocation(""), kT0).status(), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace runq::conformance
