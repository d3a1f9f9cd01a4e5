// The worker in-process against a real SQLite file: execution, leases kept alive by the lease
// keeper, graceful shutdown, soft time limits, and settlement of every outcome.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "runq/runq.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace runq {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;
using testing::wait_until;

class WorkerTest : public ::testing::Test {
 protected:
  AppOptions app_options() { return AppOptions{.store_url = "sqlite:" + dir_.file("runq.db")}; }
  TempDir dir_;
};

TEST_F(WorkerTest, RunsTasksAndStoresResults) {
  App app(app_options());
  auto add = app.task("add", [](int a, int b) { return a + b; });
  std::vector<AsyncResult<int>> results;
  for (int i = 0; i < 50; ++i) results.push_back(add.delay(i, i));

  Worker worker(app, WorkerOptions{.concurrency = 4, .max_tasks = 50});
  ASSERT_TRUE(worker.run().ok());

  for (int i = 0; i < 50; ++i) EXPECT_EQ(results[i].get(1s), 2 * i);
  EXPECT_EQ(worker.counters().succeeded, 50u);
}

// Executors take turns fetching: all of them run tasks at once, never more than the
// concurrency, and every task runs exactly once.
TEST_F(WorkerTest, RunsConcurrencyTasksAtOnceAndNeverMore) {
  App app(app_options());
  std::atomic<int> running{0}, most{0}, runs{0};
  auto gate = app.task("gate", [&](int) {
    int now = ++running;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    ++runs;
    wait_until([&] { return most.load() >= 3; }, 5s);  // until three ran side by side
    --running;
    return 0;
  });
  std::vector<AsyncResult<int>> results;
  for (int i = 0; i < 30; ++i) results.push_back(gate.delay(i));
  Worker worker(app, WorkerOptions{.concurrency = 3, .max_tasks = 30});
  ASSERT_TRUE(worker.run().ok());
  for (auto& r : results) EXPECT_EQ(r.get(1s), 0);
  EXPECT_EQ(most.load(), 3);
  EXPECT_EQ(runs.load(), 30);
}

// A task enqueued while every executor is idle is picked up by the one waiting in the store.
TEST_F(WorkerTest, IdleWorkerPicksUpTasksEnqueuedLater) {
  App app(app_options());
  std::atomic<int> runs{0};
  auto count = app.task("count", [&] { return ++runs; });
  Worker worker(app, WorkerOptions{.concurrency = 2});
  ASSERT_TRUE(worker.start().ok());
  for (int i = 1; i <= 5; ++i) {
    auto r = count.delay();
    EXPECT_EQ(r.get(5s), i);  // one at a time: each arrives at an idle worker
  }
  worker.request_stop();
  worker.wait();
  EXPECT_EQ(worker.counters().succeeded, 5u);
}

TEST_F(WorkerTest, LeaseKeeperKeepsALongTaskFromBeingRedelivered) {
  App app(app_options());
  std::atomic<int> runs{0};
  std::atomic<bool> release{false};
  auto slow = app.task("slow", [&] {
    ++runs;
    wait_until([&] { return release.load(); }, 10s);
    return 1;
  });
  auto r = slow.delay();
  Worker a(app, WorkerOptions{.concurrency = 1, .lease_ms = 300});
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(wait_until([&] { return runs.load() == 1; }));

  // A second worker polls for work for several lease periods: the lease must stay alive.
  Worker b(app, WorkerOptions{.concurrency = 1, .lease_ms = 300});
  ASSERT_TRUE(b.start().ok());
  auto start = std::chrono::steady_clock::now();
  wait_until([&] { return runs.load() > 1; }, 1500ms);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1400ms);
  release = true;

  EXPECT_EQ(r.get(5s), 1);
  EXPECT_EQ(runs.load(), 1);
  a.request_stop();
  b.request_stop();
}

TEST_F(WorkerTest, GracefulStopFinishesRunningAndReleasesPrefetched) {
  App app(app_options());
  std::atomic<int> started{0};
  std::atomic<bool> release{false};
  auto job = app.task("job", [&](int i) {
    ++started;
    wait_until([&] { return release.load(); }, 10s);
    return i;
  });
  std::vector<AsyncResult<int>> rs;
  for (int i = 0; i < 6; ++i) rs.push_back(job.delay(i));
  Worker w(app, WorkerOptions{.concurrency = 2, .prefetch = 4});
  ASSERT_TRUE(w.start().ok());
  ASSERT_TRUE(wait_until([&] { return started.load() == 2; }));
  auto store = app.store();
  ASSERT_TRUE(wait_until([&] {
    auto st = store->stats(Clock::system().now_ms());
    return st.ok() && !st->queues.empty() && st->queues[0].running == 6;
  }));

  w.request_stop();
  // Released at once: the 4 prefetched tasks are pending again while 2 still run.
  ASSERT_TRUE(wait_until([&] {
    auto st = store->stats(Clock::system().now_ms());
    return st.ok() && st->queues[0].pending == 4 && st->queues[0].running == 2;
  }));
  release = true;
  w.wait();

  EXPECT_EQ(started.load(), 2);
  int done = 0;
  for (auto& r : rs) done += r.state() == TaskState::kSuccess;
  EXPECT_EQ(done, 2);
  Worker w2(app, WorkerOptions{.concurrency = 2, .max_tasks = 4});
  ASSERT_TRUE(w2.run().ok());
  for (int i = 0; i < 6; ++i) EXPECT_EQ(rs[i].get(1s), i);
}

