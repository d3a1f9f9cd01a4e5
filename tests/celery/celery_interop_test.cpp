// Celery interoperability against real Celery (Debian's python3-celery, run by /usr/bin/python3):
// a Python Celery client sends tasks to a runq worker (`runq_celery_app worker --store
// celery+redis://...`) and reads the results with AsyncResult; malformed messages are kept in
// the dead-letter list without stopping the worker. Each test starts its own redis-server on a
// free port.
#include <signal.h>
#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runq/runq.hpp"
#include "store/celery/wire.hpp"
#include "support/child_process.hpp"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace runq {
namespace {

using testing::ChildProcess;
using ::testing::HasSubstr;
using testing::wait_until;
using namespace std::chrono_literals;

constexpr const char* kPython = "/usr/bin/python3";

bool celery_installed() {
  testing::CommandResult r = testing::run_command(kPython, {"-c", "import celery, redis"}, 60s);
  return r.exit_code == 0;
}

class CeleryInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!celery_installed()) {
      if (testing::running_under_ci()) FAIL() << "python3-celery is required under CI";
      GTEST_SKIP() << "python3-celery not installed (scripts/install-deps installs it)";
    }
  }

  std::string url(const std::string& extra = "") const {
    std::string port = std::to_string(redis_.port());
    return "celery+redis://127.0.0.1:" + port + "/0?backend=redis://127.0.0.1:" + port +
           "/1&queues=celery" + extra;
  }

  ChildProcess& start_worker(const std::string& extra = "",
                             std::vector<std::string> args = {"-c", "4"}) {
    args.insert(args.begin(), {"worker", "--store", url(extra)});
    auto child = std::make_unique<ChildProcess>();
    std::string log = dir_.file("worker" + std::to_string(workers_.size()) + ".log");
    EXPECT_TRUE(child->start(RUNQ_CELERY_APP, args, log, log));
    logs_.push_back(log);
    workers_.push_back(std::move(child));
    return *workers_.back();
  }

  // Starts a real `celery worker` (tests/celery/pytasks.py) on the test's Redis.
  ChildProcess& start_celery_worker(const std::string& visibility = "3600",
                                    const std::string& name = "py") {
    auto child = std::make_unique<ChildProcess>();
    std::string log = dir_.file("celery" + std::to_string(workers_.size()) + ".log");
    std::string dir = RUNQ_CELERY_CLIENT;
    dir = dir.substr(0, dir.rfind('/'));
    EXPECT_TRUE(
        child->start(kPython,
                     {"-m", "celery", "-A", "pytasks", "worker", "--pool", "threads", "-c", "2",
                      "-n", name + "@%h", "--without-mingle", "--without-gossip", "-l", "info"},
                     log, log,
                     {"PYTHONPATH=" + dir, "CELERY_PORT=" + std::to_string(redis_.port()),
                      "CELERY_VISIBILITY=" + visibility}));
    logs_.push_back(log);
    workers_.push_back(std::move(child));
    return *workers_.back();
  }

  // Runs tests/celery/client.py SCENARIO; returns its output, failing the test on exit != 0.
  std::string client(const std::string& scenario, std::vector<std::string> args = {}) {
    args.insert(args.begin(), {RUNQ_CELERY_CLIENT, std::to_string(redis_.port()), scenario});
    testing::CommandResult r = testing::run_command(kPython, args, 300s);
    EXPECT_EQ(r.exit_code, 0) << "client " << scenario << ":\n"
                              << r.out << r.err << "\nworker log:\n"
                              << (logs_.empty() ? "" : testing::read_file(logs_[0]));
    return r.out;
  }

  std::string redis(const std::vector<std::string>& args) const { return redis_.command(args); }

  testing::RedisServer redis_;
  testing::TempDir dir_;
  std::vector<std::unique_ptr<ChildProcess>> workers_;
  std::vector<std::string> logs_;
};

TEST_F(CeleryInteropTest, PythonDelayAndSendTaskRunOnRunqWorker) {
  RUNQ_START_REDIS_OR_SKIP(redis_);
  start_worker();
  std::string out = client("basic");
  EXPECT_THAT(out, HasSubstr("PASS basic"));
  // Every message was acked: nothing left in kombu's unacked emulation.
  EXPECT_TRUE(wait_until([&] { return redis({"HLEN", "unacked"}) == "0"; }, 10s));
  EXPECT_EQ(redis({"ZCARD", "unacked_index"}), "0");
}

