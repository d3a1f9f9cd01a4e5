// Workflows end to end (runq/workflow.hpp): chain, group, chord, depends_on and callbacks,
// run by a real Worker in this process on every store that supports workflows (memory, a
// SQLite file, and Redis / PostgreSQL when their servers can run here).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "runq/runq.hpp"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"
#ifdef RUNQ_WITH_POSTGRES
#include "support/postgres_server.hpp"
#endif

namespace runq {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

bool under_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && (std::string_view(ci) == "true" || std::string_view(ci) == "1");
}

// A store the tests run on: its name and how to make a fresh URL ("" = its server cannot run
// here). Each call gives a new, empty store.
struct WorkflowStore {
  std::string name;
  std::string (*make_url)(const std::string& dir);
};

std::string redis_url(const std::string&) {
  static testing::RedisServer server;  // one per binary, stopped by pid when it exits
  static const bool started = server.start();
  static int n = 0;
  if (!started) return "";
  return "redis://127.0.0.1:" + std::to_string(server.port()) + "/0?prefix=wf" +
         std::to_string(++n) + ":";
}

#ifdef RUNQ_WITH_POSTGRES
std::string postgres_url(const std::string&) {
  static int n = 0;
  std::string why;
  int port = testing::shared_postgres_port(&why);
  if (port == 0) return "";
  return "postgresql://runq@127.0.0.1:" + std::to_string(port) + "/postgres?schema=wf" +
         std::to_string(++n);
}
#endif

std::vector<WorkflowStore> workflow_stores() {
  std::vector<WorkflowStore> out = {
      {"memory", [](const std::string&) { return std::string("memory:"); }},
      {"sqlite", [](const std::string& dir) { return "sqlite:" + dir + "/wf.db"; }},
#ifdef RUNQ_WITH_REDIS
      {"redis", redis_url},
#endif
#ifdef RUNQ_WITH_POSTGRES
      {"postgres", postgres_url},
#endif
  };
  return out;
}

class WorkflowTest : public ::testing::TestWithParam<WorkflowStore> {
 protected:
  void SetUp() override {
    url_ = GetParam().make_url(dir_.path());
    if (url_.empty()) {
      if (under_ci()) FAIL() << GetParam().name << " server unavailable under CI";
      GTEST_SKIP() << GetParam().name << " server unavailable here";
    }
    app_ = std::make_unique<App>(AppOptions{.store_url = url_, .max_payload_bytes = 4096});
    if (!app_->store()->supports_workflows()) {
      GTEST_SKIP() << GetParam().name << " does not implement workflows yet";
    }
  }
  void TearDown() override {
    if (worker_) {
      worker_->request_stop();
      worker_->wait();
    }
  }
  // Starts a worker with 4 threads on "default".
  void start_worker() {
    WorkerOptions o;
    o.concurrency = 4;
    o.queues = {"default"};
    worker_ = std::make_unique<Worker>(*app_, o);
    ASSERT_TRUE(worker_->start().ok());
  }
  App& app() { return *app_; }

  testing::TempDir dir_;
  std::string url_;
  std::unique_ptr<App> app_;
  std::unique_ptr<Worker> worker_;
};

TEST_P(WorkflowTest, ChainPassesEachResultToTheNextStep) {
  auto add = app().task("add", [](int a, int b) { return a + b; });
  auto twice = app().task("twice", [](int a) { return 2 * a; });
  auto hello = app().task("hello", []() { return std::string("hi"); });
  start_worker();
  // (2 + 3) -> +10 -> x2 -> an immutable step that ignores it -> nothing to pass
  AsyncResult<int> r = chain(add.s(2, 3), add.s(10), twice.s()).delay();
  EXPECT_EQ(r.get(20s), 30);
  AsyncResult<std::string> last = chain(add.s(1, 1), hello.si()).delay();
  EXPECT_EQ(last.get(20s), "hi");
}

