// Workers as separate processes (`runq_test_app worker`), on a real SQLite file (and Redis):
// results, redelivery after kill -9, graceful SIGTERM, and bad input that must not stop a
// worker.
#include <signal.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runq/runq.hpp"
#include "support/child_process.hpp"
#ifdef RUNQ_WITH_POSTGRES
#include "support/postgres_server.hpp"
#endif
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace runq {
namespace {

using testing::ChildProcess;
using ::testing::HasSubstr;
using testing::wait_until;
using namespace std::chrono_literals;

constexpr auto kDeadline = std::chrono::seconds(20);

class WorkerProcessTest : public ::testing::Test {
 protected:
  void use_store(std::string url) {
    url_ = std::move(url);
    app_ = std::make_unique<App>(AppOptions{url_});
  }

  // Starts `runq_test_app worker --store URL <args>`; its output goes to proc<N>.log.
  ChildProcess& start_worker(std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.begin(), "worker");
    return start_app(std::move(args), std::move(env));
  }
  // Starts `runq_test_app COMMAND --store URL <rest of args>`.
  ChildProcess& start_app(std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.begin() + 1, {"--store", url_});
    auto child = std::make_unique<ChildProcess>();
    std::string log = dir_.file("proc" + std::to_string(children_.size()) + ".log");
    EXPECT_TRUE(child->start(RUNQ_TEST_APP, args, log, log, env));
    logs_.push_back(log);
    children_.push_back(std::move(child));
    return *children_.back();
  }
  std::string log_of(std::size_t i) const { return testing::read_file(logs_.at(i)); }

  std::string send(const std::string& name, nlohmann::json args, EnqueueOptions opts = {}) {
    return app_->send(name, args, opts).id();
  }

  // Waits until the task is final and returns its status (state PENDING on timeout).
  TaskStatus wait_final(const std::string& id, std::chrono::milliseconds deadline = kDeadline) {
    TaskStatus last;
    wait_until(
        [&] {
          Result<TaskStatus> st = read_task_status(*app_->store(), id);
          if (st.ok()) last = *st;
          return st.ok() && is_final(st->state);
        },
        deadline);
    return last;
  }

  std::int64_t reserved_in(const std::string& queue) {
    Result<StoreStats> stats = app_->store()->stats(Clock::system().now_ms());
    if (!stats.ok()) return -1;
    for (const QueueStats& q : stats->queues) {
      if (q.queue == queue) return q.running;
    }
    return 0;
  }

  static bool ran_on(const TaskStatus& st, const ChildProcess& worker) {
    return st.worker.find(":" + std::to_string(worker.pid()) + ":") != std::string::npos;
  }

  // kill -9 of a worker with tasks running: after its leases lapse a second worker runs
  // every one of them to SUCCESS.
  void check_kill9_redelivery() {
    const std::string starts = dir_.file("starts.txt");
    ChildProcess& first = start_worker({"--concurrency", "4", "--lease", "1s"});
    std::vector<std::string> ids;
    for (int i = 0; i < 4; ++i) ids.push_back(send("record_sleep", {starts, 1500}));
    ASSERT_TRUE(wait_until([&] { return count_starts(starts) == 4; }, kDeadline)) << log_of(0);

    first.signal(SIGKILL);
    ASSERT_EQ(first.wait_exit(5s), 128 + SIGKILL);
    ChildProcess& second = start_worker({"--concurrency", "4", "--lease", "1s"});

    for (const std::string& id : ids) {
      TaskStatus st = wait_final(id);
      EXPECT_EQ(st.state, TaskState::kSuccess) << id << " " << st.error << "\n" << log_of(1);
      EXPECT_TRUE(ran_on(st, second)) << st.worker;
    }
    EXPECT_EQ(count_starts(starts), 8);
  }

  static int count_starts(const std::string& path) {
    std::string text = testing::read_file(path);
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  }

  testing::TempDir dir_;
  std::string url_ = "sqlite:" + dir_.file("runq.db");
  std::unique_ptr<App> app_ = std::make_unique<App>(AppOptions{url_});
  std::vector<std::unique_ptr<ChildProcess>> children_;
  std::vector<std::string> logs_;
};

