// App's flow-control calls on a real SQLite store: pause/resume, limit, QueueFull from the
// typed API, and EnqueueOptions::block_when_full.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "runq/runq.hpp"
#include "support/status_matchers.hpp"
#include "support/temp_dir.hpp"

namespace runq {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::StatusIs;
using testing::TempDir;

class QueueControlTest : public ::testing::Test {
 protected:
  QueueControlTest()
      : app_(AppOptions{.store_url = "sqlite:" + dir_.file("runq.db"), .clock = &clock_}),
        noop_(app_.task("noop", [] { return 0; })) {}

  std::size_t reserve_all(const std::string& queue) {
    Result<std::vector<Delivery>> got =
        app_.store()->reserve({{queue}, "w", 100, 10'000, clock_.now_ms()});
    EXPECT_TRUE(got.ok());
    return got.ok() ? got->size() : 0;
  }

  TempDir dir_;
  ManualClock clock_;
  App app_;
  TaskHandle<int> noop_;
};

TEST_F(QueueControlTest, PausedQueueIsListedAndHandsOutNothingUntilResumed) {
  noop_.apply(EnqueueOptions{}.queue("q"));

  RUNQ_ASSERT_OK(app_.pause_queue("q"));

  EXPECT_EQ(reserve_all("q"), 0u);
  Result<std::vector<QueueControl>> controls = app_.queue_controls();
  ASSERT_TRUE(controls.ok());
  ASSERT_EQ(controls->size(), 1u);
  EXPECT_TRUE(controls->front().paused);
  RUNQ_ASSERT_OK(app_.resume_queue("q"));
  EXPECT_EQ(reserve_all("q"), 1u);
}

TEST_F(QueueControlTest, EnqueueIntoAFullQueueThrowsQueueFullAndAddsNothing) {
  RUNQ_ASSERT_OK(app_.limit_queue("q", 2));
  noop_.apply(EnqueueOptions{}.queue("q"));

  try {
    std::vector<std::tuple<>> two(2);
    noop_.delay_many(two, EnqueueOptions{}.queue("q"));
    FAIL() << "no QueueFull";
  } catch (const QueueFull& e) {
    EXPECT_EQ(e.status().code(), StatusCode::kResourceExhausted);
    EXPECT_THAT(e.what(), HasSubstr("queue 'q' is full (2 tasks)"));
  }

  EXPECT_EQ(reserve_all("q"), 1u);
}

TEST_F(QueueControlTest, BlockWhenFullGivesUpAfterItsTimeout) {
  RUNQ_ASSERT_OK(app_.limit_queue("q", 1));
  noop_.apply(EnqueueOptions{}.queue("q"));
  auto start = std::chrono::steady_clock::now();

  EXPECT_THROW(noop_.apply(EnqueueOptions{}.queue("q").block_when_full(150ms)), QueueFull);

  EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
}

TEST_F(QueueControlTest, BlockWhenFullEnqueuesOnceThereIsRoom) {
  RUNQ_ASSERT_OK(app_.limit_queue("q", 1));
  noop_.apply(EnqueueOptions{}.queue("q"));
  std::string id;
  std::thread producer(
      [&] { id = noop_.apply(EnqueueOptions{}.queue("q").block_when_full(30s)).id(); });

  // Room appears when a worker takes the queued task.
  EXPECT_EQ(reserve_all("q"), 1u);
  producer.join();

  EXPECT_FALSE(id.empty());
  EXPECT_EQ(reserve_all("q"), 1u);
}

TEST_F(QueueControlTest, BadQueueNameAndNegativeLimitAreRefused) {
  EXPECT_THAT(app_.pause_queue(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(app_.limit_queue("q", -1), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace runq
