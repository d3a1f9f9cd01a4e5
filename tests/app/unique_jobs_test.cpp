// Unique jobs through the typed API on a real SQLite store: EnqueueOptions::unique_key and
// TaskOptions::unique, AsyncResult::added(), the batch paths, and the bad-input errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <tuple>
#include <vector>

#include "app/internal/task_builder.hpp"
#include "runq/runq.hpp"
#include "support/status_matchers.hpp"
#include "support/temp_dir.hpp"

namespace runq {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::TempDir;

class UniqueJobsTest : public ::testing::Test {
 protected:
  UniqueJobsTest()
      : app_(AppOptions{.store_url = "sqlite:" + dir_.file("runq.db"), .clock = &clock_}),
        sync_(app_.task("sync", [](int user) { return user; })),
        report_(app_.task(
            "report", [](std::string day, nlohmann::json) { return day; },
            TaskOptions{}.unique())) {}

  // Hands out and acks every ready task of `queue`; returns how many.
  std::size_t run_all(const std::string& queue = "default") {
    Result<std::vector<Delivery>> got =
        app_.store()->reserve({{queue}, "w", 100, 10'000, clock_.now_ms()});
    EXPECT_TRUE(got.ok());
    if (!got.ok()) return 0;
    std::vector<Settlement> acks;
    for (const Delivery& d : *got) acks.push_back({Outcome::kAck, d.id, d.token});
    EXPECT_TRUE(app_.store()->settle(acks, clock_.now_ms()).ok());
    return got->size();
  }

  std::int64_t pending(const std::string& queue = "default") {
    Result<StoreStats> s = app_.store()->stats(clock_.now_ms());
    EXPECT_TRUE(s.ok());
    for (const QueueStats& q : s->queues) {
      if (q.queue == queue) return q.pending;
    }
    return 0;
  }

  TempDir dir_;
  ManualClock clock_;
  App app_;
  TaskHandle<int, int> sync_;
  TaskHandle<std::string, std::string, nlohmann::json> report_;
};

TEST_F(UniqueJobsTest, SecondEnqueueWithTheKeyReturnsTheFirstTask) {
  AsyncResult<int> first = sync_.apply(EnqueueOptions{}.unique_key("sync-user-42"), 42);

  AsyncResult<int> second = sync_.apply(EnqueueOptions{}.unique_key("sync-user-42"), 42);

  EXPECT_TRUE(first.added());
  EXPECT_FALSE(second.added());
  EXPECT_EQ(second.id(), first.id());
  EXPECT_EQ(pending(), 1);
}

TEST_F(UniqueJobsTest, KeyIsFreeAgainOnceTheTaskFinished) {
  sync_.apply(EnqueueOptions{}.unique_key("k"), 1);
  ASSERT_EQ(run_all(), 1u);

  AsyncResult<int> again = sync_.apply(EnqueueOptions{}.unique_key("k"), 1);

  EXPECT_TRUE(again.added());
  EXPECT_EQ(pending(), 1);
}

TEST_F(UniqueJobsTest, UniqueUntilStartFreesTheKeyWhenAWorkerTakesIt) {
  auto opts = EnqueueOptions{}.unique_key("k").unique_until(kStart);
  sync_.apply(opts, 1);
  EXPECT_FALSE(sync_.apply(opts, 1).added());

  Result<std::vector<Delivery>> taken =
      app_.store()->reserve({{"default"}, "w", 1, 10'000, clock_.now_ms()});
  ASSERT_TRUE(taken.ok());
  ASSERT_EQ(taken->size(), 1u);

  EXPECT_TRUE(sync_.apply(opts, 1).added());
}

TEST_F(UniqueJobsTest, UniqueForLetsTheKeyLapse) {
  sync_.apply(EnqueueOptions{}.unique_key("k").unique_for(10min), 1);
  clock_.advance(600'000 - 1);
  EXPECT_FALSE(sync_.apply(EnqueueOptions{}.unique_key("k"), 1).added());

  clock_.advance(1);

  EXPECT_TRUE(sync_.apply(EnqueueOptions{}.unique_key("k"), 1).added());
  EXPECT_EQ(pending(), 2);
}

// The task-level key: the task name and the canonical JSON arguments (object keys sorted).
TEST_F(UniqueJobsTest, TaskLevelUniqueKeysOnTheArguments) {
  AsyncResult<std::string> a =
      report_.delay("2026-12-01", nlohmann::json::parse(R"({"b": 1, "a": 2})"));

  AsyncResult<std::string> same =
      report_.delay("2026-12-01", nlohmann::json::parse(R"({"a": 2, "b": 1})"));
  AsyncResult<std::string> other = report_.delay("2026-12-02", nlohmann::json::object());

  EXPECT_TRUE(a.added());
  EXPECT_FALSE(same.added());
  EXPECT_EQ(same.id(), a.id());
  EXPECT_TRUE(other.added());
}

TEST_F(UniqueJobsTest, SendByNameUsesTheRegisteredTasksUniqueOption) {
  AsyncResult<std::string> a = report_.delay("d", nlohmann::json::object());

  AsyncResult<nlohmann::json> b = app_.send("report", nlohmann::json::parse(R"(["d", {}])"));

  EXPECT_FALSE(b.added());
  EXPECT_EQ(b.id(), a.id());
}

TEST_F(UniqueJobsTest, BatchWithOneKeyTwiceAddsOneTask) {
  std::vector<std::tuple<int>> calls{{1}, {2}};

  std::vector<AsyncResult<int>> rs = sync_.delay_many(calls, EnqueueOptions{}.unique_key("k"));

  ASSERT_EQ(rs.size(), 2u);
  EXPECT_TRUE(rs[0].added());
  EXPECT_FALSE(rs[1].added());
  EXPECT_EQ(rs[1].id(), rs[0].id());
  EXPECT_EQ(pending(), 1);
}

TEST_F(UniqueJobsTest, EnqueueCallsSaysWhichCallsWereAdded) {
  std::vector<TaskCall> calls(3);
  calls[0].name = calls[1].name = calls[2].name = "sync";
  calls[0].args_json = calls[1].args_json = calls[2].args_json = "[1]";
  calls[0].options.unique_key("a");
  calls[1].options.unique_key("a");
  calls[2].options.unique_key("b");

  Result<std::vector<Enqueued>> done = app_.enqueue_calls(calls);

  ASSERT_TRUE(done.ok()) << done.status().to_string();
  ASSERT_EQ(done->size(), 3u);
  EXPECT_TRUE((*done)[0].added);
  EXPECT_FALSE((*done)[1].added);
  EXPECT_EQ((*done)[1].id, (*done)[0].id);
  EXPECT_TRUE((*done)[2].added);
}

TEST_F(UniqueJobsTest, EmptyKeyIsRefusedWithAMessage) {
  try {
    sync_.apply(EnqueueOptions{}.unique_key(""), 1);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("the unique key is empty"));
  }
  EXPECT_EQ(pending(), 0);
}

TEST_F(UniqueJobsTest, OversizedKeyIsRefusedNamingTheLimit) {
  try {
    sync_.apply(EnqueueOptions{}.unique_key(std::string(kMaxUniqueKeyBytes + 1, 'x')), 1);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("over the limit of 512 bytes"));
  }
  EXPECT_EQ(pending(), 0);
}

TEST_F(UniqueJobsTest, NegativeUniqueForIsRefused) {
  try {
    sync_.apply(EnqueueOptions{}.unique_key("k").unique_for(-1s), 1);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("unique_for must not be negative"));
  }
  EXPECT_EQ(pending(), 0);
}

TEST_F(UniqueJobsTest, UniqueForWithoutAKeyIsRefused) {
  try {
    sync_.apply(EnqueueOptions{}.unique_for(1min), 1);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("need a unique_key"));
  }
}

TEST_F(UniqueJobsTest, EagerModeRunsOnlyTheAddedTask) {
  App eager(AppOptions{.eager = true});
  int runs = 0;
  auto count = eager.task("count", [&runs] { return ++runs; });

  AsyncResult<int> a = count.apply(EnqueueOptions{}.unique_key("k").unique_until(kFinish));
  AsyncResult<int> b = count.apply(EnqueueOptions{}.unique_key("k"));

  EXPECT_TRUE(a.added());
  EXPECT_TRUE(b.added());  // the first one finished inline: its key was free again
  EXPECT_EQ(runs, 2);
}

// A periodic tick fires once per tick already (claim_tick refuses a key): the tick of a task
// registered unique takes none, and registering the schedule succeeds.
TEST_F(UniqueJobsTest, PeriodicTickOfAUniqueTaskTakesNoKey) {
  app_.periodic("daily-report", every(std::chrono::hours(24)), report_, "d",
                nlohmann::json::object());

  Result<NewTask> tick = internal::build_task("report", R"(["d",{}])", report_.options(),
                                              EnqueueOptions{}.id("tick-1"),
                                              {clock_.now_ms(), 1 << 20, false, "daily-report"});
  Result<NewTask> call =
      internal::build_task("report", R"(["d",{}])", report_.options(), EnqueueOptions{},
                           {clock_.now_ms(), 1 << 20, false, ""});

  ASSERT_TRUE(tick.ok() && call.ok());
  EXPECT_EQ(tick->unique.key, "");
  EXPECT_THAT(call->unique.key, ::testing::StartsWith("report:"));
  EXPECT_EQ(call->unique.key.size(), std::string("report:").size() + 64);
}

}  // namespace
}  // namespace runq