TEST_F(WorkerProcessTest, CompletesEveryTaskWithTheRightResult) {
  start_worker({"--concurrency", "4"});
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(send("add", {i, 100}));

  for (int i = 0; i < 20; ++i) {
    TaskStatus st = wait_final(ids[i]);
    ASSERT_EQ(st.state, TaskState::kSuccess) << st.error << "\n" << log_of(0);
    EXPECT_EQ(st.value, std::to_string(i + 100));
  }
}

TEST_F(WorkerProcessTest, BannerNamesWorkerQueuesAndTasks) {
  start_worker({"--concurrency", "3", "--queues", "a,b"});

  ASSERT_TRUE(wait_until([&] { return log_of(0).find("ready") != std::string::npos; }, kDeadline));
  std::string log = log_of(0);
  EXPECT_THAT(log, HasSubstr("queues:      a, b"));
  EXPECT_THAT(log, HasSubstr("concurrency: 3"));
  EXPECT_THAT(log, HasSubstr("add, fail_always"));
}

TEST_F(WorkerProcessTest, Kill9WithTasksRunningRedeliversEveryTask) { check_kill9_redelivery(); }

TEST_F(WorkerProcessTest, Kill9WithTasksRunningRedeliversEveryTaskOnRedis) {
  testing::RedisServer redis;
  RUNQ_START_REDIS_OR_SKIP(redis);
  use_store(redis.url());

  check_kill9_redelivery();
}

#ifdef RUNQ_WITH_POSTGRES
TEST_F(WorkerProcessTest, Kill9WithTasksRunningRedeliversEveryTaskOnPostgres) {
  testing::PostgresServer pg;
  RUNQ_START_POSTGRES_OR_SKIP(pg);
  use_store(pg.url("?schema=kill9"));
  check_kill9_redelivery();
}
#endif

TEST_F(WorkerProcessTest, WorkerStartedWhileRedisIsDownRetriesUntilItComesUp) {
  testing::RedisServer redis;
  RUNQ_START_REDIS_OR_SKIP(redis);
  use_store(redis.url());
  redis.stop();

  ChildProcess& worker = start_worker({"--concurrency", "1"});
  ASSERT_TRUE(
      wait_until([&] { return log_of(0).find("retrying in") != std::string::npos; }, kDeadline))
      << log_of(0);
  ASSERT_TRUE(redis.restart());
  std::string id = send("add", {20, 22});

  TaskStatus st = wait_final(id);
  EXPECT_EQ(st.state, TaskState::kSuccess) << st.error << log_of(0);
  EXPECT_EQ(st.value, "42");
  EXPECT_THAT(log_of(0), HasSubstr("Connection refused"));
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.wait_exit(kDeadline), 0) << log_of(0);
}

TEST_F(WorkerProcessTest, SigtermFinishesRunningAndReleasesPrefetchedTasks) {
  const std::string starts = dir_.file("starts.txt");
  // A long lease: released tasks must come back at once, not when a lease lapses.
  ChildProcess& first = start_worker({"--concurrency", "2", "--prefetch", "4", "--lease", "60s"});
  std::vector<std::string> ids = app_->enqueue_json_many(
      "record_sleep", std::vector<std::string>(6, nlohmann::json{starts, 800}.dump()), {}, {});
  ASSERT_TRUE(wait_until([&] { return count_starts(starts) == 2 && reserved_in("default") == 6; },
                         kDeadline))
      << log_of(0);

  first.signal(SIGTERM);
  ChildProcess& second = start_worker({"--concurrency", "4", "--lease", "60s"});

  EXPECT_EQ(first.wait_exit(kDeadline), 0) << log_of(0);
  int by_first = 0, by_second = 0;
  for (const std::string& id : ids) {
    TaskStatus st = wait_final(id);
    EXPECT_EQ(st.state, TaskState::kSuccess) << st.error;
    by_first += ran_on(st, first);
    by_second += ran_on(st, second);
  }
  EXPECT_EQ(by_first, 2);
  EXPECT_EQ(by_second, 4);
  EXPECT_EQ(count_starts(starts), 6);
  EXPECT_THAT(log_of(0), HasSubstr("stopping gracefully"));
}

