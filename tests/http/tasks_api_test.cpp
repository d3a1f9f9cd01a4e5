// POST /api/v1/tasks, /tasks/batch and GET /api/v1/tasks/{id} over real HTTP on a SQLite store
// (and on Redis where a test says so).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "http/http_fixture.hpp"
#include "runq/worker.hpp"
#include "runq/workflow.hpp"
#include "support/redis_server.hpp"
#include "support/wait.hpp"

namespace runq::testing {
namespace {

using TasksApi = HttpFixture;

std::int64_t queued(App& app) {
  auto stats = app.store()->stats(app.clock().now_ms());
  std::int64_t n = 0;
  for (const QueueStats& q : stats->queues) n += q.pending + q.scheduled;
  return n;
}

TEST_F(TasksApi, EnqueueReturnsAnIdThatGetReads) {
  serve();

  auto r = post("/api/v1/tasks", R"({"name": "add", "args": [2, 3], "queue": "math"})");

  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  std::string id = json(r)["id"];
  auto g = get("/api/v1/tasks/" + id);
  ASSERT_EQ(g->status, 200) << g->body;
  EXPECT_EQ(json(g)["state"], "pending");
  EXPECT_EQ(json(g)["task"], "add");
  EXPECT_EQ(json(g)["queue"], "math");
}

TEST_F(TasksApi, CountdownMakesTheTaskScheduled) {
  serve();

  auto r = post("/api/v1/tasks", R"({"name": "later", "countdown": "1h"})");

  ASSERT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(json(get("/api/v1/tasks/" + json(r)["id"].get<std::string>()))["state"], "scheduled");
}

TEST_F(TasksApi, GivenIdMakesEnqueueIdempotent) {
  serve();

  auto a = post("/api/v1/tasks", R"({"name": "mail", "id": "invoice-42"})");
  auto b = post("/api/v1/tasks", R"({"name": "mail", "id": "invoice-42"})");

  EXPECT_EQ(json(a)["id"], "invoice-42");
  EXPECT_EQ(json(b)["id"], "invoice-42");
  EXPECT_EQ(queued(app_), 1);
}

TEST_F(TasksApi, BatchEnqueuesEveryTask) {
  serve();

  auto r = post("/api/v1/tasks/batch",
                R"({"tasks": [{"name": "a"}, {"name": "b", "args": [1]}, {"name": "c"}]})");

  ASSERT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(json(r)["ids"].size(), 3u);
  EXPECT_EQ(queued(app_), 3);
}

TEST_F(TasksApi, BatchWithOneBadTaskEnqueuesNothing) {
  serve();

  auto r =
      post("/api/v1/tasks/batch", R"({"tasks": [{"name": "a"}, {"name": "b", "priority": 12}]})");

  EXPECT_EQ(r->status, 400);
  EXPECT_NE(json(r)["error"]["message"].get<std::string>().find("tasks[1]"), std::string::npos);
  EXPECT_EQ(queued(app_), 0);
}

TEST_F(TasksApi, MalformedJsonIs400WithTheErrorShape) {
  serve();

  auto r = post("/api/v1/tasks", R"({"name": "a", )");

  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(error_code(r), "invalid_argument");
  EXPECT_NE(json(r)["error"]["message"].get<std::string>().find("not valid JSON"),
            std::string::npos);
}

TEST_F(TasksApi, WrongTypesAre400) {
  serve();

  EXPECT_EQ(post("/api/v1/tasks", R"({"name": 5})")->status, 400);
  EXPECT_EQ(post("/api/v1/tasks", R"({"name": "a", "args": {"x": 1}})")->status, 400);
  EXPECT_EQ(post("/api/v1/tasks", R"({"name": "a", "countdown": "soon"})")->status, 400);
  EXPECT_EQ(post("/api/v1/tasks", R"({"name": "a", "eta": "tomorrow"})")->status, 400);
  EXPECT_EQ(post("/api/v1/tasks", R"([1, 2])")->status, 400);
  EXPECT_EQ(queued(app_), 0);
}

// Found by the http fuzzer: an eta past what std::chrono::system_clock holds (2262) overflowed.
// Such a time is refused, and a batch holding one is refused whole.
TEST_F(TasksApi, EtaOutsideTheSupportedRangeIs400AndAddsNothing) {
  serve();

  auto one = post("/api/v1/tasks", R"({"name": "a", "eta": "4052-01-01T00:00:00Z"})");
  auto batch = post("/api/v1/tasks/batch",
                    R"({"tasks": [{"name": "a"}, {"name": "b", "eta": 99999999999999999}]})");

  EXPECT_EQ(one->status, 400);
  EXPECT_NE(one->body.find("from 1970 to 2199"), std::string::npos) << one->body;
  EXPECT_NE(one->body.find("'eta'"), std::string::npos) << one->body;
  EXPECT_EQ(batch->status, 400);
  EXPECT_EQ(queued(app_), 0);
}

TEST_F(TasksApi, UnknownFieldIs400AndNamesIt) {
  serve();

  auto r = post("/api/v1/tasks", R"({"name": "a", "kwargs": {}})");

  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("kwargs"), std::string::npos);
}

TEST_F(TasksApi, InvalidUtf8InArgsIs400) {
  serve();

  auto r = post("/api/v1/tasks", "{\"name\": \"a\", \"args\": [\"\xff\xfe\"]}");

  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(error_code(r), "invalid_argument");
  EXPECT_EQ(queued(app_), 0);
}

TEST_F(TasksApi, TwoMegabyteBodyIs413) {
  serve();

  std::string big = R"({"name": "a", "args": [")" + std::string(2 << 20, 'x') + R"("]})";
  auto r = post("/api/v1/tasks", big);

  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(error_code(r), "too_large");
  EXPECT_EQ(queued(app_), 0);
}

TEST_F(TasksApi, UnknownIdIs404) {
  serve();

  auto r = get("/api/v1/tasks/no-such-task");

  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(error_code(r), "not_found");
}

TEST_F(TasksApi, UnknownRouteIs404WithTheErrorShape) {
  serve();

  auto r = get("/api/v2/nothing");

  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(error_code(r), "not_found");
}

TEST_F(TasksApi, AppWithRegisteredTasksRefusesUnknownNames) {
  app_.task("add", [](int a, int b) { return a + b; });
  serve();

  auto r = post("/api/v1/tasks", R"({"name": "nope"})");

  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("unknown task 'nope'"), std::string::npos);
}