TEST_P(WorkflowTest, FailedChainStepStopsTheChainAndTheResultNamesIt) {
  std::atomic<int> after{0};
  auto add = app().task("add", [](int a, int b) { return a + b; });
  auto boom = app().task("boom", [](int) -> int { throw std::runtime_error("disk full"); });
  auto count = app().task("count", [&after](int v) { return after += v; });
  start_worker();
  auto failing = boom.s().id("the-boom-step");
  AsyncResult<int> r = chain(add.s(1, 1), failing, count.s()).delay();
  try {
    r.get(20s);
    FAIL() << "expected TaskFailed";
  } catch (const TaskFailed& e) {
    EXPECT_EQ(e.state(), TaskState::kCanceled);
    EXPECT_EQ(e.error_type(), "runq::Canceled");
    EXPECT_THAT(e.what(), HasSubstr("the-boom-step"));
    EXPECT_THAT(e.what(), HasSubstr("disk full"));
  }
  EXPECT_EQ(after.load(), 0);
}

TEST_P(WorkflowTest, GroupRunsEveryMemberAndReadsThemInOrder) {
  auto square = app().task("square", [](int a) { return a * a; });
  start_worker();
  std::vector<Signature<int>> sigs;
  for (int i = 0; i < 30; ++i) sigs.push_back(square.s(i));
  GroupResult<int> g = group(sigs).delay();
  std::vector<int> got = g.get(20s);
  ASSERT_EQ(got.size(), 30u);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(got[i], i * i);
  EXPECT_EQ(g.completed_count(), 30u);
  EXPECT_TRUE(g.ready());
}

TEST_P(WorkflowTest, ChordBodyRunsOnceWithEveryResult) {
  std::atomic<int> bodies{0};
  auto square = app().task("square", [](int a) { return a * a; });
  auto total = app().task("total", [&bodies](std::vector<int> v) {
    ++bodies;
    return std::accumulate(v.begin(), v.end(), 0);
  });
  start_worker();
  std::vector<Signature<int>> sigs;
  int expected = 0;
  for (int i = 0; i < 50; ++i) {
    sigs.push_back(square.s(i));
    expected += i * i;
  }
  EXPECT_EQ(chord(group(sigs), total.s()).delay().get(30s), expected);
  EXPECT_EQ(bodies.load(), 1);
}

TEST_P(WorkflowTest, ChordOfZeroMembersRunsTheBodyAtOnceWithAnEmptyVector) {
  auto total = app().task("total", [](std::vector<int> v) { return static_cast<int>(v.size()); });
  start_worker();
  EXPECT_EQ(chord(group(std::vector<Signature<int>>{}), total.s()).delay().get(20s), 0);
}

TEST_P(WorkflowTest, ChordWithAFailedMemberFailsWithChordErrorAndTheBodyNeverRuns) {
  std::atomic<int> bodies{0};
  auto maybe = app().task("maybe", [](int a) {
    if (a == 3) throw std::invalid_argument("three is bad");
    return a;
  });
  auto total = app().task("total", [&bodies](std::vector<int> v) {
    ++bodies;
    return static_cast<int>(v.size());
  });
  start_worker();
  std::vector<Signature<int>> sigs;
  for (int i = 0; i < 6; ++i) sigs.push_back(maybe.s(i));
  sigs[3].id("member-three");
  AsyncResult<int> r = chord(group(sigs), total.s()).delay();
  try {
    r.get(20s);
    FAIL() << "expected ChordError";
  } catch (const ChordError& e) {
    EXPECT_EQ(e.state(), TaskState::kFailure);
    EXPECT_EQ(e.error_type(), "runq::ChordError");
    EXPECT_THAT(e.what(), HasSubstr("1 of 6 chord member(s) failed"));
    EXPECT_THAT(e.what(), HasSubstr("member-three (maybe) ended failure"));
    EXPECT_THAT(e.what(), HasSubstr("three is bad"));
  }
  EXPECT_EQ(bodies.load(), 0);
}

TEST_P(WorkflowTest, ChordMemberOfAnUnknownTaskFailsTheChordNamingIt) {
  auto known = app().task("known", [](int a) { return a; });
  auto total = app().task("total", [](std::vector<int> v) { return static_cast<int>(v.size()); });
  TaskHandle<int, int> unknown(&app(), "not-registered", {});
  start_worker();
  AsyncResult<int> r = chord(group(known.s(1), unknown.s(2)), total.s()).delay();
  try {
    r.get(20s);
    FAIL() << "expected ChordError";
  } catch (const ChordError& e) {
    EXPECT_THAT(e.what(), HasSubstr("ended dead"));
    EXPECT_THAT(e.what(), HasSubstr("unknown task 'not-registered'"));
  }
}

