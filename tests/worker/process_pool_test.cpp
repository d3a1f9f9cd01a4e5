// The process pool against real child processes and a real SQLite file: tasks run in reused
// children, a child that segfaults, aborts, exits or is killed ends only its own attempt (with
// the cause in the error), crash_limit dead-letters a poison task, hard time limits kill the
// child within 100 ms, soft limits raise Context::cancelled(), children are recycled.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "runq/runq.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace runq {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;
using testing::wait_until;

// Crashes for real: a write through a bad pointer (SIGSEGV). The address comes from a
// volatile so that the compiler cannot see (and warn about) the bad write.
volatile std::uintptr_t bad_address = 8;
void segfault() { *reinterpret_cast<volatile int*>(bad_address) = 1; }

// Runs until `ctx` is cancelled or `limit` passed (a bound for the test, never reached when
// the feature works).
bool spin_until_cancelled(Context& ctx, std::chrono::seconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!ctx.cancelled() && std::chrono::steady_clock::now() < end) {
  }
  return ctx.cancelled();
}

class ProcessPoolTest : public ::testing::Test {
 protected:
  AppOptions app_options() { return AppOptions{.store_url = "sqlite:" + dir_.file("runq.db")}; }
  WorkerOptions pool(int children) {
    WorkerOptions o;
    o.concurrency = children;
    o.pool = WorkerPool::kProcesses;
    o.grace_ms = 5000;
    return o;
  }
  TaskStatus final_status(App& app, const std::string& id) {
    Result<TaskStatus> st = wait_task_status(*app.store(), id, 20'000);
    EXPECT_TRUE(st.ok()) << st.status().to_string();
    return st.ok() ? *st : TaskStatus{};
  }
  TempDir dir_;
};

TEST_F(ProcessPoolTest, RunsTasksInReusedChildProcesses) {
  App app(app_options());
  auto pid =
      app.task("pid", [](int i) { return std::to_string(::getpid()) + ":" + std::to_string(i); });
  std::vector<AsyncResult<std::string>> results;
  for (int i = 0; i < 40; ++i) results.push_back(pid.delay(i));
  Worker worker(app, pool(2));
  ASSERT_TRUE(worker.start().ok());
  std::set<std::string> pids;
  for (int i = 0; i < 40; ++i) {
    std::string v = results[i].get(20s);
    auto colon = v.find(':');
    EXPECT_EQ(v.substr(colon + 1), std::to_string(i));
    pids.insert(v.substr(0, colon));
  }
  worker.request_stop();
  worker.wait();
  EXPECT_EQ(pids.count(std::to_string(::getpid())), 0u) << "ran in the worker process";
  EXPECT_LE(pids.size(), 2u) << "a child per task instead of reused children";
  EXPECT_EQ(worker.counters().succeeded, 40u);
}

TEST_F(ProcessPoolTest, CrashEndsOnlyItsAttemptAndTheChildIsReplaced) {
  App app(app_options());
  auto segv = app.task("segv", [] { segfault(); });
  auto slow = app.task("slow", [](Context& ctx) {
    // Runs in the other child while its neighbour crashes.
    auto end = std::chrono::steady_clock::now() + 300ms;
    while (std::chrono::steady_clock::now() < end && !ctx.cancelled()) {
    }
    return ::getpid();
  });
  auto add = app.task("add", [](int a, int b) { return a + b; });
  Worker worker(app, pool(2));
  ASSERT_TRUE(worker.start().ok());
  auto s = slow.delay();
  auto crash = segv.delay();
  TaskStatus st = final_status(app, crash.id());
  EXPECT_EQ(st.state, TaskState::kFailure);
  EXPECT_EQ(st.error_type, "runq::WorkerCrashed");
#ifndef __SANITIZE_ADDRESS__  // ASan turns the signal into its own report and exit code
  EXPECT_EQ(st.error, "worker process crashed: signal 11 (SIGSEGV)");
#endif
  EXPECT_GT(s.get(20s), 0);  // the neighbour finished untouched
  for (int i = 0; i < 10; ++i) EXPECT_EQ(add.delay(i, 1).get(20s), i + 1);  // replaced
  worker.request_stop();
  worker.wait();
}

TEST_F(ProcessPoolTest, AbortExitAndTerminateNameTheirCause) {
  App app(app_options());
  auto abort_task = app.task("abort", [] { std::abort(); });
  auto exit3 = app.task("exit3", [] { std::exit(3); });
  auto terminate = app.task("terminate", [] { std::terminate(); });
  Worker worker(app, pool(2));
  ASSERT_TRUE(worker.start().ok());
  auto a = abort_task.delay();
  auto e = exit3.delay();
  auto t = terminate.delay();
  EXPECT_EQ(final_status(app, e.id()).error, "worker process exited with code 3");
#ifndef __SANITIZE_ADDRESS__
  EXPECT_EQ(final_status(app, a.id()).error, "worker process crashed: signal 6 (SIGABRT)");
  EXPECT_EQ(final_status(app, t.id()).error, "worker process crashed: signal 6 (SIGABRT)");
#else
  EXPECT_EQ(final_status(app, a.id()).state, TaskState::kFailure);
  EXPECT_EQ(final_status(app, t.id()).state, TaskState::kFailure);
#endif
  worker.request_stop();
  worker.wait();
}

TEST_F(ProcessPoolTest, CrashIsRetriedAndCrashLimitDeadLetters) {
  App app(app_options());
  auto poison = app.task(
      "poison", [] { segfault(); },
      TaskOptions{}.max_retries(10).backoff(Backoff::fixed(0ms)).crash_limit(3));
  Worker worker(app, pool(1));
  ASSERT_TRUE(worker.start().ok());
  auto r = poison.delay();
  TaskStatus st = final_status(app, r.id());
  worker.request_stop();
  worker.wait();
  EXPECT_EQ(st.state, TaskState::kDead);
  EXPECT_EQ(st.attempts, 3);
  ASSERT_EQ(st.errors.size(), 3u);
#ifndef __SANITIZE_ADDRESS__
  EXPECT_EQ(st.dead_reason, "crashed its worker process 3 times (last: SIGSEGV)");
#else
  EXPECT_NE(st.dead_reason.find("crashed its worker process 3 times"), std::string::npos);
#endif
}

TEST_F(ProcessPoolTest, HardTimeLimitKillsTheChildWithin100ms) {
  App app(app_options());
  auto loop = app.task(
      "loop",
      [](Context& ctx) {
        // Ignores cancellation: only a kill stops it (bounded for safety).
        auto end = std::chrono::steady_clock::now() + 30s;
        while (std::chrono::steady_clock::now() < end) {
        }
        return ctx.attempt();
      },
      TaskOptions{}.time_limit(1s));
  auto add = app.task("add", [](int a, int b) { return a + b; });
  Worker worker(app, pool(1));
  ASSERT_TRUE(worker.start().ok());
  auto r = loop.delay();
  TaskStatus st = final_status(app, r.id());
  EXPECT_EQ(st.state, TaskState::kFailure);
  EXPECT_EQ(st.error_type, "runq::TimeLimitExceeded");
  EXPECT_EQ(st.error, "time limit exceeded (1s)");
  Millis ran = st.finished - st.started;
  EXPECT_GE(ran, 1000);
  EXPECT_LE(ran, 1100) << "killed " << ran - 1000 << " ms after the limit";
  std::printf("hard limit 1s: the attempt ended after %lld ms\n", static_cast<long long>(ran));
  EXPECT_EQ(add.delay(2, 3).get(20s), 5);  // the child was replaced
  worker.request_stop();
  worker.wait();
}

TEST_F(ProcessPoolTest, PerCallHardLimitOverridesTheTask) {
  App app(app_options());
  auto loop = app.task("loop", [] {
    auto end = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < end) {
    }
  });
  Worker worker(app, pool(1));
  ASSERT_TRUE(worker.start().ok());
  auto r = loop.apply(EnqueueOptions{}.time_limit(300ms));
  TaskStatus st = final_status(app, r.id());
  EXPECT_EQ(st.error, "time limit exceeded (300ms)");
  worker.request_stop();
  worker.wait();
}

