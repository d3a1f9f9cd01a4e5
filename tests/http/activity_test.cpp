// The workers' activity: what a worker records (src/worker/internal/activity.hpp), how the
// server adds it up across workers (src/http/activity.hpp), and what GET /api/v1/activity,
// GET /api/v1/workers and /metrics show from a real worker on a real store.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "http/activity.hpp"
#include "http/http_fixture.hpp"
#include "runq/worker.hpp"
#include "support/wait.hpp"
#include "worker/internal/activity.hpp"

namespace runq::testing {
namespace {

using internal::Activity;
using ActivityApi = HttpFixture;
constexpr Millis kNow = 1'800'000'000'000;  // a minute boundary: 30,000,000 minutes

TEST(ActivityRecord, BucketBoundsAreTheServers) {
  ASSERT_EQ(Activity::kBounds.size(), internal::kActivityBounds.size());
  for (std::size_t i = 0; i < Activity::kBounds.size(); ++i)
    EXPECT_EQ(Activity::kBounds[i], internal::kActivityBounds[i]);
}

TEST(ActivityRecord, CountsOutcomesAndTimesPerTaskAndMinute) {
  Activity a;
  a.started("t1", "add", 3, kNow);  // waited 3 ms: first bucket (<= 5 ms)
  a.started("t2", "add", 2000, kNow);
  a.started("t3", "mail", 0, kNow);
  a.finished("t1", Activity::Kind::kSucceeded, 40, kNow + 1);
  a.finished("t2", Activity::Kind::kFailed, 400, kNow + 61'000);  // the next minute
  a.finished("nope", Activity::Kind::kSucceeded, 1, kNow);        // never started: ignored

  nlohmann::json j = nlohmann::json::parse(a.json(kNow + 61'000));
  EXPECT_EQ(j["v"], 1);
  ASSERT_EQ(j["running"].size(), 1u);
  EXPECT_EQ(j["running"][0]["id"], "t3");
  EXPECT_EQ(j["running"][0]["started"], kNow);
  EXPECT_EQ(j["tasks"]["add"]["succeeded"], 1);
  EXPECT_EQ(j["tasks"]["add"]["failed"], 1);
  EXPECT_EQ(j["tasks"]["add"]["wait"]["b"][0], 1);       // 3 ms
  EXPECT_EQ(j["tasks"]["add"]["wait"]["b"].size(), 9u);  // 2 s is in the 9th (<= 2.5 s)
  EXPECT_DOUBLE_EQ(j["tasks"]["add"]["run"]["sum"].get<double>(), 0.44);
  ASSERT_EQ(j["minutes"].size(), 2u);
  EXPECT_EQ(j["minutes"][0]["t"], kNow);
  EXPECT_EQ(j["minutes"][0]["ok"], 1);
  EXPECT_EQ(j["minutes"][1]["fail"], 1);

  // An hour later the minutes are gone; the totals stay.
  nlohmann::json later = nlohmann::json::parse(a.json(kNow + 2 * 3'600'000));
  EXPECT_TRUE(later["minutes"].empty());
  EXPECT_EQ(later["tasks"]["add"]["succeeded"], 1);
}

TEST(ActivityRecord, ReleasedTasksAreNotCountedAndRetriesAreNotCompleted) {
  Activity a;
  a.started("t1", "add", 0, kNow);
  a.finished("t1", Activity::Kind::kReleased, 0, kNow);
  a.started("t2", "add", 0, kNow);
  a.finished("t2", Activity::Kind::kRetried, 10, kNow);
  nlohmann::json j = nlohmann::json::parse(a.json(kNow));
  EXPECT_EQ(j["tasks"]["add"]["retried"], 1);
  EXPECT_EQ(j["tasks"]["add"]["succeeded"], 0);
  EXPECT_EQ(j["minutes"][0]["ok"], 0);
  EXPECT_TRUE(j["running"].empty());
}

TEST(ActivitySummary, AddsUpWorkersAndSkipsUnreadableOnes) {
  Activity a, b;
  for (int i = 0; i < 10; ++i) {
    std::string id = "a" + std::to_string(i);
    a.started(id, "add", 0, kNow);
    a.finished(id, Activity::Kind::kSucceeded, 30, kNow);  // (0.025, 0.05]
  }
  b.started("b1", "add", 0, kNow);
  b.finished("b1", Activity::Kind::kSucceeded, 700, kNow);  // (0.5, 1]
  WorkerInfo w1, w2, w3, w4;
  w1.id = "w1", w1.activity = a.json(kNow);
  w2.id = "w2", w2.activity = b.json(kNow);
  w3.id = "w3", w3.activity = "{not json";
  w4.id = "w4";
  internal::ActivitySummary s = internal::summarize_activity({w1, w2, w3, w4});
  EXPECT_EQ(s.workers_reporting, 2);
  EXPECT_EQ(s.tasks["add"].outcomes["succeeded"], 11u);
  EXPECT_EQ(s.minutes[kNow].ok, 11u);
  const internal::Buckets& run = s.tasks["add"].run;
  EXPECT_EQ(run.count(), 11u);
  EXPECT_GT(run.quantile(0.5), 0.025);
  EXPECT_LE(run.quantile(0.5), 0.05);
  EXPECT_GT(run.quantile(0.99), 0.5);
  EXPECT_LE(run.quantile(0.99), 1.0);
  EXPECT_EQ(internal::Buckets{}.quantile(0.5), 0);
}

// A real worker on SQLite runs tasks; its heartbeat carries the activity to any server.
TEST_F(ActivityApi, ServerShowsWhatTheWorkersDid) {
  app_.task("add", [](int a, int b) { return a + b; });
  app_.task(
      "boom", []() -> int { throw std::runtime_error("no"); }, TaskOptions{}.max_retries(0));
  app_.task("wait_here", [](Context& ctx) {
    for (int i = 0; i < 1000 && !ctx.cancelled(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return 0;
  });
  serve();
  for (int i = 0; i < 5; ++i) post("/api/v1/tasks", R"({"name": "add", "args": [1, 2]})");
  post("/api/v1/tasks", R"({"name": "boom"})");
  std::string running = json(post("/api/v1/tasks", R"({"name": "wait_here"})"))["id"];
  Worker worker(app_, WorkerOptions{.concurrency = 2, .grace_ms = 100, .heartbeat_ms = 100});
  ASSERT_TRUE(worker.start().ok());

  nlohmann::json a;
  ASSERT_TRUE(wait_until([&] {
    a = json(get("/api/v1/activity"));
    return a.is_object() && a["tasks"].contains("add") && a["tasks"]["add"]["succeeded"] == 5 &&
           a["tasks"].contains("boom") && a["running"].size() == 1;
  })) << a.dump();
  EXPECT_EQ(a["tasks"]["boom"]["failed"], 1);
  EXPECT_EQ(a["hour"]["completed"], 6);
  EXPECT_EQ(a["hour"]["failed"], 1);
  EXPECT_EQ(a["hour"]["run"]["count"], 6);
  EXPECT_EQ(a["running"][0]["id"], running);
  EXPECT_EQ(a["running"][0]["task"], "wait_here");

  nlohmann::json w = json(get("/api/v1/workers"));
  ASSERT_EQ(w["workers"].size(), 1u);
  ASSERT_EQ(w["workers"][0]["tasks"].size(), 1u);
  EXPECT_EQ(w["workers"][0]["tasks"][0]["id"], running);
  EXPECT_FALSE(w["workers"][0]["tasks"][0]["started"].is_null());

  std::string m = get("/metrics")->body;
  EXPECT_NE(m.find(R"(runq_task_outcomes_total{task="add",outcome="succeeded"} 5)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find(R"(runq_task_run_seconds_count{task="add"} 5)"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(runq_task_queue_wait_seconds_bucket{task="boom",le="+Inf"} 1)"),
            std::string::npos)
      << m;
  worker.request_stop();
  worker.wait();
}

// Task events derived from the heartbeats: started, then how it ended, and the counters.
TEST_F(ActivityApi, EventStreamReportsTasksStartingAndEnding) {
  app_.task("nap", [](int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return ms;
  });
  serve();
  EventReader events(server_->port());
  auto seen = [&](const std::string& s) { return events.seen(s); };
  ASSERT_TRUE(wait_until([&] { return seen("runq events"); }));
  // Long enough to be seen running by the once-a-second follower.
  std::string id = json(post("/api/v1/tasks", R"({"name": "nap", "args": [2500]})"))["id"];
  Worker worker(app_, WorkerOptions{.concurrency = 1, .heartbeat_ms = 100});
  ASSERT_TRUE(worker.start().ok());

  EXPECT_TRUE(wait_until([&] { return seen("event: task.started"); }, std::chrono::seconds(15)));
  EXPECT_TRUE(wait_until([&] { return seen("event: task.succeeded"); }, std::chrono::seconds(15)));
  EXPECT_TRUE(wait_until([&] { return seen("event: task.outcomes"); }, std::chrono::seconds(15)));
  const std::string received = events.received();
  std::size_t at = received.find("event: task.succeeded");
  ASSERT_NE(at, std::string::npos);
  EXPECT_NE(received.find(id, at), std::string::npos) << received;
  EXPECT_NE(received.find(R"("task":"nap")", at), std::string::npos) << received;
  events.stop(
      [&] { post("/api/v1/tasks", R"({"name": "nap", "args": [1], "queue": "elsewhere"})"); });
  worker.request_stop();
  worker.wait();
}

}  // namespace
}  // namespace runq::testing