TEST_P(WorkflowTest, ChordBodyTakingMemberResultsRunsDespiteFailures) {
  auto maybe = app().task("maybe", [](int a) {
    if (a % 2 == 1) throw std::runtime_error("odd");
    return a;
  });
  auto summary = app().task("summary", [](std::vector<MemberResult<int>> v) {
    std::string out;
    for (const auto& m : v) out += m.ok() ? std::to_string(*m.value) : "x(" + m.error + ")";
    return out;
  });
  start_worker();
  static_assert(internal::IsMemberResults<std::vector<MemberResult<int>>>::value);
  static_assert(std::is_same_v<decltype(summary.s()),
                               Signature<std::string, std::vector<MemberResult<int>>>>);
  auto c = chord(group(maybe.s(0), maybe.s(1), maybe.s(2)), summary.s());
  ASSERT_TRUE(c.flow().nodes.back().allow_failures);  // chosen by the body's parameter type
  AsyncResult<std::string> r = c.delay();
  EXPECT_EQ(r.get(20s), "0x(odd)2");
}

TEST_P(WorkflowTest, FailingChordBodyIsRetriedThenTheChordFails) {
  std::atomic<int> attempts{0};
  auto one = app().task("one", [](int a) { return a; });
  auto body = app().task(
      "body",
      [&attempts](std::vector<int>) -> int {
        ++attempts;
        throw std::runtime_error("body broke");
      },
      TaskOptions{}.max_retries(2).backoff(Backoff::fixed(1ms)));
  start_worker();
  AsyncResult<int> r = chord(group(one.s(1), one.s(2)), body.s()).delay();
  EXPECT_THROW(r.get(20s), TaskFailed);
  EXPECT_EQ(attempts.load(), 3);
  EXPECT_EQ(r.state(), TaskState::kFailure);
}

