// The fetcher's backpressure: Settler::wait_backlog_below reports a backlog of settlements the
// store has not taken yet, and clears once the settler catches up. With no backpressure, a
// worker whose store writes results slower than tasks finish keeps reserving, and the leases
// of the piled-up tasks lapse (tasks then run twice).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "store/memory_store.hpp"
#include "worker/internal/lease_table.hpp"
#include "worker/internal/settler.hpp"

namespace runq::internal {
namespace {

// A store whose settle() blocks until open() is called.
class GatedStore final : public StoreWrapper {
 public:
  explicit GatedStore(Store* target) : StoreWrapper(target) {}
  Result<std::vector<bool>> settle(std::span<const Settlement> s, Millis now) override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(30), [&] { return open_; });
    return StoreWrapper::settle(s, now);
  }
  void open() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

TEST(SettleBackpressure, ABacklogBeyondTheLimitHoldsTheFetcherUntilTheStoreCatchesUp) {
  std::unique_ptr<Store> memory = new_memory_store();
  GatedStore store(memory.get());
  ManualClock clock;
  LeaseTable leases;
  Settler settler(store, clock, leases, SettlerOptions{.batch = 100}, [] {});
  settler.start();
  EXPECT_TRUE(settler.wait_backlog_below(10, std::chrono::milliseconds(0))) << "empty at first";
  for (int i = 0; i < 500; ++i) {
    Settlement s;
    s.id = "t" + std::to_string(i);
    s.token = 1;
    settler.push(std::move(s));
  }
  // The first batch is stuck in the store; 400 wait behind it.
  EXPECT_FALSE(settler.wait_backlog_below(10, std::chrono::milliseconds(50)));
  store.open();
  EXPECT_TRUE(settler.wait_backlog_below(10, std::chrono::seconds(20)));
  settler.finish();
}

}  // namespace
}  // namespace runq::internal
