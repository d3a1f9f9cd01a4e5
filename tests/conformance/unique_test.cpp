// Conformance: unique jobs in the store — while a task holds its unique key, an enqueue of
// another task with that key adds nothing and names the holder; the key is released when the
// holder ends (or starts, with until_start), or when for_ms passes, and kept through retries,
// releases and lapsed leases; racing producers add exactly one task.
#include <string>
#include <thread>
#include <vector>

#include "conformance/store_conformance.hpp"

namespace runq::conformance {
namespace {

using ::runq::testing::IsOk;
using ::runq::testing::StatusIs;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A backend without unique jobs answers FailedPrecondition (the Store default); its cases are
// skipped, naming the gap, instead of failing the suite.
#define RUNQ_SKIP_UNLESS_UNIQUE()                                                           \
  do {                                                                                      \
    NewTask probe_task = make_task("probe", "probe-queue");                                 \
    probe_task.unique.key = "probe-key";                                                    \
    Result<std::vector<std::string>> probe = store().enqueue_unique({&probe_task, 1}, kT0); \
    if (is_failed_precondition(probe.status()))                                             \
      GTEST_SKIP() << GetParam().name                                                       \
                   << " does not implement unique jobs: " << probe.status().message();      \
  } while (false)

NewTask unique_task(std::string id, std::string key, Millis for_ms = 0, bool until_start = false,
                    std::string queue = "q") {
  NewTask t = make_task(std::move(id), std::move(queue));
  t.unique.key = std::move(key);
  t.unique.for_ms = for_ms;
  t.unique.until_start = until_start;
  return t;
}

// The holder of each task's key when it was not added ("" = added or id exists).
std::vector<std::string> enqueue_unique(Store& store, std::vector<NewTask> tasks,
                                        Millis now = kT0) {
  Result<std::vector<std::string>> held = store.enqueue_unique(tasks, now);
  EXPECT_THAT(held.status(), IsOk());
  return held.ok() ? *held : std::vector<std::string>{};
}

bool exists(Store& store, const std::string& id, Millis now = kT0) {
  return store.get_task(id, now).ok();
}

TEST_P(StoreConformance, UniqueEnqueueOfAHeldKeyAddsNothingAndNamesTheHolder) {
  RUNQ_SKIP_UNLESS_UNIQUE();
  EXPECT_THAT(enqueue_unique(store(), {unique_task("a", "k")}), ElementsAre(""));

  EXPECT_THAT(enqueue_unique(store(), {unique_task("b", "k")}), ElementsAre("a"));

  EXPECT_FALSE(exists(store(), "b"));
  EXPECT_EQ(queue_stats("q").pending, 1);
  EXPECT_THAT(enqueue_unique(store(), {unique_task("c", "other")}), ElementsAre(""));
}

TEST_P(StoreConformance, UniqueKeyHoldsAcrossQueues) {
  RUNQ_SKIP_UNLESS_UNIQUE();
  enqueue_unique(store(), {unique_task("a", "k", 0, false, "q1")});

  EXPECT_THAT(enqueue_unique(store(), {unique_task("b", "k", 0, false, "q2")}), ElementsAre("a"));
}

TEST_P(StoreConformance, PlainEnqueueHonoursUniqueKeys) {
  RUNQ_SKIP_UNLESS_UNIQUE();
  enqueue({unique_task("a", "k")});

  enqueue({unique_task("b", "k")});

  EXPECT_TRUE(exists(store(), "a"));
  EXPECT_FALSE(exists(store(), "b"));
}

TEST_P(StoreConformance, UniqueBatchWithOneKeyTwiceAddsTheFirst) {
  RUNQ_SKIP_UNLESS_UNIQUE();

  EXPECT_THAT(enqueue_unique(
                  store(), {unique_task("a", "k"), make_task("plain", "q"), unique_task("b", "k")}),
              ElementsAre("", "", "a"));

  EXPECT_TRUE(exists(store(), "a"));
  EXPECT_TRUE(exists(store(), "plain"));
  EXPECT_FALSE(exists(store(), "b"));
}

TEST_P(StoreConformance, UniqueReEnqueueOfTheSameIdIsSkippedAsBefore) {
  RUNQ_SKIP_UNLESS_UNIQUE();
  enqueue_unique(store(), {unique_task("a", "k")});

  EXPECT_THAT(enqueue_unique(store(), {unique_task("a", "k")}), ElementsAre(""));

  EXPECT_EQ(queue_stats("q").pending, 1);
}

TEST_P(StoreConformance, UniqueKeyIsHeldWhileRunningAndReleasedOnSuccess) {
  RUNQ_SKIP_UNLESS_UNIQUE();
  enqueue_unique(store(), {unique_task("a", "k")});
  Delivery d = reserve_one("q");
  EXPECT_THAT(enqueue_unique(store(), {unique_task("b", "k")}), ElementsAre("a"));

  ASSERT_TRUE(settle_one(ack_of(d)));

  EXPECT_THAT(enqueue_unique(store(), {unique_task("c", "k")}), ElementsAre(""));
  EXPECT_TRUE(exists(store(), "c"));
}

TEST_P(StoreConformance, UniqueKeyIsReleasedWhenTheHolderEndsAnyWay) {
  RUNQ_SKIP_UNLESS_UNIQUE();
  enqueue_unique(store(), {unique_task("fails", "k1"), unique_task("dies", "k2"),
                           unique_task("expires", "k3")});
  std::vector<Delivery> ds = reserve({"q"}, 3);
  ASSERT_EQ(ds.size(), 3U);

  EXPECT_THAT(settle({ack_of(ds[0], "", TaskState::kFailure), dead_letter_of(ds[1], "bad"),
                      ack_of(ds[2], "", TaskState::kExpired)}),
              Each(true));

  EXPECT_THAT(enqueue_unique(store(), {unique_task("n1", "k1"), unique_task("n2", "k2"),
                                       unique_task("n3", "k3")}),
              ElementsAre("", "", ""));
}

TEST_P(StoreConformance, UniqueKeyIsKeptThroughRetryAndRelease) {
  RUNQ_SKIP_UNLESS_UNIQUE();
  enqueue_unique(store(), {unique_task("a", "k")});
  Delivery d = reserve_one("q");
  ASSERT_TRUE(settle_one(retry_of(d, kT0 + kSecond)));
  EXPECT_THAT(enqueue_unique(store(), {unique_task("b", "k")}), ElementsAre("a"));

  Delivery again = reserve_one("q", kT0 + kSecond);
  ASSERT_TRUE(settle_one(release_of(again), kT0 + kSecond));

  EXPECT_THAT(enqueue_unique(store(), {unique_task("c", "k")}, kT0 + kSecond), ElementsAre("a"));
}

TEST_P(StoreConformance, UniqueKeyIsKeptWhenALapsedLeaseIsRedelivered) {
  RUNQ_SKIP_UNLESS_UNIQUE();
  enqueue_unique(store(), {unique_task("a", "k")});
  reserve_one("q", kT0, kSecond);

  Delivery again = reserve_one("q", kT0 + 2 * kSecond);

  EXPECT_EQ(again.id, "a");
  EXPECT_EQ(again.deliveries, 2);
  EXPECT_THAT(enqueue_unique(store(), {unique_task("b", "k")}, kT0 + 2 * kSecond),
              ElementsAre("a"));
}

TEST_P(StoreConformance, UniqueKeyIsReleasedWhenLapsesDeadLetterTheHolder) {
  RUNQ_SKIP_UNLESS_UNIQUE();
  NewTask t = unique_task("a", "k");
  t.max_deliveries = 1;
  enqueue_unique(store(), {t});
  reserve_one("q", kT0, kSecond);

  EXPECT_THAT(reserve({"q"}, 1, kT0 + 2 * kSecond), IsEmpty());

  EXPECT_EQ(task_info("a", kT0 + 2 * kSecond).state, TaskState::kDead);
  EXPECT_THAT(enqueue_unique(store(), {unique_task("b", "k")}, kT0 + 2 * kSecond), ElementsAre(""));
}

TEST_P(StoreConformance, UniqueUntilStartReleasesTheKeyWhenHandedOut) {
  RUNQ_SKIP_UNLESS_UNIQUE();
  enqueue_unique(store(), {unique_task("a", "k", 0, true)});
  EXPECT_THAT(enqueue_unique(store(), {unique_task("b", "k", 0, true)}), ElementsAre("a"));

  reserve_one("q");

  EXPECT_THAT(enqueue_unique(store(), {unique_task("c", "k", 0, true)}), ElementsAre(""));
}

TEST_P(StoreConformance, UniqueForLapsesTheKeyAfterItsWindow) {
  RUNQ_SKIP_UNLESS_UNIQUE();
  enqueue_unique(store(), {unique_task("a", "k", 10 * kSecond)});
  EXPECT_THAT(enqueue_unique(store(), {unique_task("b", "k")}, kT0 + 10 * kSecond - 1),
              ElementsAre("a"));

  EXPECT_THAT(enqueue_unique(store(), {unique_task("c", "k")}, kT0 + 10 * kSecond),
              ElementsAre(""));

  EXPECT_TRUE(exists(store(), "a", kT0 + 10 * kSecond));
  EXPECT_TRUE(exists(store(), "c", kT0 + 10 * kSecond));
}

// A holder whose window passed and whose key went to another task must not release the new
// holder's key when it ends.
TEST_P(StoreConformance, UniqueLapsedHolderEndingKeepsTheNewHoldersKey) {
  RUNQ_SKIP_UNLESS_UNIQUE();
  enqueue_unique(store(), {unique_task("old", "k", kSecond)});
  Delivery d = reserve_one("q");
  enqueue_unique(store(), {unique_task("new", "k")}, kT0 + 2 * kSecond);

  ASSERT_TRUE(settle_one(ack_of(d), kT0 + 2 * kSecond));

  EXPECT_THAT(enqueue_unique(store(), {unique_task("x", "k")}, kT0 + 2 * kSecond),
              ElementsAre("new"));
}

TEST_P(StoreConformance, UniqueKeyIsReleasedByRevokeAndPurge) {
  RUNQ_SKIP_UNLESS_UNIQUE();
  enqueue_unique(store(),
                 {unique_task("revoked", "k1"), unique_task("purged", "k2", 0, false, "other")});
  Result<TaskState> revoked = store().revoke({"revoked", false, "", 60'000}, kT0);
  ASSERT_THAT(revoked.status(), IsOk());
  ASSERT_THAT(store().purge_queue("other").status(), IsOk());

  EXPECT_THAT(enqueue_unique(store(), {unique_task("n1", "k1"), unique_task("n2", "k2")}),
              ElementsAre("", ""));
}

TEST_P(StoreConformance, UniqueKeyRefusalsStillCountTowardABoundedQueue) {
  RUNQ_SKIP_UNLESS_UNIQUE();
  if (!store().set_queue_limit("q", 2).ok()) GTEST_SKIP() << "no queue controls";
  enqueue_unique(store(), {unique_task("a", "k")});

  Result<std::vector<std::string>> full =
      store().enqueue_unique(std::vector{unique_task("b", "k"), make_task("c", "q")}, kT0);

  EXPECT_THAT(full.status(), StatusIs(StatusCode::kResourceExhausted));
  EXPECT_THAT(full.status().message(), HasSubstr("is full"));
  EXPECT_FALSE(exists(store(), "c"));
}

TEST_P(StoreConformance, UniqueKeyOverTheLimitOrNegativeWindowIsRefusedWhole) {
  RUNQ_SKIP_UNLESS_UNIQUE();
  std::string big(kMaxUniqueKeyBytes + 1, 'k');

  Result<std::vector<std::string>> too_long =
      store().enqueue_unique(std::vector{make_task("ok", "q"), unique_task("a", big)}, kT0);
  Result<std::vector<std::string>> negative =
      store().enqueue_unique(std::vector{unique_task("b", "k", -1)}, kT0);

  EXPECT_THAT(too_long.status(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(too_long.status().message(), HasSubstr("over the limit of 512 bytes"));
  EXPECT_THAT(negative.status(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(negative.status().message(), HasSubstr("must not be negative"));
  EXPECT_FALSE(exists(store(), "ok"));
  EXPECT_THAT(enqueue_unique(store(), {unique_task("c", std::string(kMaxUniqueKeyBytes, 'k'))}),
              ElementsAre(""));
}

TEST_P(StoreConformance, UniqueKeyOnAPeriodicTickIsRefused) {
  RUNQ_SKIP_UNLESS_UNIQUE();

  Result<bool> claimed = store().claim_tick("s", kT0, unique_task("tick", "k"), kT0);

  EXPECT_THAT(claimed.status(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(claimed.status().message(), HasSubstr("unique key"));
}

// Producers racing on one key (each thread its own batch of calls) add exactly one task, and
// every refused enqueue names that task.
TEST_P(StoreConformance, UniqueKeyRaceAddsExactlyOneTask) {
  RUNQ_SKIP_UNLESS_UNIQUE();
  constexpr int kThreads = 4;
  constexpr int kRounds = 25;
  std::vector<std::vector<std::string>> seen(kThreads);
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([this, t, &seen] {
      for (int r = 0; r < kRounds; ++r) {
        std::string id = "t" + std::to_string(t) + "-" + std::to_string(r);
        Result<std::vector<std::string>> held =
            store().enqueue_unique(std::vector{unique_task(id, "k")}, kT0);
        seen[t].push_back(!held.ok()           ? "error: " + held.status().message()
                          : (*held)[0].empty() ? id
                                               : (*held)[0]);
      }
    });
  }
  for (std::thread& p : producers) p.join();

  EXPECT_EQ(queue_stats("q").pending, 1);
  std::string winner = seen[0][0];
  for (const auto& per_thread : seen) EXPECT_THAT(per_thread, Each(winner));
}

// Unique keys and workflow steps do not mix in one batch yet: refused whole.
TEST_P(StoreConformance, UniqueKeyWithAWorkflowStepInTheBatchIsRefused) {
  RUNQ_SKIP_UNLESS_UNIQUE();
  NewTask step = make_task("b", "q");
  step.links.depends_on = {"a"};

  Result<std::vector<std::string>> r =
      store().enqueue_unique(std::vector{unique_task("a", "k"), step}, kT0);

  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(exists(store(), "a"));
}

}  // namespace
}  // namespace runq::conformance