TEST_F(CeleryInteropTest, FailuresKeepTypeAndMessageAndUnknownNamesAreNotRegistered) {
  RUNQ_START_REDIS_OR_SKIP(redis_);
  start_worker();
  EXPECT_THAT(client("failures"), HasSubstr("PASS failures"));
  EXPECT_THAT(testing::read_file(logs_[0]), HasSubstr("unregistered task of type 'tasks.nope'"));
}

TEST_F(CeleryInteropTest, CountdownExpiresRetriesPrioritiesIgnoreResultAndTimeLimits) {
  RUNQ_START_REDIS_OR_SKIP(redis_);
  start_worker("", {"-c", "2"});
  EXPECT_THAT(client("semantics"), HasSubstr("PASS semantics"));
  // The countdown task waited in runq's scheduled set, not in a worker's memory.
  EXPECT_EQ(redis({"ZCARD", "runq:celery.scheduled"}), "0");
  EXPECT_EQ(redis({"HLEN", "unacked"}), "0");
}

TEST_F(CeleryInteropTest, EtaMessagesWaitInTheScheduledSetNotUnacked) {
  RUNQ_START_REDIS_OR_SKIP(redis_);
  start_worker();
  namespace c = internal::celery;
  c::Outgoing m;
  m.id = "far-future";
  m.task = "tasks.add";
  m.args = "[1, 2]";
  m.eta = 4'102'444'800'000;  // 2100-01-01
  redis({"LPUSH", "celery", c::encode_message(m)});
  ASSERT_TRUE(wait_until([&] { return redis({"ZCARD", "runq:celery.scheduled"}) == "1"; }, 20s));
  EXPECT_EQ(redis({"HLEN", "unacked"}), "0");
  EXPECT_EQ(redis({"LLEN", "celery"}), "0");
}

TEST_F(CeleryInteropTest, RunqProducerSendsToARealCeleryWorkerAndReadsItsResults) {
  RUNQ_START_REDIS_OR_SKIP(redis_);
  ChildProcess& celery = start_celery_worker();
  App app(AppOptions{url()});
  const EnqueueOptions to_celery = EnqueueOptions{}.queue("celery");
  AsyncResult<nlohmann::json> product = app.send("tasks.mul", {6, 7}, to_celery);
  EXPECT_EQ(product.get(180s), 42) << testing::read_file(logs_.back());
  AsyncResult<nlohmann::json> failed = app.send("tasks.fail", {"kaboom"}, to_celery);
  try {
    failed.get(60s);
    ADD_FAILURE() << "tasks.fail returned";
  } catch (const TaskFailed& e) {
    EXPECT_EQ(e.state(), TaskState::kFailure);
    EXPECT_EQ(e.error_type(), "ValueError");
    EXPECT_STREQ(e.what(), "kaboom");
  }
  // A batch, priorities and a countdown, all as Celery messages.
  std::vector<AsyncResult<nlohmann::json>> sums;
  for (int i = 0; i < 20; ++i) {
    sums.push_back(app.send("tasks.add", {i, i}, EnqueueOptions(to_celery).priority(i % 10)));
  }
  for (int i = 0; i < 20; ++i) EXPECT_EQ(sums[i].get(60s), 2 * i);
  EXPECT_EQ(app.send("tasks.add", {1, 1}, EnqueueOptions(to_celery).countdown(1s)).get(60s), 2);
  EXPECT_TRUE(celery.running());
}

