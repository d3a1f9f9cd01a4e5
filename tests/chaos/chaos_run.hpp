// One chaos run: N tasks drained by worker processes while faults hit them at random, then a
// check from the independent record (RunRecord) and from the store. `runq_chaos` (chaos_main)
// parses the flags and prints the summary; docs/reliability.md describes the faults and
// checks.
//
// Thread safety: run() is called once, from the main thread (it starts one producer thread
// of its own).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace runq::chaos {

struct ChaosOptions {
  std::string store = "redis";  // a kind of make_store_under_test()
  std::int64_t tasks = 100000;
  int task_ms = 1;   // each task's work: record its id, then sleep this long
  int batch = 1000;  // tasks per enqueue call
  int workers = 4;
  int concurrency = 4;
  int lease_ms = 2000;  // workers' --lease; a SIGSTOP lasts 1.5 leases + 0.5 s
  int beats = 2;        // beat processes racing on a 1 s tick schedule
  // Workflows: after every `chord_every` batches (0 = none) a chord of `chord_members`
  // record_sleep members and a record_join body is enqueued too (its tasks are extra).
  int chord_every = 5;
  int chord_members = 50;
  double fault_every_s = 1.5;  // mean seconds between faults (uniform in 0..2x)
  double max_seconds = 900;    // the whole run, drain included; past it the run fails
  std::uint64_t seed = 0;      // 0 = from the clock (printed, to repeat a schedule)
  std::string app_binary;      // runq_test_app
  std::string dir;             // run directory (logs, record files); kept on failure
};

// What happened and what the checks found.
struct ChaosReport {
  std::int64_t accepted = 0;  // tasks whose enqueue call returned success
  std::int64_t worker_kills = 0, worker_stops = 0, store_kills = 0, beat_kills = 0;
  std::int64_t lost = 0;             // accepted but never ran, or no SUCCESS result
  std::int64_t duplicates = 0;       // extra runs of tasks and ticks (the record's count)
  std::int64_t duplicate_bound = 0;  // sum of the tasks in flight at each fault
  std::int64_t still_queued = 0;     // tasks still pending/scheduled/reserved/dead at the end
  std::int64_t ticks = 0;            // periodic ticks claimed during the run
  std::int64_t ticks_missing = 0;    // ticks without a SUCCESS task, beats alive
  std::int64_t ticks_misfired = 0;   // ticks skipped while no beat could reach the store
  // Wall-clock windows (ms) in which no beat could claim a tick: every beat killed at once,
  // or the store server down. A tick due then is a misfire (the default policy runs one
  // catch-up tick when none is on time), not a loss.
  std::vector<std::pair<std::int64_t, std::int64_t>> beat_outages;
  std::int64_t malformed_lines = 0;  // record lines that are not "start <id>"
  std::int64_t chords = 0;           // chords accepted (their tasks are in `accepted` too)
  std::int64_t chords_wrong = 0;     // chord bodies without SUCCESS and every member's result
  double seconds = 0;
  std::string failure;   // why the run could not complete, or empty
  bool skipped = false;  // the store's server is not installed (exit 77)

  bool ok() const {
    return failure.empty() && lost == 0 && still_queued == 0 && ticks_missing == 0 &&
           malformed_lines == 0 && chords_wrong == 0 && duplicates <= duplicate_bound;
  }
  // "chaos: redis, 100000 tasks, 61 worker kills, ... 0 lost, 37 duplicate runs (bound 90)..."
  std::string summary(const std::string& store) const;
};

ChaosReport run_chaos(const ChaosOptions& opts);

}  // namespace runq::chaos
