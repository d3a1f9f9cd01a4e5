// `revoke --terminate` reaches a running task promptly, not at the worker's next heartbeat:
// with the default 2 s heartbeat, a task that watches Context::cancelled() ends REVOKED well
// under a second after App::revoke, in both pools, on SQLite, a real Redis and a real
// PostgreSQL; in the process pool a task that ignores its cancellation is killed after
// revoke_grace_ms.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "runq/runq.hpp"
#include "support/pool_case.hpp"
#include "support/wait.hpp"

namespace runq {
namespace {

using namespace std::chrono_literals;
using testing::wait_until;

using testing::pool_case_name;
using testing::PoolCase;

class PromptRevokeTest : public ::testing::TestWithParam<PoolCase> {
 protected:
  // The store URL for this case, or empty (after ADD_FAILURE under CI) when its server cannot
  // start.
  std::string store_url() { return servers_.url(GetParam().store); }
  WorkerOptions pool() {
    WorkerOptions o;
    o.concurrency = 1;
    o.pool = GetParam().pool;
    o.grace_ms = 5000;
    o.heartbeat_ms = 2000;  // the default: a revoke read only with heartbeats would take ~2 s
    return o;
  }
  testing::StoreServers servers_;
};

TEST_P(PromptRevokeTest, TerminateReachesARunningTaskWellBeforeTheHeartbeat) {
  const std::string url = store_url();
  if (url.empty()) GTEST_SKIP() << GetParam().store << " server not available";
  App app(AppOptions{.store_url = url});
  std::string started = servers_.file("started");
  auto polite = app.task(
      "polite",
      [started](Context& ctx, int round) {
        std::ofstream(started + std::to_string(round)) << "1";
        auto end = std::chrono::steady_clock::now() + 20s;  // bound, never reached
        while (!ctx.cancelled() && std::chrono::steady_clock::now() < end) {
        }
        return ctx.cancelled();
      },
      TaskOptions{}.max_retries(3));
  auto add = app.task("add", [](int a, int b) { return a + b; });
  WorkerOptions o = pool();
  o.revoke_grace_ms = 30'000;  // processes: the child is not killed, it stops on its own
  Worker worker(app, o);
  ASSERT_TRUE(worker.start().ok());
  Millis slowest = 0;
  for (int round = 0; round < 5; ++round) {
    auto r = polite.delay(round);
    const std::string mark = started + std::to_string(round);
    ASSERT_TRUE(wait_until([&] { return std::ifstream(mark).good(); }, 20s));
    auto t0 = std::chrono::steady_clock::now();
    Result<TaskState> state = app.revoke(r.id(), {.terminate = true});
    ASSERT_TRUE(state.ok()) << state.status().to_string();
    EXPECT_EQ(*state, TaskState::kReserved);
    Result<TaskStatus> st = wait_task_status(*app.store(), r.id(), 20'000);
    auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    ASSERT_TRUE(st.ok()) << st.status().to_string();
    EXPECT_EQ(st->state, TaskState::kRevoked);  // not FAILURE, not retried
    EXPECT_EQ(st->error_type, "runq::Revoked");
    EXPECT_EQ(st->attempts, 1);
    slowest = std::max<Millis>(slowest, took);
  }
  // Default revoke_poll_ms is 50 ms; the bound leaves room for a loaded machine and is still
  // well under the 2 s heartbeat the requests were read with before.
  EXPECT_LT(slowest, 800) << "revoke --terminate took " << slowest << " ms to end the task";
  std::printf("revoke --terminate → REVOKED: slowest of 5: %lld ms\n",
              static_cast<long long>(slowest));
  EXPECT_EQ(add.delay(2, 3).get(20s), 5);
  worker.request_stop();
  worker.wait();
}

// Processes only: a thread cannot be killed.
class PromptRevokeKillTest : public PromptRevokeTest {};

TEST_P(PromptRevokeKillTest, TerminateKillsAChildThatIgnoresItAfterTheGrace) {
  const std::string url = store_url();
  if (url.empty()) GTEST_SKIP() << GetParam().store << " server not available";
  App app(AppOptions{.store_url = url});
  std::string pid_file = servers_.file("child.pid");
  auto stubborn = app.task("stubborn", [pid_file] {
    std::ofstream(pid_file + ".tmp") << ::getpid();
    std::rename((pid_file + ".tmp").c_str(), pid_file.c_str());
    auto end = std::chrono::steady_clock::now() + 30s;  // ignores cancellation
    while (std::chrono::steady_clock::now() < end) {
    }
  });
  auto add = app.task("add", [](int a, int b) { return a + b; });
  WorkerOptions o = pool();
  o.revoke_grace_ms = 200;
  Worker worker(app, o);
  ASSERT_TRUE(worker.start().ok());
  auto r = stubborn.delay();
  int pid = 0;
  ASSERT_TRUE(wait_until([&] { return bool(std::ifstream(pid_file) >> pid); }, 20s));
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(app.revoke(r.id(), {.terminate = true}).ok());
  Result<TaskStatus> st = wait_task_status(*app.store(), r.id(), 20'000);
  auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  ASSERT_TRUE(st.ok()) << st.status().to_string();
  EXPECT_EQ(st->state, TaskState::kRevoked);
  EXPECT_GE(took, 200) << "killed before the grace";
  EXPECT_LT(took, 1000) << "grace 200 ms, but the task ended " << took << " ms after the revoke";
  EXPECT_TRUE(wait_until([&] { return ::kill(pid, 0) != 0; }, 5s)) << "the child still runs";
  EXPECT_EQ(add.delay(2, 2).get(20s), 4);  // replaced
  worker.request_stop();
  worker.wait();
}

std::vector<PoolCase> cases(bool with_threads) {
  std::vector<PoolCase> out;
  std::vector<const char*> stores = {"sqlite", "redis"};
#ifdef RUNQ_WITH_POSTGRES
  stores.push_back("postgres");
#endif
  for (const char* store : stores) {
    if (with_threads) out.push_back({store, WorkerPool::kThreads});
    out.push_back({store, WorkerPool::kProcesses});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Stores, PromptRevokeTest, ::testing::ValuesIn(cases(true)),
                         pool_case_name);
INSTANTIATE_TEST_SUITE_P(Processes, PromptRevokeKillTest, ::testing::ValuesIn(cases(false)),
                         pool_case_name);

}  // namespace
}  // namespace runq
