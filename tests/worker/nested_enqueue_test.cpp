// A task that enqueues another task from inside its body, in both pools, on SQLite, a real
// Redis and a real PostgreSQL: the outer task's result and the inner task's result are both
// checked. In the process pool the body runs in a forked child, which must talk to the store
// over its own connections, never over those it inherited from the worker.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <string>
#include <tuple>
#include <vector>

#include "runq/runq.hpp"
#include "support/pool_case.hpp"

namespace runq {
namespace {

using namespace std::chrono_literals;

using testing::pool_case_name;
using testing::PoolCase;

class NestedEnqueueTest : public ::testing::TestWithParam<PoolCase> {
 protected:
  // The store URL for this case, or empty (after ADD_FAILURE under CI) when its server cannot
  // start.
  std::string store_url() { return servers_.url(GetParam().store); }
  WorkerOptions pool() {
    WorkerOptions o;
    o.concurrency = 2;
    o.pool = GetParam().pool;
    o.grace_ms = 5000;
    return o;
  }
  testing::StoreServers servers_;
};

TEST_P(NestedEnqueueTest, TaskEnqueuesAnotherFromItsBody) {
  const std::string url = store_url();
  if (url.empty()) GTEST_SKIP() << GetParam().store << " server not available";
  App app(AppOptions{.store_url = url});
  auto add = app.task("add", [](int a, int b) { return a + b; });
  // Enqueues `add(i, 1)` and returns the inner id with the pid that enqueued it.
  auto outer = app.task("outer", [add](int i) {
    AsyncResult<int> inner = add.delay(i, 1);
    return std::make_tuple(inner.id(), static_cast<int>(::getpid()));
  });
  // Enqueues in the producer too, before the worker starts: the App's store is open in the
  // worker process when the pool's children are forked.
  std::vector<AsyncResult<std::tuple<std::string, int>>> outers;
  for (int i = 0; i < 40; ++i) outers.push_back(outer.delay(i));
  Worker worker(app, pool());
  ASSERT_TRUE(worker.start().ok());
  for (int i = 40; i < 80; ++i) outers.push_back(outer.delay(i));
  for (int i = 0; i < 80; ++i) {
    std::tuple<std::string, int> got = outers[i].get(30s);
    if (GetParam().pool == WorkerPool::kProcesses) {
      EXPECT_NE(std::get<1>(got), static_cast<int>(::getpid())) << "ran in the worker process";
    }
    AsyncResult<int> inner(app.store(), std::get<0>(got), &app.clock());
    EXPECT_EQ(inner.get(30s), i + 1) << "inner task of outer " << i;
  }
  // The worker's own connections still work after the children used theirs.
  EXPECT_EQ(add.delay(20, 22).get(30s), 42);
  worker.request_stop();
  worker.wait();
  WorkerCounters c = worker.counters();
  EXPECT_EQ(c.succeeded, 161u);
  EXPECT_EQ(c.failed, 0u);
}

// A store handle taken in the worker process before the children were forked (here inside an
// AsyncResult the task captured) and then used by task code in a child: the child must open
// its own connections rather than reuse the worker's pooled ones.
TEST_P(NestedEnqueueTest, TaskUsesAStoreHandleOpenedBeforeTheFork) {
  const std::string url = store_url();
  if (url.empty()) GTEST_SKIP() << GetParam().store << " server not available";
  App app(AppOptions{.store_url = url});
  auto add = app.task("add", [](int a, int b) { return a + b; });
  AsyncResult<int> first = add.delay(1, 2);
  // Reads `first` through the captured handle, and enqueues through the App.
  auto reader = app.task("reader", [first, add](int i) {
    int inner = add.delay(i, first.get(20s)).get(20s);  // waits for a task another child runs
    return first.get(20s) * 1000 + inner;
  });
  WorkerOptions opts = pool();
  opts.concurrency = 3;  // two readers waiting, one slot free for their inner tasks
  Worker worker(app, opts);
  ASSERT_TRUE(worker.start().ok());
  for (int round = 0; round < 10; ++round) {
    auto a = reader.delay(round);
    auto b = reader.delay(round + 100);
    EXPECT_EQ(a.get(30s), 3000 + round + 3);
    EXPECT_EQ(b.get(30s), 3000 + round + 103);
  }
  worker.request_stop();
  worker.wait();
  EXPECT_EQ(worker.counters().failed, 0u);
}

std::vector<PoolCase> cases() {
  std::vector<PoolCase> out = {{"sqlite", WorkerPool::kThreads},
                               {"sqlite", WorkerPool::kProcesses},
                               {"redis", WorkerPool::kThreads},
                               {"redis", WorkerPool::kProcesses}};
#ifdef RUNQ_WITH_POSTGRES
  out.push_back({"postgres", WorkerPool::kThreads});
  out.push_back({"postgres", WorkerPool::kProcesses});
#endif
  return out;
}

INSTANTIATE_TEST_SUITE_P(Stores, NestedEnqueueTest, ::testing::ValuesIn(cases()), pool_case_name);

}  // namespace
}  // namespace runq