TEST_F(ProcessPoolTest, SoftTimeLimitRaisesCancelledInTheChild) {
  App app(app_options());
  auto soft = app.task(
      "soft",
      [](Context& ctx) {
        return spin_until_cancelled(ctx, 20s) ? std::string("cancelled") : std::string("ran out");
      },
      TaskOptions{}.soft_time_limit(200ms));
  Worker worker(app, pool(1));
  ASSERT_TRUE(worker.start().ok());
  auto r = soft.delay();
  EXPECT_EQ(r.get(20s), "cancelled");
  TaskStatus st = final_status(app, r.id());
  EXPECT_LT(st.finished - st.started, 2000);
  worker.request_stop();
  worker.wait();
}

TEST_F(ProcessPoolTest, GarbageOnStdoutAndStderrDoesNotCorruptTheTransport) {
  App app(app_options());
  auto noisy = app.task("noisy", [](int i) {
    std::string junk(256, '\0');
    for (std::size_t k = 0; k < junk.size(); ++k) junk[k] = static_cast<char>(k * 7 + 1);
    (void)!::write(1, junk.data(), junk.size());
    (void)!::write(2, junk.data(), junk.size());
    return i;
  });
  Worker worker(app, pool(2));
  ASSERT_TRUE(worker.start().ok());
  std::vector<AsyncResult<int>> rs;
  for (int i = 0; i < 8; ++i) rs.push_back(noisy.delay(i));
  for (int i = 0; i < 8; ++i) EXPECT_EQ(rs[i].get(20s), i);
  worker.request_stop();
  worker.wait();
}

