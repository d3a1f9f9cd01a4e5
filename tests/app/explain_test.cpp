// App::explain on a real SQLite store: where a task stands and why it is not running (yet).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runq/runq.hpp"
#include "support/status_matchers.hpp"
#include "support/temp_dir.hpp"

namespace runq {
namespace {

using namespace std::chrono_literals;
using Reason = TaskExplanation::Reason;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using testing::StatusIs;
using testing::TempDir;

class ExplainTest : public ::testing::Test {
 protected:
  ExplainTest()
      : app_(AppOptions{.store_url = "sqlite:" + dir_.file("runq.db"), .clock = &clock_}),
        noop_(app_.task("noop", [] { return 0; })) {}

  // A live worker in the registry listening on `queue` (its heartbeat expires in a minute).
  void heartbeat(const std::string& id, const std::string& queue = "default") {
    WorkerInfo w;
    w.id = id;
    w.queues = {queue};
    w.last_seen = clock_.now_ms();
    w.expires = clock_.now_ms() + 60'000;
    RUNQ_ASSERT_OK(app_.store()->heartbeat(w));
  }

  Delivery reserve(const std::string& worker) {
    Result<std::vector<Delivery>> got =
        app_.store()->reserve({{"default"}, worker, 1, 10'000, clock_.now_ms()});
    EXPECT_TRUE(got.ok() && got->size() == 1);
    return got.ok() && !got->empty() ? got->front() : Delivery{};
  }

  TempDir dir_;
  ManualClock clock_;
  App app_;
  TaskHandle<int> noop_;
};

TEST_F(ExplainTest, UnknownIdIsNotFound) {
  EXPECT_THAT(app_.explain("no-such-task").status(), StatusIs(StatusCode::kNotFound));
}

TEST_F(ExplainTest, QueuedTaskWithoutWorkerSaysNoWorkerListens) {
  std::string id = noop_.delay().id();

  RUNQ_ASSERT_OK_AND_ASSIGN(TaskExplanation e, app_.explain(id));

  EXPECT_EQ(e.reason, Reason::kNoWorker);
  EXPECT_EQ(e.live_workers, 0);
  ASSERT_THAT(e.reasons, SizeIs(1));
  EXPECT_THAT(e.why(), HasSubstr("no live worker listens on queue 'default'"));
}

TEST_F(ExplainTest, QueuedTaskWithLiveWorkerWaitsInItsQueue) {
  heartbeat("w1");
  std::string id = noop_.delay().id();

  RUNQ_ASSERT_OK_AND_ASSIGN(TaskExplanation e, app_.explain(id));

  EXPECT_EQ(e.reason, Reason::kQueued);
  EXPECT_EQ(e.live_workers, 1);
  EXPECT_EQ(e.queue_pending, 1);
  EXPECT_THAT(e.why(), HasSubstr("waiting in queue 'default' (1 pending, 1 live worker(s)"));
}

TEST_F(ExplainTest, ScheduledTaskGivesItsTimeAndTheMissingWorker) {
  std::string id = noop_.apply(EnqueueOptions{}.countdown(1h)).id();

  RUNQ_ASSERT_OK_AND_ASSIGN(TaskExplanation e, app_.explain(id));

  EXPECT_EQ(e.reason, Reason::kScheduled);
  EXPECT_EQ(e.status.next_run, clock_.now_ms() + 3'600'000);
  ASSERT_THAT(e.reasons, SizeIs(2));
  EXPECT_THAT(e.reasons[0], HasSubstr("scheduled for"));
  EXPECT_THAT(e.reasons[0], HasSubstr("(in 1h)"));
  EXPECT_THAT(e.reasons[1], HasSubstr("no live worker listens"));
}

TEST_F(ExplainTest, TaskOnLiveWorkerIsRunning) {
  heartbeat("w1");
  std::string id = noop_.delay().id();
  reserve("w1");

  RUNQ_ASSERT_OK_AND_ASSIGN(TaskExplanation e, app_.explain(id));

  EXPECT_EQ(e.reason, Reason::kRunning);
  EXPECT_EQ(e.lease_expires, clock_.now_ms() + 10'000);
  EXPECT_THAT(e.why(), HasSubstr("running on worker w1"));
}

TEST_F(ExplainTest, TaskOfWorkerThatStoppedHeartbeatingIsRedeliveredAfterItsLease) {
  std::string id = noop_.delay().id();
  reserve("gone");

  RUNQ_ASSERT_OK_AND_ASSIGN(TaskExplanation held, app_.explain(id));
  clock_.advance(11'000);
  RUNQ_ASSERT_OK_AND_ASSIGN(TaskExplanation lapsed, app_.explain(id));

  EXPECT_EQ(held.reason, Reason::kWorkerLost);
  EXPECT_THAT(held.why(), HasSubstr("stopped heartbeating; its lease lapses in 10s"));
  EXPECT_EQ(lapsed.reason, Reason::kLeaseLapsed);
  EXPECT_THAT(lapsed.why(), HasSubstr("its lease lapsed 1s ago"));
}

TEST_F(ExplainTest, DeadTaskIsFinalWithItsReason) {
  std::string id = noop_.delay().id();
  Delivery d = reserve("w1");
  Settlement s;
  s.outcome = Outcome::kDeadLetter;
  s.id = d.id;
  s.token = d.token;
  s.state = TaskState::kDead;
  s.reason = "unknown task 'noop'";
  std::vector<Settlement> one{s};
  RUNQ_ASSERT_OK(app_.store()->settle(one, clock_.now_ms()).status());

  RUNQ_ASSERT_OK_AND_ASSIGN(TaskExplanation e, app_.explain(id));

  EXPECT_EQ(e.status.state, TaskState::kDead);
  EXPECT_EQ(e.reason, Reason::kFinal);
  EXPECT_EQ(e.why(), "dead-lettered: unknown task 'noop'");
}

}  // namespace
}  // namespace runq
