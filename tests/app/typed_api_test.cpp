// The typed user API in eager mode: tasks run inline, results read back through AsyncResult.
#include <gtest/gtest.h>

#include <stdexcept>

#include "runq/runq.hpp"

namespace runq {
namespace {

using namespace std::chrono_literals;

struct Point {
  int x = 0;
  int y = 0;
};
void to_json(nlohmann::json& j, const Point& p) { j = {{"x", p.x}, {"y", p.y}}; }
void from_json(const nlohmann::json& j, Point& p) {
  p.x = j.at("x").get<int>();
  p.y = j.at("y").get<int>();
}

TEST(TypedApi, EagerDelayReturnsTheValue) {
  App app(AppOptions{.eager = true});
  auto add = app.task("add", [](int a, int b) { return a + b; });

  AsyncResult<int> r = add.delay(2, 3);

  EXPECT_EQ(r.get(1s), 5);
  EXPECT_EQ(r.state(), TaskState::kSuccess);
  EXPECT_TRUE(r.ready());
}

TEST(TypedApi, UserTypesTravelThroughJson) {
  App app(AppOptions{.eager = true});
  auto mirror = app.task("mirror", [](Point p) { return Point{p.y, p.x}; });

  Point out = mirror.delay(Point{1, 2}).get(1s);

  EXPECT_EQ(out.x, 2);
  EXPECT_EQ(out.y, 1);
}

TEST(TypedApi, ContextGivesIdAndAttempt) {
  App app(AppOptions{.eager = true});
  auto whoami = app.task("whoami", [](Context& ctx, std::string prefix) {
    return prefix + ctx.id() + ":" + std::to_string(ctx.attempt());
  });

  auto r = whoami.delay("id=");

  EXPECT_EQ(r.get(1s), "id=" + r.id() + ":1");
}

TEST(TypedApi, ThrowingTaskFailsWithTheMessage) {
  App app(AppOptions{.eager = true});
  auto boom = app.task("boom", [](int) -> int { throw std::runtime_error("disk full"); });

  auto r = boom.delay(1);

  try {
    r.get(1s);
    FAIL() << "expected TaskFailed";
  } catch (const TaskFailed& e) {
    EXPECT_EQ(e.state(), TaskState::kFailure);
    EXPECT_STREQ(e.what(), "disk full");
    EXPECT_EQ(e.error_type(), "std::runtime_error");
  }
}

TEST(TypedApi, RetriesThenSucceeds) {
  App app(AppOptions{.eager = true});
  auto flaky = app.task(
      "flaky",
      [](Context& ctx) {
        if (ctx.attempt() < 3) throw std::runtime_error("try again");
        return ctx.attempt();
      },
      TaskOptions{}.max_retries(5));

  EXPECT_EQ(flaky.delay().get(1s), 3);
}

TEST(TypedApi, RetriesRunOutIntoFailureWithHistory) {
  App app(AppOptions{.eager = true});
  auto bad = app.task(
      "bad", [] { throw std::logic_error("nope"); }, TaskOptions{}.max_retries(2));

  auto r = bad.delay();

  EXPECT_THROW(r.get(1s), TaskFailed);
  TaskStatus st = r.status();
  EXPECT_EQ(st.state, TaskState::kFailure);
  ASSERT_EQ(st.errors.size(), 3u);
  EXPECT_EQ(st.errors[2].attempt, 3);
  EXPECT_EQ(st.errors[0].message, "nope");
}

struct Transient : std::runtime_error {
  using std::runtime_error::runtime_error;
};

TEST(TypedApi, RetryOnRetriesOnlyMatchingExceptions) {
  App app(AppOptions{.eager = true});
  int calls = 0;
  auto t = app.task(
      "picky",
      [&calls] {
        ++calls;
        throw std::invalid_argument("permanent");
      },
      TaskOptions{}.max_retries(3).retry_on<Transient>());

  EXPECT_THROW(t.delay().get(1s), TaskFailed);
  EXPECT_EQ(calls, 1);
}

TEST(TypedApi, ContextRetryAsksForAnotherAttempt) {
  App app(AppOptions{.eager = true});
  auto t = app.task(
      "poll",
      [](Context& ctx) {
        if (ctx.attempt() == 1) ctx.retry(10ms);
        return ctx.attempt();
      },
      TaskOptions{}.max_retries(1));

  EXPECT_EQ(t.delay().get(1s), 2);
}

TEST(TypedApi, VoidTasksWork) {
  App app(AppOptions{.eager = true});
  int seen = 0;
  auto t = app.task("void", [&seen](int v) { seen = v; });

  t.delay(7).get(1s);

  EXPECT_EQ(seen, 7);
}

TEST(TypedApi, SendByNameWithWrongArgumentTypeFailsNamingTheArgument) {
  App app(AppOptions{.eager = true});
  app.task("add", [](int a, int b) { return a + b; });

  auto r = app.send("add", nlohmann::json::array({1, "two"}));

  try {
    r.get(1s);
    FAIL() << "expected TaskFailed";
  } catch (const TaskFailed& e) {
    EXPECT_NE(std::string(e.what()).find("argument 2 of task 'add'"), std::string::npos)
        << e.what();
  }
}

TEST(TypedApi, SendWithWrongArityFails) {
  App app(AppOptions{.eager = true});
  app.task("add", [](int a, int b) { return a + b; });

  auto r = app.send("add", nlohmann::json::array({1}));

  EXPECT_THROW(r.get(1s), TaskFailed);
  EXPECT_NE(r.status().error.find("takes 2 argument(s), got 1"), std::string::npos);
}

TEST(TypedApi, UnknownTaskIsDeadLettered) {
  App app(AppOptions{.eager = true});

  auto r = app.send("nosuch", nlohmann::json::array());

  EXPECT_THROW(r.get(1s), TaskFailed);
  EXPECT_EQ(r.state(), TaskState::kDead);
  EXPECT_EQ(r.status().error, "unknown task 'nosuch'");
}

TEST(TypedApi, OversizedPayloadIsRejectedAtEnqueue) {
  App app(AppOptions{.eager = true, .max_payload_bytes = 1024});
  auto echo = app.task("echo", [](std::string s) { return s; });

  try {
    echo.delay(std::string(2000, 'x'));
    FAIL() << "expected runq::Error";
  } catch (const Error& e) {
    EXPECT_TRUE(is_too_large(e.status()));
    EXPECT_EQ(dynamic_cast<const QueueFull*>(&e), nullptr);
    EXPECT_NE(std::string(e.what()).find("over the limit of 1024 bytes"), std::string::npos);
  }
}

TEST(TypedApi, DuplicateTaskNameIsRejected) {
  App app(AppOptions{.eager = true});
  app.task("once", [] {});

  EXPECT_THROW(app.task("once", [] {}), Error);
}

TEST(TypedApi, BatchEnqueueReturnsOneResultPerCall) {
  App app(AppOptions{.eager = true});
  auto sq = app.task("sq", [](int v) { return v * v; });
  std::vector<std::tuple<int>> calls = {{1}, {2}, {3}};

  auto results = sq.delay_many(calls);

  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[2].get(1s), 9);
}

TEST(TypedApi, InvalidPriorityIsRejected) {
  App app(AppOptions{.eager = true});
  auto t = app.task("t", [] {});

  EXPECT_THROW(t.apply(EnqueueOptions{}.priority(12)), Error);
}

TEST(TypedApi, PeriodicRegistrationKeepsScheduleArgsAndOptions) {
  App app(AppOptions{.eager = true});
  auto add = app.task("add", [](int a, int b) { return a + b; });

  app.periodic("sum", every(std::chrono::minutes(5)), add, 1, 2);
  app.periodic("catch-up", cron("0 3 * * *"),
               PeriodicOptions{.misfire = Misfire::kRunAll, .run_all_limit = 7}, add, 3, 4);

  const auto& defs = app.periodic_definitions();
  ASSERT_EQ(defs.size(), 2u);
  EXPECT_EQ(defs[0].args_json, "[1,2]");
  EXPECT_EQ(defs[0].options.misfire, Misfire::kRunOnce);
  EXPECT_EQ(defs[1].task, "add");
  EXPECT_EQ(defs[1].options.misfire, Misfire::kRunAll);
  EXPECT_EQ(defs[1].options.run_all_limit, 7);
  EXPECT_EQ(defs[1].schedule.expression(), "0 3 * * *");
  EXPECT_THROW(app.periodic("sum", every(std::chrono::minutes(1)), add, 0, 0), Error);
}

TEST(Backoff, ExponentialIsCappedAndJittered) {
  Backoff b = Backoff::exponential(100ms, 2.0, 1s);

  EXPECT_EQ(b.delay_ms(1, 0.999999), 99);
  EXPECT_EQ(b.delay_ms(3, 0.999999), 399);
  EXPECT_EQ(b.delay_ms(10, 0.999999), 999);
  EXPECT_EQ(b.delay_ms(10, 0.0), 0);
  EXPECT_EQ(Backoff::fixed(250ms).delay_ms(7, 0.3), 250);
}

}  // namespace
}  // namespace runq
