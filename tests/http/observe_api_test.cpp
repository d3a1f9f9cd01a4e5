// /metrics (checked by Prometheus' own parser), the event stream, the OpenAPI file against
// the routes served, the Python example client, and a store that goes down and comes back.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "http/events.hpp"
#include "http/http_fixture.hpp"
#include "http/routes.hpp"
#include "runq/worker.hpp"
#include "support/redis_server.hpp"
#include "support/wait.hpp"

namespace runq::testing {
namespace {

using ObserveApi = HttpFixture;

// Runs `command` with `input` on its stdin (when not empty); returns its stdout and exit code.
std::pair<std::string, int> run(const std::string& command, const std::string& input = "") {
  TempDir dir;
  std::string in = dir.file("in");
  std::ofstream(in) << input;
  FILE* p = popen((command + " < " + in).c_str(), "r");
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int rc = pclose(p);
  return {out, WEXITSTATUS(rc)};
}

const std::string kPython = RUNQ_PYTHON3;

TEST_F(ObserveApi, MetricsParseWithThePrometheusParser) {
  serve();
  post("/api/v1/tasks", R"({"name": "x", "queue": "q"})");
  post("/api/v1/tasks", R"({"name": "x", "queue": "q"})");
  auto m = get("/metrics");
  ASSERT_EQ(m->status, 200);

  auto [out, rc] = run(kPython +
                           " -c '"
                           "import sys\n"
                           "from prometheus_client.parser import text_string_to_metric_families\n"
                           "for f in text_string_to_metric_families(sys.stdin.read()):\n"
                           "  for s in f.samples:\n"
                           "    print(s.name, s.labels.get(\"queue\", \"\"), int(s.value))\n'",
                       m->body);

  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("runq_queue_pending q 2"), std::string::npos) << out;
  EXPECT_NE(out.find("runq_workers_alive  0"), std::string::npos) << out;
}

TEST_F(ObserveApi, OpenApiDocumentsExactlyTheRoutesServed) {
  internal::ApiContext ctx{app_, ServeOptions{}};
  std::set<std::string> served;
  for (const internal::Route& r : internal::all_routes(ctx))
    served.insert(r.method + " " + r.pattern);

  auto [out, rc] = run(kPython +
                       " -c '"
                       "import sys, yaml\n"
                       "d = yaml.safe_load(open(sys.argv[1]))\n"
                       "assert d[\"openapi\"].startswith(\"3.\")\n"
                       "for p, ops in d[\"paths\"].items():\n"
                       "  for m in ops:\n"
                       "    print(m.upper(), p)\n' " RUNQ_SOURCE_DIR "/docs/openapi.yaml");
  std::set<std::string> documented;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) documented.insert(line);

  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(documented, served);
}

TEST_F(ObserveApi, EventStreamReportsEnqueuedTasksAndWorkers) {
  serve();
  EventReader events(server_->port());
  ASSERT_TRUE(wait_until([&] { return events.seen("runq events"); }));
  WorkerInfo w;
  w.id = "w-events";
  w.expires = app_.clock().now_ms() + 60'000;
  ASSERT_TRUE(app_.store()->heartbeat(w).ok());

  std::string id = json(post("/api/v1/tasks", R"({"name": "x", "queue": "q"})"))["id"];

  EXPECT_TRUE(wait_until([&] { return events.seen(id); }));
  EXPECT_TRUE(events.seen("event: task.enqueued"));
  EXPECT_TRUE(wait_until([&] { return events.seen("event: worker.online"); }));
  events.stop([&] { post("/api/v1/tasks", R"({"name": "x"})"); });
}

TEST_F(ObserveApi, SlowEventClientIsDropped) {
  internal::ApiContext ctx{app_, ServeOptions{}};
  internal::EventHub hub(ctx);
  std::uint64_t slow = hub.subscribe();

  for (std::size_t i = 0; i <= internal::EventHub::kClientBuffer; ++i) hub.publish("x", "{}");

  EXPECT_FALSE(hub.next(slow, 0).has_value());
}

TEST_F(ObserveApi, PythonExampleEnqueuesAndWaitsForTheResult) {
  app_.task("add", [](int a, int b) { return a + b; });
  serve();
  Worker worker(app_, WorkerOptions{.concurrency = 1});
  ASSERT_TRUE(worker.start().ok());

  auto [out, rc] = run(kPython + " " RUNQ_SOURCE_DIR "/examples/http_client.py --url " +
                       server_->url() + " add 2 3");

  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out, "5\n");
}

TEST_F(ObserveApi, PythonExampleReportsAnApiError) {
  app_.task("add", [](int a, int b) { return a + b; });
  serve();

  auto [out, rc] = run(kPython + " " RUNQ_SOURCE_DIR "/examples/http_client.py --url " +
                       server_->url() + " nope 2>&1");

  EXPECT_EQ(rc, 2);
  EXPECT_NE(out.find("400 invalid_argument: unknown task 'nope'"), std::string::npos) << out;
}

TEST(StoreOutage, ServerAnswers503WhileTheStoreIsDownAndRecovers) {
  RedisServer redis;
  RUNQ_START_REDIS_OR_SKIP(redis);
  App app(AppOptions{.store_url = redis.url()});
  ServeOptions o;
  o.port = 0;
  auto server = HttpServer::start(app, o);
  ASSERT_TRUE(server.ok());
  httplib::Client c("127.0.0.1", (*server)->port());
  c.set_read_timeout(std::chrono::seconds(30));
  auto status = [&](const char* path) {
    auto r = std::string(path) == "/api/v1/tasks"
                 ? c.Post(path, R"({"name": "x"})", "application/json")
                 : c.Get(path);
    return r ? r->status : -1;
  };
  ASSERT_EQ(status("/readyz"), 200);

  redis.stop();
  bool down = wait_until([&] { return status("/readyz") == 503; }, std::chrono::seconds(60));
  int enqueue_while_down = status("/api/v1/tasks");
  ASSERT_TRUE(redis.restart());
  bool back = wait_until([&] { return status("/readyz") == 200; }, std::chrono::seconds(60));

  EXPECT_TRUE(down);
  EXPECT_EQ(enqueue_while_down, 503);
  EXPECT_TRUE(back);
  EXPECT_EQ(status("/api/v1/tasks"), 201);
}

}  // namespace
}  // namespace runq::testing
