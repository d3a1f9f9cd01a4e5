// Conformance: the argument rules of include/runq/store.hpp (`Errors: InvalidArgument` and
// `TooLarge`), with the exact code, on every store. These once differed between
// backends (negative result_ttl, NaN progress, purge_queue(""), lease_ms < 1, the periodic
// path); each case here keeps them equal.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "conformance/store_conformance.hpp"

namespace runq::conformance {
namespace {

using ::runq::testing::IsOk;
using ::runq::testing::StatusIs;

constexpr std::size_t kDefaultMaxBody = 1 << 20;

ReserveRequest request(std::vector<std::string> queues, int max = 1, Millis lease_ms = kLease) {
  ReserveRequest req;
  req.queues = std::move(queues);
  req.worker_id = "w1";
  req.max = max;
  req.lease_ms = lease_ms;
  req.now = kT0;
  return req;
}

// ---- enqueue --------------------------------------------------------------------------------

TEST_P(StoreConformance, EnqueueRejectsABadTaskAndAddsNoneOfTheBatch) {
  NewTask empty_id = make_task("");
  NewTask empty_queue = make_task("q", "");
  NewTask low = make_task("low", "default", kMinPriority - 1);
  NewTask high = make_task("high", "default", kMaxPriority + 1);
  NewTask zero_deliveries = make_task("zero");
  zero_deliveries.max_deliveries = 0;

  for (const NewTask& bad : {empty_id, empty_queue, low, high, zero_deliveries}) {
    std::vector<NewTask> batch{make_task("good"), bad};
    EXPECT_THAT(store().enqueue(batch, kT0), StatusIs(StatusCode::kInvalidArgument))
        << "task '" << bad.id << "'";
  }

  EXPECT_THAT(store().get_task("good", kT0), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreConformance, EnqueueRejectsABodyOverTheLimitAsTooLarge) {
  NewTask big = make_task("big");
  big.body.assign(kDefaultMaxBody + 1, 'x');

  std::vector<NewTask> batch{big};
  EXPECT_THAT(store().enqueue(batch, kT0), StatusIs(StatusCode::kTooLarge));

  EXPECT_THAT(store().get_task("big", kT0), StatusIs(StatusCode::kNotFound));
}

// ---- reserve and waiting ----------------------------------------------------------------------

TEST_P(StoreConformance, ReserveRejectsNoQueuesAnEmptyQueueNameAndMaxBelowOne) {
  enqueue({make_task("t1")});

  EXPECT_THAT(store().reserve(request({})), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store().reserve(request({"default", ""})), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store().reserve(request({"default"}, 0)), StatusIs(StatusCode::kInvalidArgument));

  EXPECT_EQ(task_info("t1").state, TaskState::kPending);
}

TEST_P(StoreConformance, ReserveRejectsLeaseMsBelowOne) {
  enqueue({make_task("t1")});

  EXPECT_THAT(store().reserve(request({"default"}, 1, 0)), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store().reserve(request({"default"}, 1, -5)), StatusIs(StatusCode::kInvalidArgument));

  EXPECT_EQ(task_info("t1").state, TaskState::kPending);
}

TEST_P(StoreConformance, WaitAndReserveRejectsWhatReserveRejects) {
  enqueue({make_task("t1")});
  ManualClock clock(kT0);

  EXPECT_THAT(store().wait_and_reserve(request({"default"}, 1, 0), 0, clock),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store().wait_and_reserve(request({}), 0, clock),
              StatusIs(StatusCode::kInvalidArgument));

  EXPECT_EQ(task_info("t1").state, TaskState::kPending);
}

TEST_P(StoreConformance, WaitForWorkRejectsNoQueuesOrAnEmptyQueueName) {
  EXPECT_THAT(store().wait_for_work({}, 0), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store().wait_for_work({""}, 0), StatusIs(StatusCode::kInvalidArgument));
}

TEST_P(StoreConformance, ExtendRejectsLeaseMsBelowOneAndKeepsTheLease) {
  enqueue({make_task("t1")});
  Delivery d = reserve_one();
  std::vector<LeaseRef> leases{lease_of(d)};

  EXPECT_THAT(store().extend(leases, 0, kT0 + kSecond), StatusIs(StatusCode::kInvalidArgument));

  EXPECT_EQ(task_info("t1").lease_expires, d.lease_expires);
}

// ---- settle ---------------------------------------------------------------------------------

TEST_P(StoreConformance, SettleRejectsAnEmptyIdAndAnAckWithoutAFinalState) {
  enqueue({make_task("t1")});
  Delivery d = reserve_one();
  Settlement no_id = ack_of(d);
  no_id.id.clear();
  Settlement not_final = ack_of(d, "", TaskState::kRetry);

  for (const Settlement& bad : {no_id, not_final}) {
    std::vector<Settlement> batch{ack_of(d), bad};
    EXPECT_THAT(store().settle(batch, kT0), StatusIs(StatusCode::kInvalidArgument));
  }

  EXPECT_EQ(task_info("t1").state, TaskState::kReserved);
}

TEST_P(StoreConformance, SettleRejectsANegativeResultTtl) {
  enqueue({make_task("t1")});
  Delivery d = reserve_one();
  Settlement s = ack_of(d, "result");
  s.result_ttl = -1;

  std::vector<Settlement> batch{s};
  EXPECT_THAT(store().settle(batch, kT0), StatusIs(StatusCode::kInvalidArgument));

  EXPECT_EQ(task_info("t1").state, TaskState::kReserved);
}

TEST_P(StoreConformance, SettleRejectsARetryBodyOverTheLimitAsTooLarge) {
  enqueue({make_task("t1")});
  Delivery d = reserve_one();

  std::vector<Settlement> batch{retry_of(d, kT0 + kSecond, std::string(kDefaultMaxBody + 1, 'x'))};
  EXPECT_THAT(store().settle(batch, kT0), StatusIs(StatusCode::kTooLarge));

  EXPECT_EQ(task_info("t1").state, TaskState::kReserved);
}

// ---- progress, workers, admin ---------------------------------------------------------------

TEST_P(StoreConformance, SetProgressRejectsNaN) {
  enqueue({make_task("t1")});
  Delivery d = reserve_one();
  ASSERT_THAT(store().set_progress(lease_of(d), 0.25), IsOk());

  EXPECT_THAT(store().set_progress(lease_of(d), std::nan("")),
              StatusIs(StatusCode::kInvalidArgument));

  EXPECT_DOUBLE_EQ(task_info("t1").progress, 0.25);
}

TEST_P(StoreConformance, SetProgressClampsValuesOutsideZeroToOne) {
  enqueue({make_task("t1")});
  Delivery d = reserve_one();

  ASSERT_THAT(store().set_progress(lease_of(d), 1.5), IsOk());
  EXPECT_DOUBLE_EQ(task_info("t1").progress, 1.0);
  ASSERT_THAT(store().set_progress(lease_of(d), -std::numeric_limits<double>::infinity()), IsOk());
  EXPECT_DOUBLE_EQ(task_info("t1").progress, 0.0);
}

TEST_P(StoreConformance, HeartbeatRejectsAnEmptyWorkerId) {
  WorkerInfo w;
  w.expires = kT0 + kLease;

  EXPECT_THAT(store().heartbeat(w), StatusIs(StatusCode::kInvalidArgument));

  EXPECT_TRUE(all_stats().workers.empty());
}

TEST_P(StoreConformance, PurgeQueueRejectsAnEmptyQueueName) {
  enqueue({make_task("t1")});

  EXPECT_THAT(store().purge_queue(""), StatusIs(StatusCode::kInvalidArgument));

  EXPECT_EQ(task_info("t1").state, TaskState::kPending);
}

// ---- periodic schedules ---------------------------------------------------------------------

TEST_P(StoreConformance, ClaimTickRejectsAnEmptyScheduleName) {
  EXPECT_THAT(store().claim_tick("", kT0, make_task("tick-1"), kT0),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store().put_schedule_info("", "{}"), StatusIs(StatusCode::kInvalidArgument));
}

// The periodic path enqueues through claim_tick, so it obeys the enqueue rules too, and a
// refused claim leaves the tick unclaimed.
TEST_P(StoreConformance, ClaimTickRejectsABadTaskAndLeavesTheTickUnclaimed) {
  NewTask bad = make_task("tick-1", "default", kMaxPriority + 1);
  NewTask no_queue = make_task("tick-1", "");

  EXPECT_THAT(store().claim_tick("every-minute", kT0, bad, kT0),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store().claim_tick("every-minute", kT0, no_queue, kT0),
              StatusIs(StatusCode::kInvalidArgument));

  Result<bool> claimed = store().claim_tick("every-minute", kT0, make_task("tick-1"), kT0);
  ASSERT_THAT(claimed, IsOk());
  EXPECT_TRUE(*claimed);
}

}  // namespace
}  // namespace runq::conformance
