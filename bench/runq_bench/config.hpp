// Settings of one runq-bench run, filled from the command line by main.cpp.
#pragma once

#include <cstdint>
#include <string>

namespace runq::bench {

struct Config {
  std::string store_url;         // --store
  std::string workload;          // w1 | w1-batch | w2 | w3 | w4
  std::uint64_t tasks = 20'000;  // --tasks (w4: the largest size run)
  double rate = 200;             // --rate, tasks/s (w3)
  double seconds = 10;           // --seconds, producing time (w3)
  int procs = 1;                 // --procs, forked worker processes
  int threads = 0;               // --threads per worker process (0 = runq's default)
  int prefetch = -1;             // --prefetch per worker process (-1 = runq's default)
  bool process_pool = false;     // --pool processes: WorkerPool::kProcesses
  int batch = 1000;              // --batch, calls per delay_many (w1-batch, and pre-filling)
  int producers = 1;             // --producers: threads enqueueing one call at a time (w1)
  bool ignore_result = false;    // --ignore-result
  bool json = false;             // --json
  double timeout_s = 0;          // --timeout; 0 = a default derived from the workload
  std::string queue;             // a queue private to this run (set by main)
  long long queue_limit = 0;     // --queue-limit: bound the run's queue (flow control); 0 = none
};

// Largest accepted values: every run is bounded in tasks and in time.
inline constexpr std::uint64_t kMaxTasks = 10'000'000;
inline constexpr int kMaxProcs = 16;
inline constexpr int kMaxProducers = 64;
inline constexpr std::uint64_t kMaxLatencySamples = 2'000'000;

}  // namespace runq::bench
