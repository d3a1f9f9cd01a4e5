// Conformance: rate limits and per-key concurrency in the store (NewTask::limits). A task
// whose bucket is empty is moved aside by reserve and the tasks behind it are handed out; it
// comes back when the bucket allows it. At most max_concurrency tasks of a key are reserved
// at once, and a slot frees on every way a task leaves RESERVED (any settlement, a lapsed
// lease). A store that does not enforce limits refuses them instead of ignoring them.
#include <chrono>
#include <string>
#include <vector>

#include "conformance/store_conformance.hpp"
#include "store/backend.hpp"
#include "store/memory_store.hpp"

namespace runq::conformance {
namespace {

using ::runq::testing::IsOk;
using ::runq::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

#define RUNQ_SKIP_UNLESS_TASK_LIMITS()                                                  \
  do {                                                                                  \
    if (!store().enforces_task_limits())                                                \
      GTEST_SKIP() << GetParam().name << " does not enforce task limits (refused, see " \
                   << "StoreWithoutLimitsRefusesThem)";                                 \
  } while (false)

NewTask rated(std::string id, std::string key, std::int64_t count, Millis period_ms,
              std::string queue = "q") {
  NewTask t = make_task(std::move(id), std::move(queue));
  t.limits.rate_key = std::move(key);
  t.limits.rate_count = count;
  t.limits.rate_period_ms = period_ms;
  return t;
}

NewTask keyed(std::string id, std::string key, int max, std::string queue = "q") {
  NewTask t = make_task(std::move(id), std::move(queue));
  t.limits.concurrency_key = std::move(key);
  t.limits.max_concurrency = max;
  return t;
}

// ---- refusal and validation ---------------------------------------------------------------

TEST_P(StoreConformance, StoreWithoutLimitsRefusesThem) {
  if (store().enforces_task_limits()) GTEST_SKIP() << GetParam().name << " enforces limits";

  Status s = store().enqueue(std::vector<NewTask>{rated("a", "k", 1, kSecond)}, kT0);

  EXPECT_THAT(s, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(s.message(), HasSubstr("rate limits"));
  EXPECT_THAT(store().get_task("a", kT0).status(), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreConformance, LimitsWithoutAValueOrAKeyOrWithAnOversizedKeyAreRefused) {
  NewTask no_count = rated("a", "k", 0, kSecond);
  NewTask no_max = keyed("b", "k", 0);
  NewTask long_key = rated("c", std::string(kMaxLimitKeyBytes + 1, 'k'), 1, kSecond);
  NewTask no_key = rated("d", "", 5, kSecond);

  for (const NewTask& t : {no_count, no_max, long_key, no_key}) {
    EXPECT_THAT(store().enqueue(std::vector<NewTask>{t}, kT0),
                StatusIs(StatusCode::kInvalidArgument))
        << t.id;
  }
}

// ---- rate limits --------------------------------------------------------------------------

TEST_P(StoreConformance, RateLimitedTaskIsMovedAsideAndTheTasksBehindItRun) {
  RUNQ_SKIP_UNLESS_TASK_LIMITS();
  enqueue({rated("r1", "k", 2, kSecond), rated("r2", "k", 2, kSecond), make_task("u", "q")});

  std::vector<Delivery> first = reserve({"q"}, 10);

  EXPECT_EQ(ids_of(first), (std::vector<std::string>{"r1", "u"}));
  TaskInfo r2 = task_info("r2");
  EXPECT_EQ(r2.state, TaskState::kScheduled);
  EXPECT_GT(r2.eta, kT0);
  EXPECT_LE(r2.eta, kT0 + 500);
}

// Rate limits run on the store's clock where it has one (Redis), so these tests let real
// time pass: `now` is kT0 plus the real time elapsed, and each loop is bounded in time.
Millis elapsed_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

TEST_P(StoreConformance, RateLimitHandsOutAtMostItsRatePerPeriod) {
  RUNQ_SKIP_UNLESS_TASK_LIMITS();
  std::vector<NewTask> tasks;
  for (int i = 0; i < 8; ++i) tasks.push_back(rated("r" + std::to_string(i), "k", 20, kSecond));
  enqueue(tasks);

  // 20/s: one task every 50 ms (25 ms early at most), never two at once.
  const auto start = std::chrono::steady_clock::now();
  std::vector<Millis> handed_at;
  while (handed_at.size() < tasks.size() && elapsed_since(start) < 5000) {
    const Millis t = elapsed_since(start);
    std::vector<Delivery> got = reserve({"q"}, 10, kT0 + t);
    EXPECT_LE(got.size(), 1u) << "at +" << t << " ms";
    for (std::size_t i = 0; i < got.size(); ++i) handed_at.push_back(t);
    ASSERT_THAT(store().wait_for_work({"q"}, 5), IsOk());
  }

  ASSERT_EQ(handed_at.size(), tasks.size());
  for (std::size_t i = 1; i < handed_at.size(); ++i) {
    EXPECT_GE(handed_at[i] - handed_at[0], static_cast<Millis>(i) * 50 - 25) << "task " << i;
  }
}

// Callers whose clocks disagree by +-1 s share one bucket: the skew may let a few extra tasks
// through once (at most 2 * skew * rate) on stores that use the callers' clocks, never a
// higher sustained rate; stores that use their own clock (Redis) do not see it at all.
TEST_P(StoreConformance, RateLimitToleratesClockSkewBetweenWorkers) {
  RUNQ_SKIP_UNLESS_TASK_LIMITS();
  std::vector<NewTask> tasks;
  for (int i = 0; i < 200; ++i) tasks.push_back(rated("r" + std::to_string(i), "k", 20, kSecond));
  enqueue(tasks);

  const auto start = std::chrono::steady_clock::now();
  int handed = 0;
  for (int call = 0; elapsed_since(start) < 1500; ++call) {
    const Millis skew = call % 2 == 0 ? kSecond : -kSecond;
    handed += static_cast<int>(reserve({"q"}, 10, kT0 + elapsed_since(start) + skew).size());
    ASSERT_THAT(store().wait_for_work({"q"}, 2), IsOk());
  }
  const Millis took = elapsed_since(start);

  // took/50 ms at 20/s, plus 2 s * 20/s of skew, plus the first at once.
  EXPECT_LE(handed, took / 50 + 40 + 1);
  EXPECT_GE(handed, 1500 / 50 / 2);
}

TEST_P(StoreConformance, RateLimitKeysAreSeparateBuckets) {
  RUNQ_SKIP_UNLESS_TASK_LIMITS();
  enqueue({rated("a1", "a", 1, 60 * kSecond), rated("a2", "a", 1, 60 * kSecond),
           rated("b1", "b", 1, 60 * kSecond)});

  EXPECT_EQ(ids_of(reserve({"q"}, 10)), (std::vector<std::string>{"a1", "b1"}));
  EXPECT_EQ(task_info("a2").state, TaskState::kScheduled);
  EXPECT_THAT(reserve({"q"}, 10, kT0 + 30 * kSecond), IsEmpty());
}

TEST_P(StoreConformance, RateLimitStateIsListed) {
  RUNQ_SKIP_UNLESS_TASK_LIMITS();
  enqueue({rated("a1", "send", 1, 60 * kSecond), rated("a2", "send", 1, 60 * kSecond)});
  reserve({"q"}, 10);

  Result<std::vector<RateLimitState>> states = store().rate_limits(kT0 + kSecond);

  ASSERT_THAT(states.status(), IsOk());
  ASSERT_EQ(states->size(), 1u);
  EXPECT_EQ((*states)[0].key, "send");
  EXPECT_EQ((*states)[0].count, 1);
  EXPECT_EQ((*states)[0].period_ms, 60 * kSecond);
  EXPECT_GT((*states)[0].next_free_ms, 50 * kSecond);
}

// ---- per-key concurrency ------------------------------------------------------------------

TEST_P(StoreConformance, ConcurrencyKeyHoldsTheOthersUntilASlotFrees) {
  RUNQ_SKIP_UNLESS_TASK_LIMITS();
  enqueue({keyed("a1", "user-1", 1), keyed("a2", "user-1", 1), keyed("b1", "user-2", 1)});

  std::vector<Delivery> first = reserve({"q"}, 10);

  EXPECT_EQ(ids_of(first), (std::vector<std::string>{"a1", "b1"}));
  EXPECT_EQ(task_info("a2").state, TaskState::kScheduled);
  EXPECT_THAT(reserve({"q"}, 10, kT0 + kSecond), IsEmpty());
  ASSERT_TRUE(settle_one(ack_of(first[0])));
  EXPECT_EQ(task_info("a2").state, TaskState::kPending);
  EXPECT_EQ(ids_of(reserve({"q"}, 10, kT0 + kSecond)), std::vector<std::string>{"a2"});
}

TEST_P(StoreConformance, ConcurrencyAllowsUpToMaxAtOnce) {
  RUNQ_SKIP_UNLESS_TASK_LIMITS();
  enqueue({keyed("a", "k", 2), keyed("b", "k", 2), keyed("c", "k", 2)});

  EXPECT_EQ(ids_of(reserve({"q"}, 10)), (std::vector<std::string>{"a", "b"}));
  EXPECT_THAT(reserve({"q"}, 10), IsEmpty());
}

// Every way a task leaves RESERVED frees its slot: retry, dead letter, release.
TEST_P(StoreConformance, ConcurrencySlotFreesOnEveryOutcome) {
  RUNQ_SKIP_UNLESS_TASK_LIMITS();
  enqueue({keyed("a", "k", 1), keyed("b", "k", 1), keyed("c", "k", 1), keyed("d", "k", 1)});

  Delivery a = reserve_one("q");
  ASSERT_TRUE(settle_one(retry_of(a, kT0 + 60 * kSecond)));
  Delivery b = reserve_one("q");
  EXPECT_EQ(b.id, "b");
  ASSERT_TRUE(settle_one(dead_letter_of(b, "poison")));
  Delivery c = reserve_one("q");
  EXPECT_EQ(c.id, "c");
  ASSERT_TRUE(settle_one(release_of(c)));
  // c went back to its queue; c or d takes the slot, and only one of them.
  EXPECT_EQ(reserve({"q"}, 10).size(), 1u);
}

// A worker killed while it held a slot: the slot frees when its lease lapses, never leaks.
TEST_P(StoreConformance, ConcurrencySlotFreesWhenTheLeaseLapses) {
  RUNQ_SKIP_UNLESS_TASK_LIMITS();
  enqueue({keyed("a", "k", 1), keyed("b", "k", 1)});
  Delivery a = reserve_one("q", kT0, 5 * kSecond, "killed");
  ASSERT_EQ(a.id, "a");
  EXPECT_THAT(reserve({"q"}, 10, kT0 + kSecond), IsEmpty());

  std::vector<Delivery> after = reserve({"q"}, 10, kT0 + 6 * kSecond, kLease, "w2");

  ASSERT_EQ(after.size(), 1u);  // a again (its lease lapsed) or b: one slot, one task
  ASSERT_TRUE(settle_one(ack_of(after[0]), kT0 + 6 * kSecond));
  std::vector<Delivery> last = reserve({"q"}, 10, kT0 + 7 * kSecond, kLease, "w2");
  ASSERT_EQ(last.size(), 1u);
  EXPECT_NE(last[0].id, after[0].id);
}

TEST_P(StoreConformance, ParkedTaskCanBeRevokedAndPurged) {
  RUNQ_SKIP_UNLESS_TASK_LIMITS();
  enqueue({keyed("a", "k", 1), keyed("b", "k", 1), keyed("c", "k", 1)});
  Delivery a = reserve_one("q");
  EXPECT_THAT(reserve({"q"}, 10), IsEmpty());  // b and c parked

  Result<TaskState> revoked = store().revoke({"b", false, "", kLease}, kT0);
  if (!is_failed_precondition(revoked.status())) {
    ASSERT_THAT(revoked.status(), IsOk());
    EXPECT_EQ(*revoked, TaskState::kRevoked);
  }
  ASSERT_TRUE(settle_one(ack_of(a)));

  std::vector<Delivery> next = reserve({"q"}, 10);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].id, is_failed_precondition(revoked.status()) ? "b" : "c");
}

// Revoked while running, then its worker died: the lapse ends it REVOKED and frees its slot.
TEST_P(StoreConformance, ConcurrencySlotFreesWhenARevokedTasksLeaseLapses) {
  RUNQ_SKIP_UNLESS_TASK_LIMITS();
  enqueue({keyed("a", "k", 1), keyed("b", "k", 1)});
  Delivery a = reserve_one("q", kT0, 5 * kSecond, "killed");
  EXPECT_THAT(reserve({"q"}, 10, kT0 + kSecond), IsEmpty());  // b parked
  Result<TaskState> revoked = store().revoke({"a", true, "", kLease}, kT0 + kSecond);
  if (is_failed_precondition(revoked.status())) GTEST_SKIP() << "no revoke";
  ASSERT_THAT(revoked.status(), IsOk());
  ASSERT_EQ(*revoked, TaskState::kReserved);

  std::vector<Delivery> after = reserve({"q"}, 10, kT0 + 6 * kSecond, kLease, "w2");

  EXPECT_EQ(task_info("a", kT0 + 6 * kSecond).state, TaskState::kRevoked);
  EXPECT_EQ(ids_of(after), std::vector<std::string>{"b"});
}

// A periodic tick enqueues its task with its limits, like enqueue.
TEST_P(StoreConformance, TickTaskKeepsItsLimits) {
  RUNQ_SKIP_UNLESS_TASK_LIMITS();
  enqueue({keyed("a", "k", 1)});
  Delivery a = reserve_one("q");
  Result<bool> claimed = store().claim_tick("every-minute", kT0, keyed("tick", "k", 1), kT0);
  ASSERT_THAT(claimed.status(), IsOk());
  ASSERT_TRUE(*claimed);

  EXPECT_THAT(reserve({"q"}, 10), IsEmpty());
  ASSERT_TRUE(settle_one(ack_of(a)));
  EXPECT_EQ(ids_of(reserve({"q"}, 10)), std::vector<std::string>{"tick"});
}

// A parked task waits in its queue like a scheduled one: counted, and purged with the queue.
TEST_P(StoreConformance, ParkedTasksAreCountedAndPurgedWithTheirQueue) {
  RUNQ_SKIP_UNLESS_TASK_LIMITS();
  enqueue({keyed("a", "k", 1), keyed("b", "k", 1), keyed("c", "k", 1)});
  Delivery a = reserve_one("q");
  EXPECT_THAT(reserve({"q"}, 10), IsEmpty());

  EXPECT_EQ(queue_stats("q").scheduled, 2);
  Result<std::int64_t> purged = store().purge_queue("q");
  ASSERT_THAT(purged.status(), IsOk());
  EXPECT_EQ(*purged, 2);
  ASSERT_TRUE(settle_one(ack_of(a)));
  enqueue({keyed("d", "k", 1)});
  EXPECT_EQ(ids_of(reserve({"q"}, 10)), std::vector<std::string>{"d"});
}

// Many parked tasks purged at once leave no stale places in the line for the slot: a task
// parked after the purge comes back as soon as the slot frees.
TEST_P(StoreConformance, TaskParkedAfterAPurgeOfManyParkedTasksGetsTheFreedSlot) {
  RUNQ_SKIP_UNLESS_TASK_LIMITS();
  std::vector<NewTask> tasks;
  for (int i = 0; i < 20; ++i) tasks.push_back(keyed("p" + std::to_string(i), "k", 1));
  enqueue({keyed("a", "k", 1)});
  Delivery a = reserve_one("q");
  enqueue(tasks);
  EXPECT_THAT(reserve({"q"}, 100), IsEmpty());  // all 20 parked
  Result<std::int64_t> purged = store().purge_queue("q");
  ASSERT_THAT(purged.status(), IsOk());
  ASSERT_EQ(*purged, 20);
  enqueue({keyed("late", "k", 1)});
  EXPECT_THAT(reserve({"q"}, 10), IsEmpty());  // parked: a holds the slot

  ASSERT_TRUE(settle_one(ack_of(a)));

  EXPECT_EQ(ids_of(reserve({"q"}, 10)), std::vector<std::string>{"late"});
}

TEST_P(StoreConformance, TasksWithBothLimitsObeyBoth) {
  RUNQ_SKIP_UNLESS_TASK_LIMITS();
  NewTask a = keyed("a", "k", 1);
  a.limits.rate_key = "r";
  a.limits.rate_count = 100;
  a.limits.rate_period_ms = kSecond;
  NewTask b = a;
  b.id = "b";
  enqueue({a, b});

  std::vector<Delivery> got = reserve({"q"}, 10);

  ASSERT_EQ(ids_of(got), std::vector<std::string>{"a"});
  ASSERT_TRUE(settle_one(ack_of(got[0])));
  EXPECT_EQ(ids_of(reserve({"q"}, 10, kT0 + kSecond)), std::vector<std::string>{"b"});
}

// Every backend in the registry enforces limits, so the refusal of CheckedStore is checked
// here over a backend that says it does not: every way in (enqueue, a unique enqueue, a tick,
// a settlement's follow-up) refuses a task with limits, and adds nothing.
TEST(StoreWithoutLimits, EveryWayInRefusesATaskWithLimits) {
  std::unique_ptr<Store> memory = new_memory_store();
  struct Backend final : StoreWrapper {
    explicit Backend(Store* s) : StoreWrapper(s) {}
    bool enforces_task_limits() const override { return false; }
  };
  std::unique_ptr<Store> store = checked_store(std::make_unique<Backend>(memory.get()), 1 << 20);
  NewTask limited = make_task("a", "q");
  limited.limits.concurrency_key = "k";
  limited.limits.max_concurrency = 1;
  NewTask unique = limited;
  unique.unique.key = "u";

  EXPECT_THAT(store->enqueue(std::vector{limited}, kT0), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(store->enqueue_unique(std::vector{unique}, kT0).status(),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(store->claim_tick("s", kT0, limited, kT0).status(),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(store->get_task("a", kT0).status(), StatusIs(StatusCode::kNotFound));
  ASSERT_THAT(store->enqueue(std::vector{make_task("plain", "q")}, kT0), IsOk());
  ReserveRequest req;
  req.queues = {"q"};
  req.worker_id = "w";
  req.max = 1;
  req.lease_ms = kLease;
  req.now = kT0;
  Result<std::vector<Delivery>> got = store->reserve(req);
  ASSERT_THAT(got.status(), IsOk());
  ASSERT_EQ(got->size(), 1u);
  Settlement s = ack_of((*got)[0]);
  s.then.tasks.push_back(limited);
  EXPECT_THAT(store->settle({&s, 1}, kT0).status(), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(store->get_task("a", kT0).status(), StatusIs(StatusCode::kNotFound));
}

}  // namespace
}  // namespace runq::conformance
