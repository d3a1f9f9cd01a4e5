// The default (adaptive) prefetch does not hoard: two workers with default options share a
// small backlog of slow-ish tasks.
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "runq/runq.hpp"
#include "support/temp_dir.hpp"

namespace runq {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

TEST(WorkerFairnessTest, TwoDefaultWorkersBothGetWorkFromASmallBacklog) {
  TempDir dir;
  App app(AppOptions{.store_url = "sqlite:" + dir.file("runq.db")});
  auto slow = app.task("slow", [](int i) {
    std::this_thread::sleep_for(50ms);  // the workload, not synchronisation
    return i;
  });
  std::vector<AsyncResult<int>> results;
  for (int i = 0; i < 20; ++i) results.push_back(slow.delay(i));

  Worker a(app, WorkerOptions{.concurrency = 2, .id = "worker-a"});
  Worker b(app, WorkerOptions{.concurrency = 2, .id = "worker-b"});
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(b.start().ok());
  std::map<std::string, int> ran_on;
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(results[i].get(30s), i);
    ++ran_on[results[i].status().worker];
  }

  // Had one worker reserved the whole backlog, the other would have run nothing.
  EXPECT_GE(ran_on["worker-a"], 4);
  EXPECT_GE(ran_on["worker-b"], 4);
  EXPECT_EQ(ran_on["worker-a"] + ran_on["worker-b"], 20);
}

}  // namespace
}  // namespace runq
