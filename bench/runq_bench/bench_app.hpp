// The application every runq-bench process builds: one runq::App on the store under test
// with the benchmark's tasks registered, so forked workers and the producer agree on them.
//
// Shared memory: w3's task writes its pickup latency into an array mapped before fork(), so
// the producer reads what every worker process measured without a round trip.
#pragma once

#include <atomic>
#include <cstdint>
#include <tuple>

#include "config.hpp"
#include "runq/app.hpp"

namespace runq::bench {

// Microseconds of CLOCK_MONOTONIC: one clock for every process on the machine.
std::int64_t mono_us();

// Maps `count` zeroed int64 slots shared with processes forked afterwards (MAP_SHARED).
// Returns nullptr on failure. The mapping lives until the process exits.
std::atomic<std::int64_t>* map_shared_slots(std::uint64_t count);

// Where the w3 task records enqueue→start latencies (µs + 1, 0 = not started yet).
void set_latency_slots(std::atomic<std::int64_t>* slots, std::uint64_t count);

struct BenchApp {
  explicit BenchApp(const Config& cfg);

  App app;
  // A no-op task with no arguments (w1, w2, w4); results stored unless --ignore-result.
  TaskHandle<void> noop;
  // w3: carries its enqueue time and index; records now - enqueue in the latency slots and
  // returns its start time.
  TaskHandle<std::int64_t, std::int64_t, std::int64_t> stamp;
};

}  // namespace runq::bench