TEST_F(ProcessPoolTest, ChildKilledFromOutsideFailsItsTask) {
  App app(app_options());
  std::string pid_file = dir_.file("child.pid");
  auto victim = app.task("victim", [pid_file](Context& ctx) {
    std::ofstream(pid_file + ".tmp") << ::getpid();
    std::rename((pid_file + ".tmp").c_str(), pid_file.c_str());
    spin_until_cancelled(ctx, 20s);
  });
  Worker worker(app, pool(1));
  ASSERT_TRUE(worker.start().ok());
  auto r = victim.delay();
  int pid = 0;
  ASSERT_TRUE(wait_until([&] { return bool(std::ifstream(pid_file) >> pid); }, 20s));
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  TaskStatus st = final_status(app, r.id());
  EXPECT_EQ(st.state, TaskState::kFailure);
  EXPECT_EQ(st.error, "worker process crashed: signal 9 (SIGKILL)");
  worker.request_stop();
  worker.wait();
}

// A child killed while it has no task is replaced; the next task runs in the replacement
// instead of failing as if it had crashed it.
TEST_F(ProcessPoolTest, ChildKilledWhileIdleIsReplacedWithoutFailingTheNextTask) {
  App app(app_options());
  auto pid = app.task("pid", [] { return static_cast<int>(::getpid()); });
  Worker worker(app, pool(1));
  ASSERT_TRUE(worker.start().ok());
  int first = pid.delay().get(20s);
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  ASSERT_TRUE(wait_until([&] { return ::kill(first, 0) != 0; }, 20s));
  auto r = pid.delay();
  TaskStatus st = final_status(app, r.id());
  EXPECT_EQ(st.state, TaskState::kSuccess) << st.error;
  EXPECT_EQ(st.attempts, 1);
  EXPECT_NE(r.get(20s), first);
  worker.request_stop();
  worker.wait();
}

TEST_F(ProcessPoolTest, MaxTasksPerChildRecyclesChildren) {
  App app(app_options());
  auto pid = app.task("pid", [] { return static_cast<int>(::getpid()); });
  WorkerOptions o = pool(1);
  o.max_tasks_per_child = 5;
  std::vector<AsyncResult<int>> rs;
  for (int i = 0; i < 20; ++i) rs.push_back(pid.delay());
  Worker worker(app, o);
  ASSERT_TRUE(worker.start().ok());
  std::map<int, int> per_pid;
  for (auto& r : rs) ++per_pid[r.get(20s)];
  worker.request_stop();
  worker.wait();
  EXPECT_EQ(per_pid.size(), 4u);
  for (auto [p, n] : per_pid) EXPECT_EQ(n, 5) << "child " << p;
}

// Autoscale 1..3: one child at first; while every child is busy and tasks wait, children are
// added up to 3; once idle, all but one retire.
TEST_F(ProcessPoolTest, AutoscaleGrowsWithBacklogAndShrinksWhenIdle) {
  App app(app_options());
  auto busy = app.task("busy", [] {
    // Keeps its child busy long enough for the backlog to be seen (the workload itself).
    std::this_thread::sleep_for(200ms);
    return static_cast<int>(::getpid());
  });
  auto pid = app.task("pid", [] { return static_cast<int>(::getpid()); });
  WorkerOptions o = pool(3);
  o.autoscale = {.min = 1, .idle_ms = 200};
  std::vector<AsyncResult<int>> rs;
  for (int i = 0; i < 15; ++i) rs.push_back(busy.delay());
  Worker worker(app, o);
  ASSERT_TRUE(worker.start().ok());
  std::set<int> pids;
  for (auto& r : rs) pids.insert(r.get(30s));
  EXPECT_EQ(pids.size(), 3u) << "did not grow to 3 children while tasks waited";
  auto alive = [&] {
    int n = 0;
    for (int p : pids) n += ::kill(p, 0) == 0 ? 1 : 0;
    return n;
  };
  EXPECT_TRUE(wait_until([&] { return alive() == 1; }, 20s)) << alive() << " children left";
  EXPECT_GT(pid.delay().get(20s), 0);  // the one left still runs tasks
  worker.request_stop();
  worker.wait();
}