TEST_P(WorkflowTest, ChordResultsTooLargeForTheAggregateFailClearly) {
  // max_payload_bytes is 4096 here: the aggregate limit is 16 x 4096 = 65536 bytes.
  auto big = app().task("big", [](int) { return std::string(30'000, 'x'); });
  auto count =
      app().task("count", [](std::vector<std::string> v) { return static_cast<int>(v.size()); });
  start_worker();
  AsyncResult<int> r = chord(group(big.s(1), big.s(2), big.s(3)), count.s()).delay();
  try {
    r.get(20s);
    FAIL() << "expected TaskFailed";
  } catch (const TaskFailed& e) {
    EXPECT_EQ(e.error_type(), "runq::WorkflowError");
    EXPECT_THAT(e.what(), HasSubstr("over 65536 bytes"));
  }
}

TEST_P(WorkflowTest, ChordAsAChainStepAndAGroupInsideAChain) {
  auto add = app().task("add", [](int a, int b) { return a + b; });
  auto total = app().task(
      "total", [](std::vector<int> v) { return std::accumulate(v.begin(), v.end(), 0); });
  start_worker();
  // (1+1) then a chord of three members each adding to it, summed, then +100.
  AsyncResult<int> r =
      chain(add.s(1, 1), group(add.s(0, 1), add.s(0, 2), add.s(0, 3)), total.s(), add.s(100))
          .delay();
  EXPECT_EQ(r.get(30s), 106);
  AsyncResult<int> c = chain(chord(group(add.s(1, 2), add.s(3, 4)), total.s()), add.s(1)).delay();
  EXPECT_EQ(c.get(30s), 11);
}

TEST_P(WorkflowTest, DependsOnWaitsAndCancelsOnFailure) {
  auto slow_ok = app().task("ok", [](int a) { return a; });
  auto fails = app().task("fails", []() -> int { throw std::runtime_error("nope"); });
  auto after = app().task("after", []() { return 7; });
  AsyncResult<int> a = slow_ok.delay(1);
  AsyncResult<int> b = fails.delay();
  AsyncResult<int> waits = after.apply(EnqueueOptions{}.depends_on({a.id()}));
  EXPECT_EQ(waits.state(), TaskState::kWaiting);
  AsyncResult<int> canceled = after.apply(EnqueueOptions{}.depends_on({a.id(), b.id()}));
  AsyncResult<int> anyway =
      after.apply(EnqueueOptions{}.depends_on({b.id()}).allow_dependency_failure());
  start_worker();
  EXPECT_EQ(waits.get(20s), 7);
  EXPECT_EQ(anyway.get(20s), 7);
  try {
    canceled.get(20s);
    FAIL() << "expected TaskFailed";
  } catch (const TaskFailed& e) {
    EXPECT_EQ(e.state(), TaskState::kCanceled);
    EXPECT_THAT(e.what(), HasSubstr("dependency " + b.id() + " ended failure"));
    EXPECT_THAT(e.what(), HasSubstr("nope"));
  }
}

TEST_P(WorkflowTest, DependencyOnAnUnknownIdIsAClearErrorAtEnqueue) {
  auto after = app().task("after", []() { return 7; });
  try {
    after.apply(EnqueueOptions{}.depends_on({"no-such-task"}));
    FAIL() << "expected runq::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("dependency 'no-such-task' does not exist"));
  }
}

TEST_P(WorkflowTest, LinkAndLinkErrorCallbacksRunWithTheResultOrTheError) {
  std::mutex mu;
  std::vector<std::string> seen;
  auto add = app().task("add", [](int a, int b) { return a + b; });
  auto boom = app().task("boom", [](int) -> int { throw std::runtime_error("kaput"); });
  auto on_ok = app().task("on_ok", [&](int v, std::string tag) {
    std::lock_guard l(mu);
    seen.push_back(tag + "=" + std::to_string(v));
  });
  auto on_err = app().task("on_err", [&](FailedTask f) {
    std::lock_guard l(mu);
    seen.push_back("error:" + f.task + ":" + f.error);
  });
  start_worker();
  AsyncResult<int> ok = add.s(2, 2).link(on_ok.s(std::string("sum"))).delay();
  AsyncResult<int> bad = boom.s(1).link_error(on_err.s()).delay();
  EXPECT_EQ(ok.get(20s), 4);
  EXPECT_THROW(bad.get(20s), TaskFailed);
  auto deadline = std::chrono::steady_clock::now() + 20s;
  for (int i = 0; i < 2000 && std::chrono::steady_clock::now() < deadline; ++i) {
    {
      std::lock_guard l(mu);
      if (seen.size() >= 2) break;
    }
    std::this_thread::sleep_for(10ms);  // polls a condition with a deadline
  }
  std::lock_guard l(mu);
  EXPECT_THAT(seen, ::testing::UnorderedElementsAre("sum=4", "error:boom:kaput"));
}

TEST_P(WorkflowTest, SignaturesRoundTripThroughJson) {
  auto add = app().task("add", [](int a, int b) { return a + b; });
  auto on_ok = app().task("on_ok", [](int) {});
  Signature<int> sig = add.s(2, 3).queue("math").priority(7).countdown(5s).link(on_ok.s());
  nlohmann::json j = sig.to_json();
  SignatureData back = j.get<SignatureData>();
  EXPECT_EQ(back.task, "add");
  EXPECT_EQ(back.args, nlohmann::json::parse("[2,3]"));
  EXPECT_EQ(back.queue, "math");
  EXPECT_EQ(back.priority, 7);
  EXPECT_EQ(back.countdown, 5000);
  ASSERT_EQ(back.link.size(), 1u);
  EXPECT_TRUE(back.link[0].takes_parent);
  EXPECT_EQ(nlohmann::json(back), j);
  EXPECT_THROW(nlohmann::json::parse(R"({"args":[1]})").get<SignatureData>(),
               nlohmann::json::exception);
}

INSTANTIATE_TEST_SUITE_P(Stores, WorkflowTest, ::testing::ValuesIn(workflow_stores()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace runq
