// One drain run (w2, and each size of w4): queue N no-op tasks, then start the worker
// processes and time them until every task is settled.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "config.hpp"
#include "store_probe.hpp"
#include "worker_pool.hpp"

namespace runq::bench {

struct DrainRun {
  std::uint64_t tasks = 0;
  double enqueue_s = 0;    // queueing the N tasks (delay_many batches)
  double drain_s = 0;      // first to last completion
  double wall_s = 0;       // workers told to go → last completion
  PoolTotals workers;      // after the workers stopped
  StoreSample queued;      // the store with N tasks queued
  StoreSample after;       // ... after the drain
  double store_cpu_s = 0;  // redis-server CPU spent during the drain
  std::string verified;    // "ok", or what was wrong with the last task's record

  double tasks_per_s() const { return drain_s > 0 ? tasks / drain_s : 0; }
  nlohmann::json to_json() const;
};

// REQUIRES: 0 < n <= kMaxTasks. Throws on store errors and worker failures.
DrainRun run_drain(const Config& cfg, std::uint64_t n);

// Effective executor threads per worker process (--threads 0 = runq's default).
int effective_threads(const Config& cfg);

struct BenchApp;

// Enqueues n no-op tasks through delay_many, `batch` per call, counting into `done`. Returns
// the seconds it took; `last_id` (if given) receives the id of the last task.
double enqueue_batches(BenchApp& bench, std::uint64_t n, int batch,
                       std::atomic<std::uint64_t>& done, std::string* last_id = nullptr);

}  // namespace runq::bench
