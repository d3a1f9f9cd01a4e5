// The runq-bench workloads. Each returns what it measured as one JSON object (the `--json`
// line) and a table for the terminal. They throw runq::Error or std::runtime_error on a store
// failure or a worker process that failed; main() turns that into one error line.
//
//   w1        enqueue N no-op tasks one delay() call at a time
//   w1-batch  enqueue N no-op tasks through delay_many, `batch` calls per batch
//   w2        N tasks queued first, then P worker processes drain them (first to last
//             completion), results stored unless --ignore-result
//   w3        a producer at `rate` tasks/s for `seconds` while workers run; enqueue→start
//             and enqueue→result latency percentiles
//   w4        w2 at N = 10k, 100k and 1M (up to --tasks): cost per task against queue depth,
//             peak RSS of the workers and the store's size
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "config.hpp"

namespace runq::bench {

struct Report {
  nlohmann::json json;
  std::string table;
};

Report run_w1(const Config& cfg);
Report run_w1_batch(const Config& cfg);
Report run_w2(const Config& cfg);
Report run_w3(const Config& cfg);
Report run_w4(const Config& cfg);

}  // namespace runq::bench