TEST_F(WorkerTest, SoftTimeLimitCancelsTheContext) {
  App app(app_options());
  auto t = app.task(
      "limited",
      [](Context& ctx) {
        bool cancelled = wait_until([&] { return ctx.cancelled(); }, 10s);
        if (cancelled) throw std::runtime_error("stopped at the time limit");
        return 0;
      },
      TaskOptions{}.time_limit(100ms));
  auto r = t.delay();

  Worker w(app, WorkerOptions{.concurrency = 1, .max_tasks = 1});
  ASSERT_TRUE(w.run().ok());

  EXPECT_THROW(r.get(1s), TaskFailed);
  EXPECT_EQ(r.status().error, "stopped at the time limit");
}

TEST_F(WorkerTest, RetryIsScheduledAndVisibleAsRetry) {
  App app(app_options());
  auto t = app.task(
      "flaky",
      [](Context& ctx) {
        if (ctx.attempt() == 1) throw std::runtime_error("upstream 503");
        return ctx.attempt();
      },
      TaskOptions{}.max_retries(2).backoff(Backoff::fixed(400ms)));
  auto r = t.delay();
  Worker w(app, WorkerOptions{.concurrency = 1, .max_tasks = 2});
  ASSERT_TRUE(w.start().ok());

  ASSERT_TRUE(wait_until([&] { return r.state() == TaskState::kRetry; }));
  TaskStatus st = r.status();
  EXPECT_EQ(st.error, "upstream 503");
  EXPECT_GT(st.next_run, 0);

  EXPECT_EQ(r.get(5s), 2);
  w.wait();
}

TEST_F(WorkerTest, ProgressIsVisibleWhileRunning) {
  App app(app_options());
  std::atomic<bool> release{false};
  auto t = app.task("progress", [&](Context& ctx) {
    ctx.progress(0.5);
    wait_until([&] { return release.load(); }, 10s);
  });
  auto r = t.delay();
  Worker w(app, WorkerOptions{.concurrency = 1, .max_tasks = 1});
  ASSERT_TRUE(w.start().ok());

  EXPECT_TRUE(wait_until([&] { return r.status().progress == 0.5; }));
  release = true;
  w.wait();
  EXPECT_EQ(r.state(), TaskState::kSuccess);
}

TEST_F(WorkerTest, ExpiredTaskEndsExpiredWithoutRunning) {
  ManualClock clock;
  AppOptions opts = app_options();
  opts.clock = &clock;
  App app(opts);
  std::atomic<int> runs{0};
  auto t = app.task("late", [&] { ++runs; });
  auto r = t.apply(EnqueueOptions{}.expires(1s));
  clock.advance(2000);

  Worker w(app, WorkerOptions{.concurrency = 1, .max_tasks = 1});
  ASSERT_TRUE(w.run().ok());

  EXPECT_EQ(runs.load(), 0);
  EXPECT_EQ(r.state(), TaskState::kExpired);
}

// A worker stopped (or starved) past its leases must not start the tasks it had buffered:
// another worker may be running them already. They are dropped and redelivered, so each
// runs once.
TEST_F(WorkerTest, BufferedTasksWhoseLeaseLapsedAreNotStarted) {
  ManualClock clock;
  AppOptions opts = app_options();
  opts.clock = &clock;
  App app(opts);
  std::atomic<bool> release{false};
  std::atomic<int> blocking{0};
  std::mutex mu;
  std::map<std::string, int> runs;
  auto block = app.task("block", [&] {
    ++blocking;
    wait_until([&] { return release.load(); }, 20s);
  });
  auto quick = app.task("quick", [&](Context& ctx) {
    std::lock_guard lock(mu);
    ++runs[ctx.id()];
  });
  block.delay();
  std::vector<AsyncResult<void>> q;
  for (int i = 0; i < 3; ++i) q.push_back(quick.delay());

  Worker w(app, WorkerOptions{.concurrency = 1, .lease_ms = 1000, .prefetch = 4});
  ASSERT_TRUE(w.start().ok());
  ASSERT_TRUE(wait_until([&] { return blocking.load() == 1; }));
  ASSERT_TRUE(wait_until([&] {  // the three are reserved: in this worker's buffer
    for (auto& r : q)
      if (r.state() != TaskState::kReserved) return false;
    return true;
  }));
  clock.advance(5000);  // every lease lapses, as after a SIGSTOP
  release = true;

  ASSERT_TRUE(wait_until([&] {
    for (auto& r : q)
      if (r.state() != TaskState::kSuccess) return false;
    return true;
  }));
  w.request_stop();
  w.wait();
  EXPECT_GE(w.counters().lapsed, 3u);
  std::lock_guard lock(mu);
  ASSERT_EQ(runs.size(), 3u);
  for (const auto& [id, n] : runs) EXPECT_EQ(n, 1) << id;
}

TEST_F(WorkerTest, MalformedMessageIsDeadLetteredAndWorkerContinues) {
  App app(app_options());
  auto add = app.task("add", [](int a, int b) { return a + b; });
  NewTask garbage{.id = "garbage-1", .body = "{\"id\":\"garbage-1\",\"task\":\"add\",\"args\":[1,"};
  ASSERT_TRUE(app.store()->enqueue(std::span(&garbage, 1), Clock::system().now_ms()).ok());
  auto good = add.delay(1, 2);

  Worker w(app, WorkerOptions{.concurrency = 1, .max_tasks = 2});
  ASSERT_TRUE(w.run().ok());

  EXPECT_EQ(good.get(1s), 3);
  auto dead = app.store()->list_dead(10);
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_NE((*dead)[0].reason.find("decoding task message"), std::string::npos)
      << (*dead)[0].reason;
}

}  // namespace
}  // namespace runq
