// The settler against a real SQLite store behind a wrapper that fails the first settle calls
// the way a store out of space does: finished work is kept and written once space is back.
#include "worker/internal/settler.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include "runq/runq.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace runq {
namespace {

using namespace std::chrono_literals;

// Fails the first `failures` settle calls with `error`, then forwards them.
class FailingSettle : public StoreWrapper {
 public:
  FailingSettle(Store* target, int failures, Status error)
      : StoreWrapper(target), failures_(failures), error_(std::move(error)) {}
  Result<std::vector<bool>> settle(std::span<const Settlement> s, Millis now) override {
    ++calls_;
    if (failures_-- > 0) return error_;
    return StoreWrapper::settle(s, now);
  }
  int calls() const { return calls_; }

 private:
  std::atomic<int> failures_;
  Status error_;
  std::atomic<int> calls_{0};
};

class SettlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<Store>> s = open_store("sqlite:" + dir_.file("runq.db"));
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    store_ = std::move(*s);
    const std::vector<NewTask> batch = {NewTask{.id = "t1", .body = std::string("{}")}};
    ASSERT_TRUE(store_->enqueue(batch, now()).ok());
    Result<std::vector<Delivery>> d = store_->reserve(ReserveRequest{
        .queues = {std::string(kDefaultQueue)}, .worker_id = "w", .max = 1, .now = now()});
    ASSERT_TRUE(d.ok() && d->size() == 1);
    delivery_ = d->front();
  }
  static Millis now() { return Clock::system().now_ms(); }
  TaskState state_of(const std::string& id) {
    Result<TaskInfo> info = store_->get_task(id, now());
    return info.ok() ? info->state : TaskState::kPending;
  }
  Settlement ack() const {
    Settlement s;
    s.id = delivery_.id;
    s.token = delivery_.token;
    return s;
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  Delivery delivery_;
  internal::LeaseTable leases_;
};

// A store that is full (SQLite's disk, Redis at maxmemory) or restarting fails a few settles;
// the settler keeps the batch and writes it once the store takes it again.
struct TransientFault {
  const char* name;
  Status status;
  int failures;
};

class SettlerRetryTest : public SettlerTest,
                         public ::testing::WithParamInterface<TransientFault> {};

TEST_P(SettlerRetryTest, IsRetriedUntilTheResultIsWritten) {
  FailingSettle faulty(store_.get(), GetParam().failures, GetParam().status);
  leases_.add({delivery_});
  internal::Settler settler(faulty, Clock::system(), leases_, {}, [] {});
  settler.start();

  settler.push(ack());

  ASSERT_TRUE(testing::wait_until([&] { return state_of("t1") == TaskState::kSuccess; }, 20s));
  settler.finish();
  EXPECT_EQ(faulty.calls(), GetParam().failures + 1);
  EXPECT_EQ(settler.counters().succeeded, 1u);
  EXPECT_EQ(settler.counters().refused, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Store, SettlerRetryTest,
    ::testing::Values(
        TransientFault{"OutOfSpace",
                       resource_exhausted_error("settling tasks: database or disk is full"), 3},
        TransientFault{"Restart", unavailable_error("settling tasks: connection refused"), 2}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(SettlerTest, PermanentErrorGivesTheBatchUpAtOnce) {
  FailingSettle faulty(store_.get(), 1, invalid_argument_error("settling tasks: bad input"));
  leases_.add({delivery_});
  internal::Settler settler(faulty, Clock::system(), leases_, {}, [] {});
  settler.start();

  settler.push(ack());
  settler.finish();

  EXPECT_EQ(faulty.calls(), 1);
  EXPECT_EQ(settler.counters().refused, 1u);
  EXPECT_EQ(state_of("t1"), TaskState::kReserved);
}

// A retry body over the store's limit will never fit: unlike a full disk, it is not retried.
TEST_F(SettlerTest, BodyTooLargeGivesTheBatchUpAtOnce) {
  FailingSettle faulty(store_.get(), 1, too_large_error("settling tasks: the body is too long"));
  leases_.add({delivery_});
  internal::Settler settler(faulty, Clock::system(), leases_, {}, [] {});
  settler.start();

  settler.push(ack());
  settler.finish();

  EXPECT_EQ(faulty.calls(), 1);
  EXPECT_EQ(settler.counters().refused, 1u);
}

}  // namespace
}  // namespace runq