// Whether process `pid` is gone (or a zombie about to be reaped).
bool process_gone(int pid) {
  std::string stat = testing::read_file("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return true;
  auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}

std::vector<int> pids_in(const std::string& path) {
  std::vector<int> pids;
  std::string text = testing::read_file(path);
  for (std::size_t pos = 0, end; (end = text.find('\n', pos)) != std::string::npos; pos = end + 1)
    pids.push_back(std::stoi(text.substr(pos, end - pos)));
  return pids;
}

// kill -9 of a process-pool worker: its children die with it (none is orphaned) and the tasks
// they ran are redelivered after the lease.
TEST_F(WorkerProcessTest, Kill9OfProcessPoolWorkerKillsItsChildrenAndRedelivers) {
  const std::string pids = dir_.file("pids.txt");
  ChildProcess& first =
      start_worker({"--pool", "processes", "--concurrency", "2", "--lease", "1s"});
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) ids.push_back(send("record_pid", {pids, 3000}));
  ASSERT_TRUE(wait_until([&] { return pids_in(pids).size() == 2; }, kDeadline)) << log_of(0);
  std::vector<int> children = pids_in(pids);
  for (int pid : children) EXPECT_NE(pid, first.pid());

  first.signal(SIGKILL);
  ASSERT_EQ(first.wait_exit(5s), 128 + SIGKILL);
  for (int pid : children) {
    EXPECT_TRUE(wait_until([&] { return process_gone(pid); }, 5s))
        << "child " << pid << " orphaned";
  }
  // After the lease lapses a second worker runs both again, in its own children.
  ChildProcess& second = start_worker({"--pool", "processes", "--concurrency", "2"});
  for (const std::string& id : ids) {
    TaskStatus st = wait_final(id);
    EXPECT_EQ(st.state, TaskState::kSuccess) << st.error << "\n" << log_of(1);
    EXPECT_TRUE(ran_on(st, second)) << st.worker;
  }
  std::vector<int> all = pids_in(pids);
  ASSERT_EQ(all.size(), 4u) << "first " << first.pid() << " second " << second.pid() << "\n"
                            << testing::read_file(pids) << log_of(0) << log_of(1);
  for (std::size_t i = 2; i < 4; ++i) {
    EXPECT_NE(all[i], second.pid());
    EXPECT_EQ(std::count(children.begin(), children.end(), all[i]), 0);
  }
}

// SIGTERM to a process-pool worker: running tasks finish within the grace, then the worker
// and its children exit.
TEST_F(WorkerProcessTest, SigtermOfProcessPoolWorkerFinishesRunningTasks) {
  const std::string pids = dir_.file("pids.txt");
  ChildProcess& worker =
      start_worker({"--pool", "processes", "--concurrency", "2", "--grace", "30s"});
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) ids.push_back(send("record_pid", {pids, 700}));
  ASSERT_TRUE(wait_until([&] { return pids_in(pids).size() == 2; }, kDeadline)) << log_of(0);
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.wait_exit(kDeadline), 0) << log_of(0);
  for (const std::string& id : ids) EXPECT_EQ(wait_final(id).state, TaskState::kSuccess);
  for (int pid : pids_in(pids)) EXPECT_TRUE(wait_until([&] { return process_gone(pid); }, 5s));
  EXPECT_THAT(log_of(0), HasSubstr("pool:        processes (2 children)"));
}

