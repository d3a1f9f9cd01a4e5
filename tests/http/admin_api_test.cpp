// GET /api/v1/tasks (listing), queues, workers, schedules and dead letters over real HTTP.
#include <gtest/gtest.h>

#include <set>

#include "http/http_fixture.hpp"

namespace runq::testing {
namespace {

using AdminApi = HttpFixture;

// Dead-letters one task of `queue` directly in the store, as a worker would.
std::string dead_task(App& app, const std::string& queue) {
  auto store = app.store();
  Millis now = app.clock().now_ms();
  NewTask t;
  t.id = "dead-" + queue;
  t.queue = queue;
  t.task = "broken";
  t.body = R"({"task": "broken"})";
  EXPECT_TRUE(store->enqueue({&t, 1}, now).ok());
  auto got = store->reserve({{queue}, "w", 1, 30'000, now});
  Settlement s;
  s.outcome = Outcome::kDeadLetter;
  s.id = t.id;
  s.token = got->front().token;
  s.reason = "no such task";
  EXPECT_TRUE(store->settle({&s, 1}, now).ok());
  return t.id;
}

TEST_F(AdminApi, ListFollowsCursorsThroughOneQueue) {
  serve();
  ASSERT_EQ(post("/api/v1/tasks/batch", R"({"tasks": [{"name": "x", "queue": "a"},
      {"name": "x", "queue": "b"}, {"name": "y", "queue": "a"}, {"name": "x", "queue": "a"},
      {"name": "x", "queue": "a"}]})")
                ->status,
            201);

  std::set<std::string> ids;
  std::string path = "/api/v1/tasks?queue=a&limit=2";
  for (int page = 0; page < 10 && !path.empty(); ++page) {
    auto r = get(path);
    ASSERT_EQ(r->status, 200) << r->body;
    nlohmann::json j = json(r);
    EXPECT_LE(j["tasks"].size(), 2u);
    for (const auto& t : j["tasks"]) {
      EXPECT_EQ(t["queue"], "a");
      ids.insert(t["id"].get<std::string>());
    }
    path = j["next_cursor"].is_null()
               ? ""
               : "/api/v1/tasks?queue=a&limit=2&cursor=" + j["next_cursor"].get<std::string>();
  }

  EXPECT_EQ(ids.size(), 4u);
}

TEST_F(AdminApi, ListFiltersByTaskAndState) {
  serve();
  post("/api/v1/tasks", R"({"name": "x"})");
  post("/api/v1/tasks", R"({"name": "y", "countdown": 3600})");

  auto by_task = json(get("/api/v1/tasks?task=y"));
  auto by_state = json(get("/api/v1/tasks?state=pending"));

  ASSERT_EQ(by_task["tasks"].size(), 1u);
  EXPECT_EQ(by_task["tasks"][0]["state"], "scheduled");
  ASSERT_EQ(by_state["tasks"].size(), 1u);
  EXPECT_EQ(by_state["tasks"][0]["task"], "x");
}

TEST_F(AdminApi, ListRejectsBadParameters) {
  serve();

  EXPECT_EQ(get("/api/v1/tasks?state=sleeping")->status, 400);
  EXPECT_EQ(get("/api/v1/tasks?limit=0")->status, 400);
  EXPECT_EQ(get("/api/v1/tasks?cursor=garbage")->status, 400);
  EXPECT_EQ(get("/api/v1/tasks?colour=red")->status, 400);
  EXPECT_EQ(get("/api/v1/tasks?from=yesterday")->status, 400);
}

TEST_F(AdminApi, QueuesCountsEachState) {
  serve();
  post("/api/v1/tasks", R"({"name": "x", "queue": "q"})");
  post("/api/v1/tasks", R"({"name": "x", "queue": "q", "countdown": "1h"})");

  auto j = json(get("/api/v1/queues"));

  ASSERT_EQ(j["queues"].size(), 1u);
  EXPECT_EQ(j["queues"][0]["name"], "q");
  EXPECT_EQ(j["queues"][0]["pending"], 1);
  EXPECT_EQ(j["queues"][0]["scheduled"], 1);
}

TEST_F(AdminApi, PurgeQueueDeletesItsTasks) {
  serve();
  post("/api/v1/tasks", R"({"name": "x", "queue": "q"})");

  auto r = post("/api/v1/queues/q/purge", "");

  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json(r)["purged"], 1);
}

TEST_F(AdminApi, RevokeEndsAQueuedTaskRevoked) {
  serve();
  std::string id = json(post("/api/v1/tasks", R"({"name": "x"})"))["id"];

  auto r = post("/api/v1/tasks/" + id + "/revoke", R"({"terminate": true})");

  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json(r)["state"], "revoked");
  EXPECT_EQ(json(get("/api/v1/tasks/" + id))["state"], "revoked");
}