TEST_F(TasksApi, WaitLongPollsUntilTheResultIsStored) {
  app_.task("add", [](int a, int b) { return a + b; });
  serve();
  std::string id = json(post("/api/v1/tasks", R"({"name": "add", "args": [2, 3]})"))["id"];
  Worker worker(app_, WorkerOptions{.concurrency = 1});
  ASSERT_TRUE(worker.start().ok());

  auto r = get("/api/v1/tasks/" + id + "?wait=20s");

  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json(r)["state"], "success");
  EXPECT_EQ(json(r)["result"], 5);
}

TEST_F(TasksApi, WaitReturnsTheCurrentStateWhenTimeRunsOut) {
  serve();
  std::string id = json(post("/api/v1/tasks", R"({"name": "add"})"))["id"];

  auto r = get("/api/v1/tasks/" + id + "?wait=100ms");

  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(json(r)["state"], "pending");
}

TEST_F(TasksApi, TaskReadListsAWorkflowStepsMembersWithNamesAndStates) {
  auto square = app_.task("square", [](int a) { return a * a; });
  auto total = app_.task("total", [](std::vector<int> v) { return static_cast<int>(v.size()); });
  std::vector<Signature<int>> sigs;
  for (int i = 0; i < 3; ++i) sigs.push_back(square.s(i));
  sigs[1].id("member-<b>1</b>");
  AsyncResult<int> body = chord(group(sigs), total.s()).delay();
  serve();

  auto r = get("/api/v1/tasks/" + body.id());

  ASSERT_EQ(r->status, 200) << r->body;
  nlohmann::json wf = json(r)["workflow"];
  EXPECT_EQ(wf["group"], true);
  EXPECT_EQ(wf["depends_on_count"], 3);
  EXPECT_EQ(wf["more"], 0);
  ASSERT_EQ(wf["members"].size(), 3u);
  EXPECT_EQ(wf["members"][1]["id"], "member-<b>1</b>");
  for (const nlohmann::json& m : wf["members"]) {
    EXPECT_EQ(m["task"], "square");
    EXPECT_EQ(m["state"], "pending");
  }
  EXPECT_EQ(wf["states"]["pending"], 3);
  // A task outside any workflow has no workflow field.
  auto plain = get("/api/v1/tasks/" + wf["members"][0]["id"].get<std::string>());
  EXPECT_FALSE(json(plain).contains("workflow")) << plain->body;
}

