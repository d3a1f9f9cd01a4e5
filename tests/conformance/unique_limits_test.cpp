// Conformance: unique jobs together with rate limits and per-key concurrency. A task may have
// both a unique key (NewTask::unique) and limits (NewTask::limits): the limits hold whichever
// enqueue path added it, a task moved aside or parked by its limits still holds its key
// (it is queued), and purging or revoking it gives up both.
#include <string>
#include <vector>

#include "conformance/store_conformance.hpp"

namespace runq::conformance {
namespace {

using ::runq::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Both features, or the case is skipped naming the gap (each is covered alone elsewhere).
#define RUNQ_SKIP_UNLESS_UNIQUE_AND_LIMITS()                                                \
  do {                                                                                      \
    if (!store().enforces_task_limits())                                                    \
      GTEST_SKIP() << GetParam().name << " does not enforce task limits";                   \
    NewTask probe_task = make_task("probe", "probe-queue");                                 \
    probe_task.unique.key = "probe-key";                                                    \
    Result<std::vector<std::string>> probe = store().enqueue_unique({&probe_task, 1}, kT0); \
    if (is_failed_precondition(probe.status()))                                             \
      GTEST_SKIP() << GetParam().name << " does not implement unique jobs";                 \
  } while (false)

// A unique task of queue "q" whose concurrency key is `conc` (at most `max` at once).
NewTask unique_keyed(std::string id, std::string key, std::string conc, int max,
                     bool until_start = false) {
  NewTask t = make_task(std::move(id), "q");
  t.unique.key = std::move(key);
  t.unique.until_start = until_start;
  t.limits.concurrency_key = std::move(conc);
  t.limits.max_concurrency = max;
  return t;
}

// A unique task of queue "q" limited to `count` per `period_ms` in bucket `bucket`.
NewTask unique_rated(std::string id, std::string key, std::string bucket, std::int64_t count,
                     Millis period_ms) {
  NewTask t = make_task(std::move(id), "q");
  t.unique.key = std::move(key);
  t.limits.rate_key = std::move(bucket);
  t.limits.rate_count = count;
  t.limits.rate_period_ms = period_ms;
  return t;
}

std::vector<std::string> enqueue_unique(Store& store, std::vector<NewTask> tasks,
                                        Millis now = kT0) {
  Result<std::vector<std::string>> held = store.enqueue_unique(tasks, now);
  EXPECT_THAT(held.status(), IsOk());
  return held.ok() ? *held : std::vector<std::string>{};
}

// The limits of a task added through enqueue_unique hold like those of a plain enqueue, and a
// task parked for its slot (or running) keeps its key.
TEST_P(StoreConformance, UniqueTasksWithAConcurrencyKeyObeyBoth) {
  RUNQ_SKIP_UNLESS_UNIQUE_AND_LIMITS();
  EXPECT_THAT(
      enqueue_unique(store(), {unique_keyed("a", "ua", "k", 1), unique_keyed("b", "ub", "k", 1)}),
      ElementsAre("", ""));

  std::vector<Delivery> first = reserve({"q"}, 10);

  ASSERT_EQ(ids_of(first), std::vector<std::string>{"a"});
  EXPECT_EQ(task_info("b").state, TaskState::kScheduled);  // parked for the slot
  EXPECT_THAT(
      enqueue_unique(store(), {unique_keyed("a2", "ua", "k", 1), unique_keyed("b2", "ub", "k", 1)}),
      ElementsAre("a", "b"));
  ASSERT_TRUE(settle_one(ack_of(first[0])));
  EXPECT_EQ(ids_of(reserve({"q"}, 10)), std::vector<std::string>{"b"});
  // a ended: its key is free again, and the new holder waits for the slot b holds.
  EXPECT_THAT(enqueue_unique(store(), {unique_keyed("a3", "ua", "k", 1)}), ElementsAre(""));
  EXPECT_THAT(reserve({"q"}, 10), IsEmpty());
}

// A task its rate limit moved aside is SCHEDULED, not gone: it keeps its key.
TEST_P(StoreConformance, UniqueRateLimitedTaskMovedAsideKeepsItsKey) {
  RUNQ_SKIP_UNLESS_UNIQUE_AND_LIMITS();
  enqueue_unique(store(), {unique_rated("r1", "k1", "send", 1, 60 * kSecond),
                           unique_rated("r2", "k2", "send", 1, 60 * kSecond)});

  EXPECT_EQ(ids_of(reserve({"q"}, 10)), std::vector<std::string>{"r1"});

  EXPECT_EQ(task_info("r2").state, TaskState::kScheduled);
  EXPECT_THAT(enqueue_unique(store(), {unique_rated("x", "k2", "send", 1, 60 * kSecond)}),
              ElementsAre("r2"));
}

// unique_until(start): the key goes when a worker takes the task, not when its limits park it.
TEST_P(StoreConformance, UniqueUntilStartKeepsTheKeyOfAParkedTask) {
  RUNQ_SKIP_UNLESS_UNIQUE_AND_LIMITS();
  enqueue_unique(store(),
                 {unique_keyed("a", "ua", "k", 1, true), unique_keyed("b", "ub", "k", 1, true)});

  EXPECT_EQ(ids_of(reserve({"q"}, 10)), std::vector<std::string>{"a"});

  EXPECT_THAT(enqueue_unique(store(), {unique_keyed("a2", "ua", "k", 1, true),
                                       unique_keyed("b2", "ub", "k", 1, true)}),
              ElementsAre("", "b"));
}

// Purging the queue and revoking a parked task give up their keys, and the slots stay right:
// the running task still holds the only one.
TEST_P(StoreConformance, PurgeAndRevokeOfParkedUniqueTasksFreeTheirKeys) {
  RUNQ_SKIP_UNLESS_UNIQUE_AND_LIMITS();
  enqueue_unique(store(), {unique_keyed("a", "ua", "k", 1), unique_keyed("b", "ub", "k", 1),
                           unique_keyed("c", "uc", "k", 1)});
  Delivery a = reserve_one("q");
  EXPECT_THAT(reserve({"q"}, 10), IsEmpty());  // b and c parked
  Result<TaskState> revoked = store().revoke({"b", false, "", kLease}, kT0);
  const bool revokes = !is_failed_precondition(revoked.status());
  if (revokes) {
    ASSERT_THAT(revoked.status(), IsOk());
  }

  Result<std::int64_t> purged = store().purge_queue("q");

  ASSERT_THAT(purged.status(), IsOk());
  EXPECT_EQ(*purged, revokes ? 1 : 2);
  EXPECT_THAT(
      enqueue_unique(store(), {unique_keyed("b2", "ub", "k", 1), unique_keyed("c2", "uc", "k", 1)}),
      ElementsAre("", ""));
  EXPECT_THAT(reserve({"q"}, 10), IsEmpty());  // a still holds the slot
  ASSERT_TRUE(settle_one(ack_of(a)));
  EXPECT_EQ(ids_of(reserve({"q"}, 10)), std::vector<std::string>{"b2"});
}

}  // namespace
}  // namespace runq::conformance
