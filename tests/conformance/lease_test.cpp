// Conformance: fenced leases — lapse and redelivery, stale holders, extend (heartbeats),
// max_deliveries, and concurrent reservers.
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "conformance/store_conformance.hpp"

namespace runq::conformance {
namespace {

using ::runq::testing::IsOk;
using ::runq::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr Millis kShortLease = 10 * kSecond;

TEST_P(StoreConformance, FirstDeliveryCountsOneAndLeasesFromNow) {
  enqueue({make_task("a")});
  Delivery d = reserve_one("default", kT0 + 5, kShortLease);
  EXPECT_EQ(d.deliveries, 1);
  EXPECT_EQ(d.lease_expires, kT0 + 5 + kShortLease);
}

TEST_P(StoreConformance, ReservedTaskShowsHolderAndLease) {
  enqueue({make_task("a")});
  reserve_one("default", kT0, kShortLease, "worker-7");
  TaskInfo info = task_info("a");
  EXPECT_EQ(info.state, TaskState::kReserved);
  EXPECT_EQ(info.worker_id, "worker-7");
  EXPECT_EQ(info.lease_expires, kT0 + kShortLease);
  EXPECT_EQ(info.deliveries, 1);
}

TEST_P(StoreConformance, ReservedTaskIsNotHandedOutAgainWithinLease) {
  enqueue({make_task("a")});
  reserve_one("default", kT0, kShortLease);
  EXPECT_THAT(reserve({"default"}, 10, kT0 + kShortLease - 1), IsEmpty());
}

TEST_P(StoreConformance, LapsedLeaseRedeliversWithMoreDeliveriesAndLargerToken) {
  enqueue({make_task("a")});
  Delivery first = reserve_one("default", kT0, kShortLease, "w1");
  Delivery second = reserve_one("default", kT0 + kShortLease + 1, kShortLease, "w2");
  EXPECT_EQ(second.id, "a");
  EXPECT_EQ(second.body, "body-of-a");
  EXPECT_EQ(second.deliveries, 2);
  EXPECT_GT(second.token, first.token);
  EXPECT_EQ(task_info("a", kT0 + kShortLease + 1).worker_id, "w2");
}

TEST_P(StoreConformance, TokenGrowsWithEveryDelivery) {
  enqueue({make_task("a")});
  std::uint64_t last = 0;
  for (int i = 0; i < 4; ++i) {
    Delivery d = reserve_one("default", kT0 + i * (kShortLease + 1), kShortLease);
    if (i > 0) {
      EXPECT_GT(d.token, last);
    }
    last = d.token;
    EXPECT_TRUE(settle_one(release_of(d), kT0 + i * (kShortLease + 1)));
  }
}

TEST_P(StoreConformance, StaleHolderSettleIsRefusedAfterRedelivery) {
  enqueue({make_task("a")});
  Delivery stale = reserve_one("default", kT0, kShortLease);
  const Millis later = kT0 + kShortLease + 1;
  Delivery live = reserve_one("default", later, kShortLease);
  EXPECT_FALSE(settle_one(ack_of(stale, "stale result"), later));
  TaskInfo info = task_info("a", later);
  EXPECT_EQ(info.state, TaskState::kReserved);
  EXPECT_EQ(info.result, "");
  EXPECT_TRUE(settle_one(ack_of(live, "live result"), later));
  EXPECT_EQ(task_info("a", later).result, "live result");
}

TEST_P(StoreConformance, StaleResultDoesNotOverwriteLiveResult) {
  enqueue({make_task("a")});
  Delivery stale = reserve_one("default", kT0, kShortLease);
  const Millis later = kT0 + kShortLease + 1;
  Delivery live = reserve_one("default", later, kShortLease);
  EXPECT_TRUE(settle_one(ack_of(live, "live result"), later));
  EXPECT_FALSE(settle_one(ack_of(stale, "stale result", TaskState::kFailure), later + 1));
  TaskInfo info = task_info("a", later + 1);
  EXPECT_EQ(info.state, TaskState::kSuccess);
  EXPECT_EQ(info.result, "live result");
}

TEST_P(StoreConformance, StaleSettlementCountsAsDuplicate) {
  enqueue({make_task("a")});
  Delivery stale = reserve_one("default", kT0, kShortLease);
  const Millis later = kT0 + kShortLease + 1;
  Delivery live = reserve_one("default", later, kShortLease);
  EXPECT_FALSE(settle_one(ack_of(stale, "late"), later));
  EXPECT_TRUE(settle_one(ack_of(live, "live"), later));
  StoreStats s = all_stats(later);
  EXPECT_EQ(s.duplicates, 1u);
  EXPECT_EQ(s.completed, 1u);
}

TEST_P(StoreConformance, StaleHolderExtendIsRefused) {
  enqueue({make_task("a")});
  Delivery stale = reserve_one("default", kT0, kShortLease);
  const Millis later = kT0 + kShortLease + 1;
  Delivery live = reserve_one("default", later, kShortLease);
  EXPECT_THAT(extend({lease_of(stale)}, kShortLease, later), ElementsAre(false));
  EXPECT_EQ(task_info("a", later).lease_expires, live.lease_expires);
}

TEST_P(StoreConformance, StaleHolderSetProgressIsFailedPrecondition) {
  enqueue({make_task("a")});
  Delivery stale = reserve_one("default", kT0, kShortLease);
  reserve_one("default", kT0 + kShortLease + 1, kShortLease);
  EXPECT_THAT(store().set_progress(lease_of(stale), 0.5),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(task_info("a", kT0 + kShortLease + 1).progress, 0.0);
}

TEST_P(StoreConformance, LateSettleIsAcceptedWhileLeaseNotTakenOver) {
  enqueue({make_task("a")});
  Delivery d = reserve_one("default", kT0, kShortLease);
  EXPECT_TRUE(settle_one(ack_of(d, "done late"), kT0 + 2 * kShortLease));
  EXPECT_EQ(task_info("a", kT0 + 2 * kShortLease).state, TaskState::kSuccess);
}

TEST_P(StoreConformance, ExtendKeepsLeaseAlivePastOriginalExpiry) {
  enqueue({make_task("a")});
  Delivery d = reserve_one("default", kT0, kShortLease);
  EXPECT_THAT(extend({lease_of(d)}, kShortLease, kT0 + 8 * kSecond), ElementsAre(true));
  EXPECT_EQ(task_info("a", kT0 + 8 * kSecond).lease_expires, kT0 + 18 * kSecond);
  EXPECT_THAT(reserve({"default"}, 10, kT0 + 15 * kSecond), IsEmpty());
  EXPECT_TRUE(settle_one(ack_of(d), kT0 + 17 * kSecond));
}

TEST_P(StoreConformance, HeartbeatKeepsLongTaskWithoutRedelivery) {
  enqueue({make_task("long")});
  Delivery d = reserve_one("default", kT0, kShortLease);
  Millis now = kT0;
  for (int beat = 0; beat < 30; ++beat) {  // 30 beats * 7 s: many times the lease
    now += 7 * kSecond;
    ASSERT_THAT(extend({lease_of(d)}, kShortLease, now), ElementsAre(true)) << "beat " << beat;
    ASSERT_THAT(reserve({"default"}, 10, now + 1), IsEmpty()) << "beat " << beat;
  }
  EXPECT_TRUE(settle_one(ack_of(d, "finally"), now + 1));
  EXPECT_EQ(all_stats(now + 1).duplicates, 0u);
}

TEST_P(StoreConformance, ExtendAfterSettleIsRefused) {
  enqueue({make_task("a")});
  Delivery d = reserve_one();
  EXPECT_TRUE(settle_one(ack_of(d)));
  EXPECT_THAT(extend({lease_of(d)}, kShortLease, kT0 + 1), ElementsAre(false));
}

TEST_P(StoreConformance, ExtendOfUnknownTaskIsRefused) {
  EXPECT_THAT(extend({LeaseRef{"nope", 1}}, kShortLease, kT0), ElementsAre(false));
}

TEST_P(StoreConformance, ExtendWithWrongTokenIsRefused) {
  enqueue({make_task("a")});
  Delivery d = reserve_one();
  EXPECT_THAT(extend({LeaseRef{"a", d.token + 1000}}, kShortLease, kT0), ElementsAre(false));
}

TEST_P(StoreConformance, ExtendReturnsOneFlagPerLease) {
  enqueue({make_task("a"), make_task("b")});
  auto got = reserve({"default"}, 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(settle_one(ack_of(got[1])));
  EXPECT_THAT(extend({lease_of(got[0]), lease_of(got[1]), LeaseRef{"zz", 3}}, kShortLease, kT0),
              ElementsAre(true, false, false));
}

TEST_P(StoreConformance, LapsedPastMaxDeliveriesIsDeadWithLeaseReason) {
  NewTask t = make_task("a");
  t.max_deliveries = 2;
  enqueue({t});
  reserve_one("default", kT0, kShortLease);
  Delivery second = reserve_one("default", kT0 + 11 * kSecond, kShortLease);
  EXPECT_EQ(second.deliveries, 2);
  const Millis after = kT0 + 22 * kSecond;
  EXPECT_THAT(reserve({"default"}, 10, after), IsEmpty());
  TaskInfo info = task_info("a", after);
  EXPECT_EQ(info.state, TaskState::kDead);
  EXPECT_THAT(info.dead_reason, HasSubstr("lease"));
  auto dead = store().list_dead(10);
  ASSERT_THAT(dead, IsOk());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].id, "a");
  EXPECT_THAT((*dead)[0].reason, HasSubstr("lease"));
  EXPECT_FALSE(settle_one(ack_of(second), after));
}

TEST_P(StoreConformance, SingleDeliveryTaskDiesOnFirstLapse) {
  NewTask t = make_task("once");
  t.max_deliveries = 1;
  enqueue({t});
  reserve_one("default", kT0, kShortLease);
  EXPECT_THAT(reserve({"default"}, 10, kT0 + kShortLease + 1), IsEmpty());
  EXPECT_EQ(task_info("once", kT0 + kShortLease + 1).state, TaskState::kDead);
}

TEST_P(StoreConformance, ConcurrentReserversGetEveryTaskExactlyOnce) {
  constexpr int kTasks = 200;
  constexpr int kThreads = 4;
  std::vector<NewTask> batch;
  for (int i = 0; i < kTasks; ++i) batch.push_back(make_task("t" + std::to_string(i)));
  enqueue(batch);
  std::vector<std::vector<std::string>> got(kThreads);
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      for (int round = 0; round < kTasks; ++round) {
        ReserveRequest req{{"default"}, "w" + std::to_string(w), 3, 60 * kSecond, kT0};
        auto ds = store().reserve(req);
        if (!ds.ok() || ds->empty()) return;
        std::vector<Settlement> acks;
        for (const Delivery& d : *ds) {
          got[w].push_back(d.id);
          acks.push_back(ack_of(d));
        }
        auto flags = store().settle(acks, kT0);
        for (bool f : flags.value_or({})) refused += f ? 0 : 1;
        if (!flags.ok()) refused += 1000;
      }
    });
  }
  for (auto& t : threads) t.join();
  std::multiset<std::string> all;
  for (const auto& v : got) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), std::size_t{kTasks});
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), std::size_t{kTasks})
      << "a task was handed to two holders at once";
  EXPECT_EQ(refused.load(), 0);
  EXPECT_EQ(all_stats().completed, std::uint64_t{kTasks});
}

}  // namespace
}  // namespace runq::conformance