TEST_F(WorkerProcessTest, AutoscaleIsShownInTheBannerAndBadValuesAreRefused) {
  ChildProcess& worker = start_worker({"--pool", "processes", "--autoscale", "3,1"});
  ASSERT_TRUE(wait_until([&] { return log_of(0).find("ready") != std::string::npos; }, kDeadline))
      << log_of(0);
  EXPECT_THAT(log_of(0), HasSubstr("pool:        processes (autoscale 1 to 3 children)"));
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.wait_exit(kDeadline), 0) << log_of(0);

  ChildProcess& bad = start_worker({"--pool", "processes", "--autoscale", "3"});
  EXPECT_NE(bad.wait_exit(kDeadline).value_or(0), 0);
  EXPECT_THAT(log_of(1), HasSubstr("--autoscale: expected MAX,MIN with 1 <= MIN <= MAX"));
  ChildProcess& inverted = start_worker({"--pool", "processes", "--autoscale", "1,3"});
  EXPECT_NE(inverted.wait_exit(kDeadline).value_or(0), 0);
  EXPECT_THAT(log_of(2), HasSubstr("got '1,3'"));
  ChildProcess& threads = start_worker({"--autoscale", "3,1"});
  ASSERT_TRUE(wait_until([&] { return log_of(3).find("ready") != std::string::npos; }, kDeadline))
      << log_of(3);
  EXPECT_THAT(log_of(3), HasSubstr("pool:        threads (autoscale 1 to 3 threads)"));
  threads.signal(SIGTERM);
  EXPECT_EQ(threads.wait_exit(kDeadline), 0) << log_of(3);
}

