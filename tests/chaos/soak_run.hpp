// One soak run: a steady load at a fraction of the measured maximum rate for a set time,
// sampling memory, file descriptors, pickup latency, throughput and queue depth every
// `sample_s` into a CSV, then failing on growth beyond stated bounds (docs/reliability.md,
// "Soak"). `runq_soak` (soak_main) parses the flags.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace runq::chaos {

struct SoakOptions {
  std::string store = "redis";  // a kind of make_store_under_test()
  double seconds = 3600;        // the steady phase
  double sample_s = 10;
  double rate = 0;  // tasks/s; 0 = `fraction` of the rate measured first
  double fraction = 0.5;
  double probe_seconds = 90;  // full load to measure the maximum sustained rate (rate 0)
  int workers = 2;
  int concurrency = 4;
  std::string app_binary;  // runq_test_app
  std::string dir;         // run directory (logs)
  std::string csv;         // output CSV
};

// One row of the CSV.
struct SoakSample {
  double t_s = 0;
  double throughput = 0;          // tasks completed per second over the interval
  std::int64_t depth = 0;         // pending + scheduled at the sample
  std::int64_t behind = 0;        // tasks due by the clock that the producer has not enqueued yet
  double p50_ms = 0, p99_ms = 0;  // pickup latency (started - enqueued) of sampled tasks
  std::int64_t worker_rss_kib = 0, worker_fds = 0;  // summed over the workers
  std::int64_t store_rss_kib = 0, store_fds = 0;    // the server's; SQLite: 0
  std::int64_t store_bytes = 0;                     // SQLite: db + WAL file sizes; Redis: 0
  std::int64_t enqueue_errors = 0;                  // failed enqueue calls in the interval
};

struct SoakReport {
  double max_rate = 0, rate = 0;
  std::int64_t enqueue_errors = 0;  // failed enqueue calls (retried), over the run
  std::vector<SoakSample> samples;
  std::vector<std::string> growth;  // one line per bound exceeded
  std::string failure;              // why the run could not complete
  bool skipped = false;             // the store's server is not installed
  bool ok() const { return failure.empty() && growth.empty(); }
};

SoakReport run_soak(const SoakOptions& opts);

// The bounds (docs/reliability.md): comparing the mean of the last quarter of the samples
// with the first quarter after a 120 s warm-up (results live 30 s, cleanup runs once a
// minute, so until then the store grows by design) — RSS may grow by at most 20% or
// 16 MiB whichever is larger, fds by at most 8, and the queue must not back up (last
// quarter's mean backlog, queue depth plus what the producer is behind, at most 5 s of load).
// Returns one line per bound exceeded; nothing when there are fewer than 4 samples after the
// warm-up (too short to tell a trend).
std::vector<std::string> check_growth(const std::vector<SoakSample>& samples, double rate);

}  // namespace runq::chaos