// Task code in a child enqueues tasks of its own: each child opens its own store connection
// (App::forget_store_after_fork) and makes its own ids (the id generator is reseeded after a
// fork).
void check_children_enqueue(App& app) {
  auto leaf = app.task("leaf", [](int i) { return i; });
  auto fanout = app.task("fanout", [leaf](int base) {
    std::vector<std::string> ids;
    for (int i = 0; i < 20; ++i) ids.push_back(leaf.delay(base + i).id());
    return ids;
  });
  std::vector<std::string> warm;  // ids made in the worker process before the fork
  for (int i = 0; i < 3; ++i) warm.push_back(leaf.delay(-1).id());
  WorkerOptions o;
  o.concurrency = 2;
  o.pool = WorkerPool::kProcesses;
  Worker worker(app, o);
  ASSERT_TRUE(worker.start().ok());
  std::vector<AsyncResult<std::vector<std::string>>> rs;
  for (int k = 0; k < 10; ++k) rs.push_back(fanout.delay(100 * k));
  // An id is a millisecond time and 80 random bits: compare the random parts, which two
  // children with the same generator state would repeat even in different milliseconds.
  std::set<std::string> randoms;
  for (const std::string& id : warm) randoms.insert(id.substr(10));
  for (auto& r : rs) {
    for (const std::string& id : r.get(30s))
      EXPECT_TRUE(randoms.insert(id.substr(10)).second) << "random part made twice: " << id;
  }
  EXPECT_EQ(randoms.size(), 203u);
  for (int k = 0; k < 10; ++k) {
    for (int i = 0; i < 20; ++i) EXPECT_EQ(leaf.delay(100 * k + i).get(30s), 100 * k + i);
  }
  worker.request_stop();
  worker.wait();
}

TEST_F(ProcessPoolTest, TaskCodeInAChildEnqueuesOnSqlite) {
  App app(app_options());
  check_children_enqueue(app);
}

TEST_F(ProcessPoolTest, ThreadPoolRefusesHardLimitsWhenAskedTo) {
  App app(app_options());
  auto limited = app.task(
      "limited", [] { return 1; }, TaskOptions{}.time_limit(1s));
  WorkerOptions o;
  o.concurrency = 1;
  o.require_hard_limits = true;
  Worker worker(app, o);
  ASSERT_TRUE(worker.start().ok());
  auto r = limited.delay();
  TaskStatus st = final_status(app, r.id());
  worker.request_stop();
  worker.wait();
  EXPECT_EQ(st.state, TaskState::kFailure);
  EXPECT_EQ(st.error_type, "runq::HardLimitUnsupported");
  EXPECT_NE(st.error.find("--pool processes"), std::string::npos) << st.error;
}

// ---- revoke ---------------------------------------------------------------------------------

TEST_F(ProcessPoolTest, RevokedQueuedTaskNeverRuns) {
  App app(app_options());
  std::string marker = dir_.file("ran");
  auto touch = app.task("touch", [marker] { std::ofstream(marker) << "ran"; });
  auto add = app.task("add", [](int a, int b) { return a + b; });
  auto r = touch.delay();
  Result<TaskState> state = app.revoke(r.id());
  ASSERT_TRUE(state.ok()) << state.status().to_string();
  EXPECT_EQ(*state, TaskState::kRevoked);
  Worker worker(app, pool(1));
  ASSERT_TRUE(worker.start().ok());
  EXPECT_EQ(add.delay(1, 2).get(20s), 3);  // the worker ran what came after
  worker.request_stop();
  worker.wait();
  TaskStatus st = final_status(app, r.id());
  EXPECT_EQ(st.state, TaskState::kRevoked);
  EXPECT_EQ(st.task, "touch");
  EXPECT_FALSE(std::ifstream(marker).good()) << "a revoked task ran";
  // Revoking it again, or a finished task, changes nothing; an unknown id is NotFound.
  EXPECT_EQ(app.revoke(r.id()).value(), TaskState::kRevoked);
  EXPECT_TRUE(is_not_found(app.revoke("no-such-task").status()));
}

