// LeaseKeeper: the worker's housekeeping thread. Every tick it cancels running tasks past
// their soft time limit, extends every lease in the LeaseTable each lease/3, heartbeats the
// worker registry, reads the revoke requests of the tasks it holds (every revoke_poll_ms while
// it holds any), and removes expired results from the store (once a minute, or at every tick
// while a call keeps finding a full batch).
//
// Thread safety: start() and stop() are called once each, by the Worker. The loop's own
// timers are locals of the keeper thread; only `stopping_` is shared.
#pragma once

#include <functional>
#include <thread>

#include "core/mutex.hpp"
#include "runq/clock.hpp"
#include "runq/store.hpp"
#include "worker/internal/lease_table.hpp"

namespace runq::internal {

struct LeaseKeeperOptions {
  Millis lease_ms = 30'000;        // leases are extended by this much, every third of it
  Millis heartbeat_ms = 2'000;     // registry heartbeat interval
  Millis revoke_grace_ms = 2'000;  // revoke with terminate: the executor stops the task after
  Millis revoke_poll_ms = 50;      // revoke requests of held tasks are read this often
};

class LeaseKeeper {
 public:
  // REQUIRES: store, clock and leases outlive the keeper. `info` builds the heartbeat record;
  // it is called on the keeper thread with no keeper lock held.
  // `terminate(id, grace)` is called for each running task revoked with terminate.
  LeaseKeeper(Store& store, const Clock& clock, LeaseTable& leases, LeaseKeeperOptions opts,
              std::function<WorkerInfo()> info,
              std::function<void(const std::string&, Millis)> terminate);
  ~LeaseKeeper() { stop(); }

  void start();
  // Ends the loop and joins the thread. Called once nothing needs a lease any more (all
  // settlements written).
  void stop() RUNQ_EXCLUDES(mu_);

 private:
  void keep_loop() RUNQ_EXCLUDES(mu_);
  // Waits up to `ms`; returns false once stop() was called.
  bool wait_tick(Millis ms) RUNQ_EXCLUDES(mu_);
  void extend_leases(Millis now);
  void poll_revokes();

  static constexpr Millis kCleanupEveryMs = 60'000;
  static constexpr std::int64_t kCleanupAgainAt = 1000;  // removed by one call: more is left

  Store& store_;
  const Clock& clock_;
  LeaseTable& leases_;
  const LeaseKeeperOptions opts_;
  const std::function<WorkerInfo()> info_;
  const std::function<void(const std::string&, Millis)> terminate_;
  bool revoke_unsupported_ = false;  // keeper thread only
  std::thread thread_;

  Mutex mu_;
  CondVar cv_;  // stop() was called
  bool stopping_ RUNQ_GUARDED_BY(mu_) = false;
};

}  // namespace runq::internal