TEST_F(TasksApi, ArgumentTextSearchKeepsOnlyTasksWhoseArgumentsContainIt) {
  serve();
  for (int i = 0; i < 30; ++i)
    post("/api/v1/tasks", R"({"name": "mail", "args": ["plain-)" + std::to_string(i) + R"("]})");
  std::string id =
      json(post("/api/v1/tasks", R"({"name": "mail", "args": [{"to": "needle-7f3a"}]})"))["id"];
  for (int i = 0; i < 30; ++i) post("/api/v1/tasks", R"({"name": "mail", "args": ["after"]})");

  auto r = get("/api/v1/tasks?q=needle-7f3a&limit=100");

  ASSERT_EQ(r->status, 200) << r->body;
  ASSERT_EQ(json(r)["tasks"].size(), 1u) << r->body;
  EXPECT_EQ(json(r)["tasks"][0]["id"], id);
  EXPECT_EQ(json(r)["tasks"][0]["args_match"], R"([{"to":"needle-7f3a"}])");
  EXPECT_FALSE(json(get("/api/v1/tasks?limit=1"))["tasks"][0].contains("args_match"));
  EXPECT_EQ(json(get("/api/v1/tasks?q=absent-text&limit=100"))["tasks"].size(), 0u);
  EXPECT_EQ(json(get("/api/v1/tasks?q=plain-&limit=100"))["tasks"].size(), 30u);
  auto too_long = get("/api/v1/tasks?q=" + std::string(201, 'x'));
  EXPECT_EQ(too_long->status, 400);
  EXPECT_NE(too_long->body.find("'q'"), std::string::npos) << too_long->body;
}

// ---- unique jobs ---------------------------------------------------------------------------

TEST_F(TasksApi, UniqueKeyHeldAnswers200WithTheExistingIdAndAddedFalse) {
  serve();

  auto a = post("/api/v1/tasks", R"({"name": "sync", "args": [42], "unique_key": "sync-42"})");
  auto b = post("/api/v1/tasks", R"({"name": "sync", "args": [42], "unique_key": "sync-42"})");

  ASSERT_EQ(a->status, 201) << a->body;
  EXPECT_EQ(json(a)["added"], true);
  ASSERT_EQ(b->status, 200) << b->body;
  EXPECT_EQ(json(b)["added"], false);
  EXPECT_EQ(json(b)["id"], json(a)["id"]);
  EXPECT_EQ(queued(app_), 1);
}

TEST_F(TasksApi, BatchSaysWhichTasksWereAdded) {
  serve();

  auto r = post("/api/v1/tasks/batch",
                R"({"tasks": [{"name": "a", "unique_key": "k"}, {"name": "a", "unique_key": "k"},
                              {"name": "a", "unique_key": "k2", "unique_for": "10m",
                               "unique_until": "start"}]})");

  ASSERT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(json(r)["added"], nlohmann::json::parse("[true, false, true]"));
  EXPECT_EQ(json(r)["ids"][1], json(r)["ids"][0]);
  EXPECT_EQ(queued(app_), 2);
}

TEST_F(TasksApi, BadUniqueFieldsAre400) {
  serve();

  EXPECT_EQ(post("/api/v1/tasks", R"({"name": "a", "unique_key": ""})")->status, 400);
  EXPECT_EQ(post("/api/v1/tasks", R"({"name": "a", "unique_key": 5})")->status, 400);
  EXPECT_EQ(
      post("/api/v1/tasks", R"({"name": "a", "unique_key": "k", "unique_until": "end"})")->status,
      400);
  EXPECT_EQ(post("/api/v1/tasks", R"({"name": "a", "unique_for": "1m"})")->status, 400);
  EXPECT_EQ(queued(app_), 0);
}

// ---- flow control: the keys of a registered task's limits ------------------------------------

TEST_F(TasksApi, ConcurrencyKeyOfARegisteredTaskIsEnforcedByTheStore) {
  app_.task(
      "sync", [](int) { return 0; }, TaskOptions{}.max_concurrency(1));
  serve();
  std::vector<std::string> ids;
  for (const char* user : {"u1", "u1", "u2"}) {
    auto r = post("/api/v1/tasks", std::string(R"({"name": "sync", "args": [1], )") +
                                       R"("concurrency_key": ")" + user + R"("})");
    ASSERT_EQ(r->status, 201) << r->body;
    ids.push_back(json(r)["id"]);
  }
  ReserveRequest req;
  req.queues = {std::string(kDefaultQueue)};
  req.worker_id = "w";
  req.max = 10;
  req.lease_ms = 30'000;
  req.now = app_.clock().now_ms();

  Result<std::vector<Delivery>> got = app_.store()->reserve(req);

  ASSERT_TRUE(got.ok()) << got.status().to_string();
  ASSERT_EQ(got->size(), 2u);  // one of u1 (the other waits for its slot) and u2
  EXPECT_EQ((*got)[0].id, ids[0]);
  EXPECT_EQ((*got)[1].id, ids[2]);
  EXPECT_EQ(json(get("/api/v1/tasks/" + ids[1]))["state"], "scheduled");
}

