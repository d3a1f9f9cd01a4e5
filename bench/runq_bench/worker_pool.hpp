// WorkerPool: P forked processes, each running one runq::Worker with T threads on the
// benchmark's queue, coordinated through a block of shared memory.
//
// Children are forked before the parent opens any store or starts any thread, so a child
// never inherits a half-used connection. Each child builds its own BenchApp, opens the
// store, reports ready, and starts its worker when the parent says go. It publishes how many
// tasks its worker settled (and when the first and latest settlement were seen) every 0.5 ms
// until the parent says stop; then it stops its worker gracefully and reports its peak RSS
// and CPU time. A child dies with the parent (PR_SET_PDEATHSIG).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "config.hpp"

namespace runq::bench {

struct ProcSlot {
  std::atomic<int> state{0};  // kStarting, kReady, kRunning, kFinished, kFailed
  std::atomic<std::uint64_t> processed{0};
  std::atomic<std::int64_t> first_us{0};  // mono_us() when the first settlement was seen
  std::atomic<std::int64_t> last_us{0};   // ... and the latest one
  std::atomic<std::int64_t> max_rss_kb{0};
  std::atomic<std::int64_t> cpu_us{0};  // user + system
  char error[256] = {};
};

struct PoolTotals {
  std::uint64_t processed = 0;
  std::int64_t first_us = 0;    // earliest first settlement over the children (0 = none)
  std::int64_t last_us = 0;     // latest settlement
  std::int64_t max_rss_kb = 0;  // largest child
  double cpu_s = 0;             // all children
};

class WorkerPool {
 public:
  WorkerPool(const Config& cfg);
  ~WorkerPool();  // kills children still running
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Forks the children. False (with error()) when fork or the shared mapping fails.
  bool spawn();
  // Waits until every child opened its store. False on a child failure or at `deadline_us`.
  bool wait_ready(std::int64_t deadline_us);
  // Lets the workers start reserving.
  void go();
  // Current totals (cheap; reads shared memory).
  PoolTotals totals() const;
  // A child's failure message, or empty.
  std::string failure() const;
  // Asks every child to stop and reaps them (SIGKILL after `grace_ms`). Returns final totals.
  PoolTotals stop(int grace_ms = 10'000);
  // The children's pids (for the abort path).
  const std::vector<pid_t>& pids() const { return pids_; }

 private:
  struct Shared;
  [[noreturn]] void child_main(int index);

  const Config& cfg_;
  Shared* shared_ = nullptr;
  mutable std::vector<pid_t> pids_;  // -1 once reaped
};

}  // namespace runq::bench
