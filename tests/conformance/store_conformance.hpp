// The store conformance suite: one value-parameterised GoogleTest suite, `StoreConformance`,
// that every Store backend must pass unchanged. Its parameter names a backend and builds a
// fresh, empty store for each test.
//
// The suite is instantiated once, over every backend of the registry
// (store_conformance_test.cpp), with the fixtures the backends declare (made by
// tests/support/store_fixtures.cpp). The tests live in the other *_test.cpp files of this
// folder, one promise of include/runq/store.hpp (and VISION §4) per test, named after the
// behaviour.
//
// Time is driven by the explicit `now` of the Store API, starting at kT0; no test sleeps.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "runq/store.hpp"
#include "support/status_matchers.hpp"

namespace runq {

inline void PrintTo(TaskState state, std::ostream* os) { *os << task_state_name(state); }

}  // namespace runq

namespace runq::conformance {

struct StoreBackend {
  std::string name;  // the URL scheme; used in test names: letters and digits only
  // Returns a fresh, empty store (each call a new one).
  std::function<Result<std::unique_ptr<Store>>()> factory;
  // Optional: a non-empty reason when the backend's server cannot run here. The test is then
  // skipped, or fails when CI=true.
  std::function<std::string()> unavailable;
};

inline void PrintTo(const StoreBackend& backend, std::ostream* os) { *os << backend.name; }

inline std::string backend_name(const ::testing::TestParamInfo<StoreBackend>& info) {
  return info.param.name;
}

// A fixed "now" for tests (2023-11-14T22:13:20Z); tests move time by adding to it.
inline constexpr Millis kT0 = 1'700'000'000'000;
inline constexpr Millis kLease = 30'000;
inline constexpr Millis kSecond = 1000;

// Builders for the arguments of Store calls.
NewTask make_task(std::string id, std::string queue = "default", int priority = 0, Millis eta = 0);
Settlement ack_of(const Delivery& d, std::string result = "",
                  TaskState state = TaskState::kSuccess);
Settlement retry_of(const Delivery& d, Millis retry_at, std::string body = "");
Settlement dead_letter_of(const Delivery& d, std::string reason);
Settlement release_of(const Delivery& d);
LeaseRef lease_of(const Delivery& d);
std::vector<std::string> ids_of(const std::vector<Delivery>& ds);

class StoreConformance : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override;
  void TearDown() override { store_.reset(); }

  Store& store() { return *store_; }
  // A second, independent store of the same backend (for model comparison).
  std::unique_ptr<Store> another_store();

  // Shorthands that record a test failure when the call does not succeed.
  void enqueue(std::vector<NewTask> tasks, Millis now = kT0);
  std::vector<Delivery> reserve(std::vector<std::string> queues, int max = 1, Millis now = kT0,
                                Millis lease_ms = kLease, std::string worker = "w1");
  // Exactly one delivery from `queue` (a failure otherwise; then an empty Delivery).
  Delivery reserve_one(std::string queue = "default", Millis now = kT0, Millis lease_ms = kLease,
                       std::string worker = "w1");
  std::vector<bool> settle(std::vector<Settlement> s, Millis now = kT0);
  bool settle_one(const Settlement& s, Millis now = kT0);
  std::vector<bool> extend(std::vector<LeaseRef> leases, Millis lease_ms, Millis now);
  TaskInfo task_info(const std::string& id, Millis now = kT0);
  // The stats row of `queue` (all zero when the store lists no such row).
  QueueStats queue_stats(const std::string& queue, Millis now = kT0);
  StoreStats all_stats(Millis now = kT0);

 private:
  std::unique_ptr<Store> store_;
};

}  // namespace runq::conformance