TEST_F(TasksApi, BadLimitKeysAre400) {
  app_.task(
      "sync", [](int) { return 0; }, TaskOptions{}.max_concurrency(1));
  app_.task("plain", [](int) { return 0; });
  serve();

  EXPECT_EQ(post("/api/v1/tasks", R"({"name": "sync", "concurrency_key": 5})")->status, 400);
  EXPECT_EQ(post("/api/v1/tasks", R"({"name": "sync", "rate_limit_key": ["a"]})")->status, 400);
  auto no_limit = post("/api/v1/tasks", R"({"name": "plain", "concurrency_key": "u1"})");
  EXPECT_EQ(no_limit->status, 400);
  EXPECT_NE(no_limit->body.find("no max_concurrency"), std::string::npos) << no_limit->body;
  auto too_long = post("/api/v1/tasks", R"({"name": "sync", "concurrency_key": ")" +
                                            std::string(201, 'k') + R"("})");
  EXPECT_EQ(too_long->status, 400);
  EXPECT_NE(too_long->body.find("over the limit of 200"), std::string::npos) << too_long->body;
  EXPECT_EQ(queued(app_), 0);
}

// A match deep inside long arguments: the listing shows the text around it, at most 200
// bytes, cut at character boundaries (two-byte "é" on both sides), "…" where text is left out.
TEST_F(TasksApi, ArgumentTextSearchShowsTheTextAroundTheMatch) {
  serve();
  const std::string e = "\xc3\xa9";  // é
  const auto times = [](const std::string& s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
  };
  post("/api/v1/tasks",
       R"({"name": "mail", "args": [")" + times(e, 100) + "needle-51" + times(e, 100) + R"("]})");

  auto r = get("/api/v1/tasks?q=needle-51");

  ASSERT_EQ(r->status, 200) << r->body;
  ASSERT_EQ(json(r)["tasks"].size(), 1u) << r->body;
  // From 60 bytes (30 "é") before the match, 199 bytes: 60 + 9 + 130 (65 "é"), as the 200th
  // would be the first half of a 66th.
  EXPECT_EQ(json(r)["tasks"][0]["args_match"],
            "\xe2\x80\xa6" + times(e, 30) + "needle-51" + times(e, 65) + "\xe2\x80\xa6");
}

}  // namespace
}  // namespace runq::testing

namespace runq::testing {
namespace {

// A finished task keeps its queue in its result record, so GET /api/v1/tasks/{id} still names
// it after the task left the queue: a succeeded one and a dead-lettered one.
void expect_finished_tasks_report_their_queue(const std::string& store_url) {
  App app(AppOptions{.store_url = store_url});
  app.task("add", [](int a, int b) { return a + b; });
  ServeOptions options;
  options.port = 0;
  auto server = HttpServer::start(app, options);
  ASSERT_TRUE(server.ok()) << server.status().message();
  httplib::Client c("127.0.0.1", (*server)->port());
  c.set_read_timeout(std::chrono::seconds(30));
  auto task = [&](const std::string& id) {
    auto r = c.Get(("/api/v1/tasks/" + id).c_str());
    return r ? nlohmann::json::parse(r->body, nullptr, false) : nlohmann::json();
  };
  auto posted = c.Post("/api/v1/tasks", R"({"name": "add", "args": [2, 3], "queue": "reports"})",
                       "application/json");
  ASSERT_TRUE(posted);
  ASSERT_EQ(posted->status, 201) << posted->body;
  const std::string ok_id = nlohmann::json::parse(posted->body)["id"];
  // No worker knows "ghost": it is dead-lettered.
  const std::string dead_id =
      app.send("ghost", nlohmann::json::array(), EnqueueOptions().queue("mail")).id();
  EXPECT_EQ(task(ok_id)["queue"], "reports");
  EXPECT_EQ(task(dead_id)["queue"], "mail");

  Worker worker(app, WorkerOptions{.concurrency = 1, .queues = {"reports", "mail"}});
  ASSERT_TRUE(worker.start().ok());
  ASSERT_TRUE(wait_until(
      [&] { return task(ok_id)["state"] == "success" && task(dead_id)["state"] == "dead"; },
      std::chrono::seconds(20)))
      << task(ok_id) << task(dead_id);

  nlohmann::json ok = task(ok_id);
  nlohmann::json dead = task(dead_id);
  EXPECT_EQ(ok["queue"], "reports") << ok;
  EXPECT_EQ(ok["result"], 5);
  EXPECT_EQ(dead["queue"], "mail") << dead;
  (*server)->stop();
}

TEST(FinishedTaskQueue, SqliteTaskReadNamesTheQueueOfASucceededAndADeadTask) {
  TempDir dir;
  expect_finished_tasks_report_their_queue("sqlite:" + dir.file("runq.db"));
}

TEST(FinishedTaskQueue, RedisTaskReadNamesTheQueueOfASucceededAndADeadTask) {
  RedisServer redis;
  RUNQ_START_REDIS_OR_SKIP(redis);
  expect_finished_tasks_report_their_queue(redis.url());
}

}  // namespace
}  // namespace runq::testing