TEST_F(WorkerProcessTest, SecondSigtermExitsAt130) {
  ChildProcess& worker = start_worker({"--concurrency", "1", "--grace", "60s"});
  std::string id = send("sleep_ms", {60'000});
  ASSERT_TRUE(wait_until([&] { return reserved_in("default") == 1; }, kDeadline));

  worker.signal(SIGTERM);
  ASSERT_TRUE(wait_until([&] { return log_of(0).find("stopping gracefully") != std::string::npos; },
                         kDeadline));
  worker.signal(SIGTERM);

  EXPECT_EQ(worker.wait_exit(kDeadline), 130) << log_of(0);
}

TEST_F(WorkerProcessTest, UnknownTaskIsDeadAndWorkerKeepsGoing) {
  start_worker({"--concurrency", "2"});

  std::string unknown = send("no_such_task", nlohmann::json::array());
  std::string later = send("add", {1, 2});

  TaskStatus dead = wait_final(unknown);
  EXPECT_EQ(dead.state, TaskState::kDead);
  EXPECT_THAT(dead.error, HasSubstr("unknown task 'no_such_task'"));
  EXPECT_EQ(wait_final(later).state, TaskState::kSuccess);
}

TEST_F(WorkerProcessTest, WrongArgumentTypeFailsNamingTheArgument) {
  start_worker({"--concurrency", "2"});

  TaskStatus st = wait_final(send("add", {"two", 3}));

  EXPECT_EQ(st.state, TaskState::kFailure);
  EXPECT_THAT(st.error, HasSubstr("argument 1 of task 'add'"));
  EXPECT_EQ(wait_final(send("add", {1, 2})).state, TaskState::kSuccess);
}

TEST_F(WorkerProcessTest, MalformedStoredMessageIsDeadLetteredWithTheParseError) {
  start_worker({"--concurrency", "2"});
  NewTask garbage{"garbage-1", "default", 0, 0, 5, "{\"id\": \"garbage-1\", \"task\": tru"};
  ASSERT_TRUE(app_->store()->enqueue({&garbage, 1}, Clock::system().now_ms()).ok());

  TaskStatus st = wait_final("garbage-1");
  std::string later = send("add", {2, 2});

  EXPECT_EQ(st.state, TaskState::kDead);
  EXPECT_THAT(st.dead_reason, HasSubstr("decoding task message"));
  EXPECT_EQ(wait_final(later).value, "4");
}

TEST_F(WorkerProcessTest, ThrowingTaskFailsWithTheExceptionMessage) {
  start_worker({"--concurrency", "2"});

  TaskStatus st = wait_final(send("fail_always", {"disk on fire"}));

  EXPECT_EQ(st.state, TaskState::kFailure);
  EXPECT_EQ(st.error, "disk on fire");
  EXPECT_EQ(st.error_type, "std::runtime_error");
  EXPECT_EQ(st.attempts, 1);
}

TEST_F(WorkerProcessTest, ThrowingTaskWithRetriesKeepsTheFullErrorHistory) {
  start_worker({"--concurrency", "2"});

  TaskStatus st = wait_final(send("fail_retry", {"still broken"}));

  EXPECT_EQ(st.state, TaskState::kFailure);
  EXPECT_EQ(st.attempts, 3);
  ASSERT_EQ(st.errors.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(st.errors[i].attempt, i + 1);
    EXPECT_EQ(st.errors[i].message, "still broken");
  }
}

TEST_F(WorkerProcessTest, FlakyTaskSucceedsAfterRetries) {
  start_worker({"--concurrency", "2"});

  TaskStatus st = wait_final(send("flaky", {2}));

  EXPECT_EQ(st.state, TaskState::kSuccess) << st.error;
  EXPECT_EQ(st.value, "3");
  EXPECT_EQ(st.errors.size(), 2u);
}

TEST_F(WorkerProcessTest, MaxTasksStopsTheWorkerWithExit0) {
  ChildProcess& worker = start_worker({"--concurrency", "1", "--max-tasks", "3"});
  for (int i = 0; i < 3; ++i) send("add", {i, i});

  EXPECT_EQ(worker.wait_exit(kDeadline), 0) << log_of(0);
  EXPECT_THAT(log_of(0), HasSubstr("stopped after 3 task(s): 3 succeeded"));
}

TEST_F(WorkerProcessTest, StatusAndResultDescribeALiveWorkerAndItsRunningTask) {
  ChildProcess& worker = start_worker({"--concurrency", "1", "--report-every", "100ms"});
  std::string id = send("sleep_ms", {30'000});
  ASSERT_TRUE(wait_until([&] { return reserved_in("default") == 1; }, kDeadline));

  testing::CommandResult status =
      testing::run_command(RUNQ_TEST_APP, {"status", "--store", url_, "--json", "--sample", "0"});
  testing::CommandResult result =
      testing::run_command(RUNQ_TEST_APP, {"result", id, "--store", url_});

  ASSERT_EQ(status.exit_code, 0) << status.err;
  auto j = nlohmann::json::parse(status.out);
  ASSERT_EQ(j["workers"].size(), 1u);
  EXPECT_EQ(j["workers"][0]["pid"], worker.pid());
  EXPECT_EQ(j["workers"][0]["concurrency"], 1);
  EXPECT_EQ(j["queues"][0]["running"], 1);
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_THAT(result.out, HasSubstr("running on worker"));
  EXPECT_TRUE(wait_until([&] { return log_of(0).find("tasks/s") != std::string::npos; }, kDeadline))
      << log_of(0);
}

TEST_F(WorkerProcessTest, TwoSchedulersFireEachTickOnce) {
  const std::string ticks = dir_.file("ticks.txt");
  std::vector<std::string> env = {"RUNQ_TEST_TICK_FILE=" + ticks};
  ChildProcess& worker = start_worker({"--concurrency", "2", "--beat"}, env);
  ChildProcess& beat = start_app({"beat"}, env);

  ASSERT_TRUE(wait_until([&] { return count_starts(ticks) >= 3; }, kDeadline))
      << log_of(0) << log_of(1);
  beat.signal(SIGTERM);
  worker.signal(SIGTERM);
  EXPECT_EQ(beat.wait_exit(kDeadline), 0) << log_of(1);
  EXPECT_EQ(worker.wait_exit(kDeadline), 0) << log_of(0);

  std::string text = testing::read_file(ticks);
  std::vector<std::string> lines;
  for (std::size_t pos = 0, end; (end = text.find('\n', pos)) != std::string::npos; pos = end + 1) {
    lines.push_back(text.substr(pos, end - pos));
  }
  std::set<std::string> distinct(lines.begin(), lines.end());
  EXPECT_EQ(distinct.size(), lines.size()) << text;
  auto schedules = app_->store()->list_schedules();
  ASSERT_TRUE(schedules.ok());
  ASSERT_EQ(schedules->size(), 1u);
  EXPECT_EQ(schedules->front().name, "tick");
}

}  // namespace
}  // namespace runq