TEST_F(ProcessPoolTest, RevokeTerminateKillsTheRunningChildAfterTheGrace) {
  App app(app_options());
  std::string pid_file = dir_.file("child.pid");
  auto stubborn = app.task(
      "stubborn",
      [pid_file] {
        std::ofstream(pid_file + ".tmp") << ::getpid();
        std::rename((pid_file + ".tmp").c_str(), pid_file.c_str());
        auto end = std::chrono::steady_clock::now() + 30s;  // ignores cancellation
        while (std::chrono::steady_clock::now() < end) {
        }
      },
      TaskOptions{}.max_retries(3));
  auto add = app.task("add", [](int a, int b) { return a + b; });
  WorkerOptions o = pool(1);
  o.revoke_grace_ms = 200;
  Worker worker(app, o);
  ASSERT_TRUE(worker.start().ok());
  auto r = stubborn.delay();
  int pid = 0;
  ASSERT_TRUE(wait_until([&] { return bool(std::ifstream(pid_file) >> pid); }, 20s));
  auto t0 = std::chrono::steady_clock::now();
  Result<TaskState> state = app.revoke(r.id(), {.terminate = true});
  ASSERT_TRUE(state.ok()) << state.status().to_string();
  EXPECT_EQ(*state, TaskState::kReserved);
  TaskStatus st = final_status(app, r.id());
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(st.state, TaskState::kRevoked);  // not FAILURE, not retried
  EXPECT_EQ(st.error_type, "runq::Revoked");
  EXPECT_LT(took, 5s);
  EXPECT_TRUE(wait_until([&] { return ::kill(pid, 0) != 0; }, 5s)) << "the child still runs";
  EXPECT_EQ(add.delay(2, 2).get(20s), 4);  // replaced
  worker.request_stop();
  worker.wait();
}

TEST_F(ProcessPoolTest, RevokeTerminateCancelsARunningTaskInTheThreadPool) {
  App app(app_options());
  std::string started = dir_.file("started");
  auto polite = app.task(
      "polite",
      [started](Context& ctx) {
        std::ofstream(started) << "1";
        return spin_until_cancelled(ctx, 20s);
      },
      TaskOptions{}.max_retries(3));
  WorkerOptions o;
  o.concurrency = 1;
  Worker worker(app, o);
  ASSERT_TRUE(worker.start().ok());
  auto r = polite.delay();
  ASSERT_TRUE(wait_until([&] { return std::ifstream(started).good(); }, 20s));
  ASSERT_TRUE(app.revoke(r.id(), {.terminate = true}).ok());
  TaskStatus st = final_status(app, r.id());
  worker.request_stop();
  worker.wait();
  EXPECT_EQ(st.state, TaskState::kRevoked);
}

TEST_F(ProcessPoolTest, RevokeTerminateRaisesCancelledInTheChildBeforeTheGrace) {
  App app(app_options());
  std::string started = dir_.file("started");
  auto polite = app.task("polite", [started](Context& ctx) {
    std::ofstream(started) << ::getpid();
    spin_until_cancelled(ctx, 20s);
    return static_cast<int>(::getpid());
  });
  auto pid = app.task("pid", [] { return static_cast<int>(::getpid()); });
  WorkerOptions o = pool(1);
  o.revoke_grace_ms = 30'000;  // the child is not killed: it stops on its own
  Worker worker(app, o);
  ASSERT_TRUE(worker.start().ok());
  auto r = polite.delay();
  int child = 0;
  ASSERT_TRUE(wait_until([&] { return bool(std::ifstream(started) >> child); }, 20s));
  ASSERT_TRUE(app.revoke(r.id(), {.terminate = true}).ok());
  TaskStatus st = final_status(app, r.id());
  EXPECT_EQ(st.state, TaskState::kRevoked);
  EXPECT_LT(st.finished - st.started, 10'000);
  EXPECT_EQ(pid.delay().get(20s), child) << "the child was replaced instead of cancelled";
  worker.request_stop();
  worker.wait();
}

}  // namespace
}  // namespace runq