// runq workflows cannot travel in Celery messages: sending one to a Celery queue is refused
// with a message that says what to do, and nothing reaches the Celery list.
TEST_F(CeleryInteropTest, WorkflowsToACeleryQueueAreRefusedNotSentWithoutTheirLinks) {
  RUNQ_START_REDIS_OR_SKIP(redis_);
  App app(AppOptions{url()});
  auto add = app.task("tasks.add", [](int a, int b) { return a + b; });
  try {
    runq::chain(add.s(1, 2).queue("celery"), add.s(3).queue("celery")).delay();
    ADD_FAILURE() << "a chain was sent to a Celery queue";
  } catch (const Error& e) {
    EXPECT_EQ(e.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_THAT(e.what(), HasSubstr("queue 'celery' is a Celery queue"));
    EXPECT_THAT(e.what(), HasSubstr("send the workflow to a runq queue"));
  }
  AsyncResult<int> first = add.delay(1, 1);  // a queue not in queues=: runq's own
  EXPECT_THROW(add.apply(EnqueueOptions{}.queue("celery").depends_on({first.id()}), 2, 2), Error);
  EXPECT_EQ(redis({"LLEN", "celery"}), "0");
  // The same workflow on a runq queue of the same store is accepted.
  EXPECT_NO_THROW(runq::chain(add.s(1, 2), add.s(3)).delay());
}

// The unacked entry of the one message in flight, once it is older than `age_s` by Redis's
// clock (so that a visibility-timeout scan of that length restores it).
bool unacked_older_than(const testing::RedisServer& redis, double age_s) {
  std::string tags = redis.command({"ZRANGE", "unacked_index", "0", "-1", "WITHSCORES"});
  std::size_t nl = tags.find('\n');
  if (nl == std::string::npos) return false;
  double score = std::stod(tags.substr(nl + 1));
  std::string now = redis.command({"TIME"});
  return std::stod(now.substr(0, now.find('\n'))) - score > age_s;
}

TEST_F(CeleryInteropTest, MixedFleetRecoversATaskFromAKilledRunqWorker) {
  RUNQ_START_REDIS_OR_SKIP(redis_);
  ChildProcess& runq_worker = start_worker("&visibility_timeout=2s&restore_every=1s");
  App app(AppOptions{url()});
  auto r = app.send("tasks.sleep", {1500}, EnqueueOptions{}.queue("celery"));
  ASSERT_TRUE(wait_until([&] { return redis({"HLEN", "unacked"}) == "1"; }, 30s));
  runq_worker.signal(SIGKILL);
  ASSERT_TRUE(runq_worker.wait_exit(10s).has_value());
  EXPECT_EQ(redis({"HLEN", "unacked"}), "1");  // still held for whoever restores it
  ASSERT_TRUE(wait_until([&] { return unacked_older_than(redis_, 2.5); }, 30s));
  start_celery_worker("2", "py");  // its start-up scan restores the message
  EXPECT_EQ(r.get(180s), 1500) << testing::read_file(logs_.back());
  EXPECT_TRUE(wait_until([&] { return redis({"HLEN", "unacked"}) == "0"; }, 30s));
}

TEST_F(CeleryInteropTest, MixedFleetRecoversATaskFromAKilledCeleryWorker) {
  RUNQ_START_REDIS_OR_SKIP(redis_);
  ChildProcess& celery = start_celery_worker("2", "py");
  App app(AppOptions{url()});
  auto r = app.send("tasks.sleep", {3000}, EnqueueOptions{}.queue("celery"));
  ASSERT_TRUE(wait_until(
      [&] {
        return redis({"HLEN", "unacked"}) == "1";
      },
      180s))
      << testing::read_file(logs_.back());
  celery.signal(SIGKILL);
  ASSERT_TRUE(celery.wait_exit(10s).has_value());
  EXPECT_EQ(redis({"HLEN", "unacked"}), "1");
  start_worker("&visibility_timeout=2s&restore_every=1s");
  EXPECT_EQ(r.get(60s), 3000) << testing::read_file(logs_.back());
  EXPECT_THAT(testing::read_file(logs_.back()), HasSubstr("restored 1 unacknowledged message"));
  EXPECT_TRUE(wait_until([&] { return redis({"HLEN", "unacked"}) == "0"; }, 30s));
}

TEST_F(CeleryInteropTest, CeleryInspectControlAndEventsSeeTheRunqWorker) {
  RUNQ_START_REDIS_OR_SKIP(redis_);
  start_worker("&task_events=1");
  EXPECT_THAT(client("control"), HasSubstr("PASS control"));
  EXPECT_THAT(testing::read_file(logs_[0]), HasSubstr("revoke of "));
}

TEST_F(CeleryInteropTest, CanvasFromPythonChainGroupChordAndLinks) {
  RUNQ_START_REDIS_OR_SKIP(redis_);
  start_worker();
  EXPECT_THAT(client("canvas"), HasSubstr("PASS canvas"));
}

// Both kinds on one queue, and the runq worker kill -9'd while it holds messages (its prefetch
// buffer and running tasks); a replacement runq worker restores them. (A Celery worker killed
// while it holds a message is MixedFleetRecoversATaskFromAKilledCeleryWorker; killed at a
// random moment, a Celery consumer can lose the one message between its BRPOP and its
// unacked write, which is kombu's own gap.)
TEST_F(CeleryInteropTest, MixedFleetSharingOneQueueLosesNothingWhenARunqWorkerIsKilled) {
  RUNQ_START_REDIS_OR_SKIP(redis_);
  start_celery_worker("2", "py");
  ChildProcess& runq_worker = start_worker("&visibility_timeout=2s&restore_every=1s", {"-c", "2"});
  App app(AppOptions{url()});
  std::vector<AsyncResult<nlohmann::json>> results;
  for (int i = 0; i < 40; ++i) {
    results.push_back(app.send("tasks.sleep", {200 + i}, EnqueueOptions{}.queue("celery")));
  }
  auto done = [&] {
    int n = 0;
    for (auto& r : results) n += r.ready() ? 1 : 0;
    return n;
  };
  ASSERT_TRUE(wait_until([&] { return done() >= 6; }, 180s)) << testing::read_file(logs_[0]);
  ASSERT_LT(done(), 40);
  runq_worker.signal(SIGKILL);
  ASSERT_TRUE(runq_worker.wait_exit(10s).has_value());
  start_worker("&visibility_timeout=2s&restore_every=1s", {"-c", "2"});
  for (int i = 0; i < 40; ++i) EXPECT_EQ(results[i].get(120s), 200 + i) << i;
  EXPECT_TRUE(wait_until([&] { return redis({"HLEN", "unacked"}) == "0"; }, 30s));
}

TEST_F(CeleryInteropTest, AWorkerNeverRestoresItsOwnRunningTask) {
  RUNQ_START_REDIS_OR_SKIP(redis_);
  // The task runs longer than the visibility timeout, between lease extensions (10 s).
  start_worker("&visibility_timeout=1s&restore_every=200ms", {"-c", "2"});
  App app(AppOptions{url()});
  EXPECT_EQ(app.send("tasks.sleep", {2500}, EnqueueOptions{}.queue("celery")).get(60s), 2500);
  EXPECT_THAT(testing::read_file(logs_[0]), ::testing::Not(HasSubstr("restored")));
  EXPECT_EQ(redis({"LLEN", "celery"}), "0");
}

TEST_F(CeleryInteropTest, StartedAndRetryStatesAreVisibleToPython) {
  RUNQ_START_REDIS_OR_SKIP(redis_);
  start_worker("&track_started=1");
  EXPECT_THAT(client("states"), HasSubstr("PASS states"));
}

TEST_F(CeleryInteropTest, RunqStatusListsTheCeleryQueues) {
  RUNQ_START_REDIS_OR_SKIP(redis_);
  App app(AppOptions{url()});
  for (int i = 0; i < 3; ++i) app.send("tasks.add", {i, i}, EnqueueOptions{}.queue("celery"));
  testing::CommandResult r = testing::run_command(RUNQ_CELERY_APP, {"status", "--store", url()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("celery:celery"));
  EXPECT_EQ(redis({"LLEN", "celery"}), "3");
}

// One message per case of celery-wire.md §4 that stops a Celery worker, and the others.
std::vector<std::pair<std::string, std::string>> bad_messages() {
  namespace c = internal::celery;
  auto env = [](nlohmann::json headers, nlohmann::json props, std::string body) {
    return nlohmann::json{{"body", std::move(body)},
                          {"content-type", "application/json"},
                          {"content-encoding", "utf-8"},
                          {"headers", std::move(headers)},
                          {"properties", std::move(props)}}
        .dump();
  };
  const std::string body = c::base64_encode("[[20, 22], {}, {}]");
  const nlohmann::json props = {{"delivery_tag", "tag"},
                                {"body_encoding", "base64"},
                                {"delivery_info", {{"exchange", ""}, {"routing_key", "celery"}}}};
  auto with_tag = [&](const std::string& tag) {
    nlohmann::json p = props;
    p["delivery_tag"] = tag;
    return p;
  };
  nlohmann::json no_tag = props;
  no_tag.erase("delivery_tag");
  nlohmann::json no_info = props;
  no_info.erase("delivery_info");
  nlohmann::json pickle_headers = {{"task", "tasks.add"}, {"id", "id-d"}};
  std::string pickle = env(pickle_headers, with_tag("t-d"), body);
  pickle = nlohmann::json::parse(pickle).dump();
  {
    nlohmann::json j = nlohmann::json::parse(pickle);
    j["content-type"] = "application/x-python-serialize";
    pickle = j.dump();
  }
  return {
      {"A", "{not json"},
      {"B", env({{"task", "tasks.add"}, {"id", "id-b"}}, with_tag("t-b"), c::base64_encode("{x"))},
      {"C", env({{"id", "id-c"}}, with_tag("t-c"), body)},
      {"D", pickle},
      {"E", env({{"task", "tasks.add"}, {"id", "id-e"}, {"eta", "tomorrow-ish"}}, with_tag("t-e"),
                body)},
      {"I", env({{"task", "tasks.add"}, {"id", "id-i"}}, no_tag, body)},
      {"J", env({{"task", "tasks.add"}, {"id", "id-j"}}, no_info, body)},
      {"K", env({{"task", "tasks.add"}}, with_tag("t-k"), body)},
      {"L", env({{"task", "tasks.add"}, {"id", "id-l"}}, with_tag("t-l"), "abcdefghi")},
  };
}

TEST_F(CeleryInteropTest, BadMessagesAreKeptInTheDeadListAndTheWorkerKeepsRunning) {
  RUNQ_START_REDIS_OR_SKIP(redis_);
  ChildProcess& worker = start_worker();
  auto bad = bad_messages();
  for (const auto& [name, raw] : bad) {
    ASSERT_THAT(redis({"LPUSH", "celery", raw}), ::testing::Not(::testing::StartsWith("-")))
        << name;
  }
  // A good message after them, and a protocol-1 style dict body (Celery runs it: case F).
  namespace c = internal::celery;
  c::Outgoing good;
  good.id = "after-the-bad-ones";
  good.task = "tasks.add";
  good.args = "[40, 2]";
  redis({"LPUSH", "celery", c::encode_message(good)});
  nlohmann::json f = nlohmann::json::parse(c::encode_message(good));
  f["headers"]["id"] = "dict-body";
  f["properties"]["body_encoding"] = nullptr;
  f["body"] = R"({"args": [1, 2], "kwargs": {}})";
  redis({"LPUSH", "celery", f.dump()});

  const std::string dead = "runq:celery.dead";
  ASSERT_TRUE(wait_until(
      [&] {
        return redis({"LLEN", dead}) == std::to_string(bad.size());
      },
      20s))
      << redis({"LLEN", dead}) << "\n"
      << testing::read_file(logs_[0]);
  EXPECT_THAT(client("result_of", {"after-the-bad-ones", "42"}), HasSubstr("PASS"));
  EXPECT_THAT(client("result_of", {"dict-body", "3"}), HasSubstr("PASS"));
  EXPECT_TRUE(worker.running());
  // Each bad message is kept once, whole, with a reason; none is left unacked (no poison
  // loop: nothing is restored to the queue to crash the next consumer).
  std::string entries = redis({"LRANGE", dead, "0", "-1"});
  for (const auto& [name, raw] : bad) {
    EXPECT_THAT(entries, HasSubstr(nlohmann::json(raw).dump().substr(1, 20))) << name;
  }
  for (const char* reason :
       {"envelope is not JSON", "body is not JSON", "headers.task is missing", "is not accepted",
        "'tomorrow-ish' is not an ISO-8601 time", "properties.delivery_tag is missing",
        "properties.delivery_info is missing", "headers.id is missing",
        "body is not valid base64"}) {
    EXPECT_THAT(entries, HasSubstr(reason));
  }
  EXPECT_EQ(redis({"HLEN", "unacked"}), "0");
  EXPECT_EQ(redis({"LLEN", "celery"}), "0");
  // The worker logged each one.
  EXPECT_THAT(testing::read_file(logs_[0]), HasSubstr("kept an unreadable message"));
}

}  // namespace
}  // namespace runq
