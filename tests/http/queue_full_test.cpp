// No room and too large over real HTTP, on a SQLite file and on a real redis-server: a bounded
// queue that is full answers 429 queue_full (naming the queue and its bound, with
// Retry-After), a batch that does not fit is refused whole, a message over the payload limit
// answers 413, and a store out of space answers 503 store_full.
#include <gtest/gtest.h>
#include <httplib.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "runq/app.hpp"
#include "runq/server.hpp"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"

namespace runq::testing {
namespace {

enum class Backend { kSqlite, kRedis };

class NoRoomApi : public ::testing::TestWithParam<Backend> {
 protected:
  // Opens an app on the parameter's store (starting redis-server when needed) and serves it.
  void SetUp() override {
    std::string url = "sqlite:" + dir_.file("runq.db");
    if (GetParam() == Backend::kRedis) {
      RUNQ_START_REDIS_OR_SKIP(redis_);
      url = redis_.url();
    }
    app_ = std::make_unique<App>(AppOptions{.store_url = url, .max_payload_bytes = 4096});
    ServeOptions options;
    options.port = 0;
    auto s = HttpServer::start(*app_, options);
    ASSERT_TRUE(s.ok()) << s.status().message();
    server_ = std::move(s).value();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(std::chrono::seconds(30));
  }
  void TearDown() override {
    client_.reset();
    if (server_) server_->stop();
  }

  httplib::Result post(const std::string& path, const std::string& body) {
    return client_->Post(path.c_str(), body, "application/json");
  }
  static nlohmann::json error_of(const httplib::Result& r) {
    nlohmann::json j = r ? nlohmann::json::parse(r->body, nullptr, false) : nlohmann::json();
    return j.is_object() && j.contains("error") ? j["error"] : nlohmann::json();
  }
  // Tasks waiting in `queue` (pending + scheduled).
  std::int64_t waiting(const std::string& queue) {
    auto stats = app_->store()->stats(app_->clock().now_ms());
    for (const QueueStats& q : stats->queues) {
      if (q.queue == queue) return q.pending + q.scheduled;
    }
    return 0;
  }

  TempDir dir_;
  RedisServer redis_;
  std::unique_ptr<App> app_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_P(NoRoomApi, FullQueueIs429QueueFullWithQueueLimitAndRetryAfter) {
  ASSERT_TRUE(app_->limit_queue("q", 1).ok());
  ASSERT_EQ(post("/api/v1/tasks", R"({"name": "x", "queue": "q"})")->status, 201);

  auto r = post("/api/v1/tasks", R"({"name": "x", "queue": "q"})");

  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429) << r->body;
  EXPECT_EQ(error_of(r)["code"], "queue_full");
  EXPECT_EQ(error_of(r)["queue"], "q");
  EXPECT_EQ(error_of(r)["limit"], 1);
  EXPECT_NE(error_of(r)["message"].get<std::string>().find("queue 'q' is full (1 tasks)"),
            std::string::npos)
      << r->body;
  EXPECT_EQ(r->get_header_value("Retry-After"), "1");
  EXPECT_EQ(waiting("q"), 1);
}

TEST_P(NoRoomApi, BatchThatDoesNotFitIsRefusedWhole) {
  ASSERT_TRUE(app_->limit_queue("q", 2).ok());

  auto r = post("/api/v1/tasks/batch", R"({"tasks": [{"name": "x", "queue": "free"},
      {"name": "x", "queue": "q"}, {"name": "x", "queue": "q"}, {"name": "x", "queue": "q"}]})");

  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429) << r->body;
  EXPECT_EQ(error_of(r)["code"], "queue_full");
  EXPECT_EQ(error_of(r)["queue"], "q");
  EXPECT_EQ(error_of(r)["limit"], 2);
  EXPECT_EQ(waiting("q"), 0);
  EXPECT_EQ(waiting("free"), 0);
}

TEST_P(NoRoomApi, BatchNamesTheBoundedQueueThatOverflows) {
  ASSERT_TRUE(app_->limit_queue("roomy", 100).ok());
  ASSERT_TRUE(app_->limit_queue("tight", 1).ok());

  auto r = post("/api/v1/tasks/batch", R"({"tasks": [{"name": "x", "queue": "roomy"},
      {"name": "x", "queue": "tight"}, {"name": "x", "queue": "tight"}]})");

  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429) << r->body;
  EXPECT_EQ(error_of(r)["queue"], "tight");
  EXPECT_EQ(error_of(r)["limit"], 1);
}

TEST_P(NoRoomApi, BatchThatFitsExactlyIsAccepted) {
  ASSERT_TRUE(app_->limit_queue("q", 2).ok());

  auto r = post("/api/v1/tasks/batch", R"({"tasks": [{"name": "x", "queue": "q"},
      {"name": "x", "queue": "q"}]})");

  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(waiting("q"), 2);
}

TEST_P(NoRoomApi, MessageOverThePayloadLimitIs413NotQueueFull) {
  ASSERT_TRUE(app_->limit_queue("q", 1).ok());
  const std::string args = std::string(R"([")") + std::string(5000, 'x') + R"("])";

  auto r = post("/api/v1/tasks", R"({"name": "x", "queue": "q", "args": )" + args + "}");

  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413) << r->body;
  EXPECT_EQ(error_of(r)["code"], "too_large");
  EXPECT_NE(error_of(r)["message"].get<std::string>().find("over the limit of 4096 bytes"),
            std::string::npos)
      << r->body;
  EXPECT_EQ(waiting("q"), 0);
}

// A store out of space (Redis at maxmemory) is not a full queue: 503 store_full, and the same
// request succeeds once there is room again.
TEST_P(NoRoomApi, StoreOutOfSpaceIs503StoreFull) {
  if (GetParam() != Backend::kRedis) GTEST_SKIP() << "maxmemory is a Redis setting";
  ASSERT_EQ(redis_.command({"CONFIG", "SET", "maxmemory", "1"}), "OK");

  auto r = post("/api/v1/tasks", R"({"name": "x", "queue": "q"})");
  ASSERT_EQ(redis_.command({"CONFIG", "SET", "maxmemory", "0"}), "OK");
  auto again = post("/api/v1/tasks", R"({"name": "x", "queue": "q"})");

  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503) << r->body;
  EXPECT_EQ(error_of(r)["code"], "store_full");
  EXPECT_EQ(r->get_header_value("Retry-After"), "30");
  EXPECT_EQ(again->status, 201) << again->body;
  EXPECT_EQ(waiting("q"), 1);
}

INSTANTIATE_TEST_SUITE_P(Stores, NoRoomApi, ::testing::Values(Backend::kSqlite, Backend::kRedis),
                         [](const auto& info) {
                           return info.param == Backend::kSqlite ? "Sqlite" : "Redis";
                         });

}  // namespace
}  // namespace runq::testing