TEST_F(AdminApi, RevokeOfUnknownIdIs404) {
  serve();

  EXPECT_EQ(post("/api/v1/tasks/nope/revoke", "")->status, 404);
}

TEST_F(AdminApi, QueuePauseShowsInQueuesAndStopsReserve) {
  serve();
  ASSERT_EQ(post("/api/v1/tasks", R"({"name": "x", "queue": "q"})")->status, 201);

  auto r = post("/api/v1/queues/q/pause", "");

  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json(get("/api/v1/queues"))["queues"][0]["paused"], true);
  auto store = app_.store();
  EXPECT_TRUE(store->reserve({{"q"}, "w", 1, 30'000, app_.clock().now_ms()})->empty());
  ASSERT_EQ(post("/api/v1/queues/q/resume", "")->status, 200);
  EXPECT_EQ(json(get("/api/v1/queues"))["queues"][0]["paused"], false);
  EXPECT_EQ(store->reserve({{"q"}, "w", 1, 30'000, app_.clock().now_ms()})->size(), 1u);
}

TEST_F(AdminApi, QueueLimitRefusesEnqueueBeyondIt) {
  serve();

  auto r = post("/api/v1/queues/q/limit", R"({"max_length": 1})");

  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(post("/api/v1/tasks", R"({"name": "x", "queue": "q"})")->status, 201);
  auto full = post("/api/v1/tasks", R"({"name": "x", "queue": "q"})");
  EXPECT_EQ(full->status, 429);
  EXPECT_NE(full->body.find("queue 'q' is full (1 tasks)"), std::string::npos) << full->body;
}

TEST_F(AdminApi, QueueLimitRefusesANegativeOrMissingMaximum) {
  serve();

  EXPECT_EQ(post("/api/v1/queues/q/limit", R"({"max_length": -1})")->status, 400);
  EXPECT_EQ(post("/api/v1/queues/q/limit", R"({})")->status, 400);
  EXPECT_EQ(post("/api/v1/queues/q/limit", R"({"max_length": 2, "x": 1})")->status, 400);
}

TEST_F(AdminApi, DeadListRetryAndPurge) {
  serve();
  std::string id = dead_task(app_, "q");

  auto list = json(get("/api/v1/dead"));
  auto retried = post("/api/v1/dead/retry", R"({"ids": [")" + id + R"("]})");
  dead_task(app_, "r");
  auto purged = client_->Delete("/api/v1/dead");

  ASSERT_EQ(list["dead"].size(), 1u);
  EXPECT_EQ(list["dead"][0]["reason"], "no such task");
  EXPECT_EQ(list["dead"][0]["task"], "broken");
  EXPECT_EQ(json(retried)["retried"], 1);
  EXPECT_EQ(json(purged)["purged"], 1);
}

TEST_F(AdminApi, DeadRetryNeedsIdsOrAll) {
  serve();

  EXPECT_EQ(post("/api/v1/dead/retry", R"({})")->status, 400);
  EXPECT_EQ(post("/api/v1/dead/retry", R"({"ids": ["a"], "all": true})")->status, 400);
}

TEST_F(AdminApi, PausingUnknownScheduleIs404) {
  serve();

  auto r = post("/api/v1/schedules/nope/pause", "");

  EXPECT_EQ(r->status, 404);
}

TEST_F(AdminApi, SchedulesAreListedAndPaused) {
  serve();
  ASSERT_TRUE(app_.store()->put_schedule_info("nightly", R"({"expression": "0 3 * * *"})").ok());

  auto paused = post("/api/v1/schedules/nightly/pause", "");
  auto j = json(get("/api/v1/schedules"));

  EXPECT_EQ(paused->status, 200);
  ASSERT_EQ(j["schedules"].size(), 1u);
  EXPECT_EQ(j["schedules"][0]["paused"], true);
  EXPECT_EQ(j["schedules"][0]["info"]["expression"], "0 3 * * *");
}

TEST_F(AdminApi, WorkersListsHeartbeats) {
  serve();
  WorkerInfo w;
  w.id = "w1";
  w.host = "h";
  w.expires = app_.clock().now_ms() + 60'000;
  ASSERT_TRUE(app_.store()->heartbeat(w).ok());

  auto j = json(get("/api/v1/workers"));

  ASSERT_EQ(j["workers"].size(), 1u);
  EXPECT_EQ(j["workers"][0]["id"], "w1");
}

}  // namespace
}  // namespace runq::testing
