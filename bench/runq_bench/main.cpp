// runq-bench: end-to-end throughput and latency of runq on any store.
//
//   runq-bench --store URL --workload w1|w1-batch|w2|w3|w4 [--tasks N] [--rate R --seconds S]
//              [--procs P] [--threads T] [--ignore-result] [--json]
//              [--producers P] [--prefetch N] [--batch N] [--timeout S]
//
// Prints a table; with --json the last line of stdout is one JSON object. Every run is
// bounded: a hard timeout aborts it with a message and exit code 3.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>

#include "config.hpp"
#include "report.hpp"
#include "runq/store.hpp"
#include "workloads.hpp"

namespace {

using runq::bench::Config;

char g_timeout_message[256];

void on_alarm(int) {
  // Worker processes die with us (PR_SET_PDEATHSIG).
  ssize_t ignored = write(STDERR_FILENO, g_timeout_message, std::strlen(g_timeout_message));
  (void)ignored;
  _exit(3);
}

double default_timeout(const Config& c) {
  if (c.workload == "w3") return c.seconds + 120;
  if (c.workload == "w4") return 1800;
  return 600;
}

void arm_timeout(const Config& c) {
  double secs = c.timeout_s > 0 ? c.timeout_s : default_timeout(c);
  std::snprintf(g_timeout_message, sizeof g_timeout_message,
                "\nrunq-bench: timeout: workload %s on %s did not finish within %.0f s; aborted "
                "(raise --timeout, or lower --tasks)\n",
                c.workload.c_str(), c.store_url.c_str(), secs);
  signal(SIGALRM, on_alarm);
  alarm(unsigned(secs + 0.5));
}

int run(Config& c) {
  using namespace runq::bench;
  Report r;
  if (c.workload == "w1")
    r = run_w1(c);
  else if (c.workload == "w1-batch")
    r = run_w1_batch(c);
  else if (c.workload == "w2")
    r = run_w2(c);
  else if (c.workload == "w3")
    r = run_w3(c);
  else
    r = run_w4(c);
  std::cout << r.table;
  if (c.json) std::cout << r.json.dump() << "\n";
  std::cout.flush();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  bool tasks_given = false;
  CLI::App cli{"runq-bench: throughput and latency of runq on a store"};
  cli.add_option("--store", c.store_url, "store URL (sqlite:PATH, redis://host:port/db)")
      ->required();
  cli.add_option("--workload", c.workload, "w1 | w1-batch | w2 | w3 | w4")
      ->required()
      ->check(CLI::IsMember({"w1", "w1-batch", "w2", "w3", "w4"}));
  cli.add_option_function<std::uint64_t>(
         "--tasks", [&](std::uint64_t n) { c.tasks = n, tasks_given = true; },
         "tasks to enqueue/drain [20000; w4: largest size, 1000000]")
      ->check(CLI::Range(std::uint64_t(1), runq::bench::kMaxTasks));
  cli.add_option("--rate", c.rate, "w3: tasks per second [200]")->check(CLI::Range(1.0, 200'000.0));
  cli.add_option("--seconds", c.seconds, "w3: seconds to produce [10]")
      ->check(CLI::Range(0.1, 3600.0));
  cli.add_option("--procs", c.procs, "worker processes [1]")
      ->check(CLI::Range(1, runq::bench::kMaxProcs));
  cli.add_option("--threads", c.threads, "executor threads per worker process [CPU cores]")
      ->check(CLI::Range(0, 1024));
  cli.add_option_function<std::string>(
         "--pool", [&c](const std::string& v) { c.process_pool = v == "processes"; },
         "where worker processes run tasks: threads | processes [threads]")
      ->check(CLI::IsMember({"threads", "processes"}));
  cli.add_option("--producers", c.producers,
                 "w1: threads calling delay() one task at a time, sharing one App [1]")
      ->check(CLI::Range(1, runq::bench::kMaxProducers));
  cli.add_option("--prefetch", c.prefetch,
                 "tasks reserved beyond running ones [adaptive: the worker default]")
      ->check(CLI::Range(-1, 100'000));
  cli.add_option("--batch", c.batch, "calls per delay_many batch [1000]")
      ->check(CLI::Range(1, 100'000));
  cli.add_flag("--ignore-result", c.ignore_result, "tasks do not store their results");
  cli.add_flag("--json", c.json, "print one JSON object as the last line");
  cli.add_option("--queue-limit", c.queue_limit,
                 "bound the run's queue to this many waiting tasks first (flow control) [none]")
      ->check(CLI::Range(0LL, 1'000'000'000LL));
  cli.add_option("--timeout", c.timeout_s,
                 "abort after this many seconds [600; w3: seconds+120; w4: 1800]");
  CLI11_PARSE(cli, argc, argv);
  if (c.workload == "w4" && !tasks_given) c.tasks = 1'000'000;
  c.queue = "bench-" + std::to_string(getpid());
  if (c.queue_limit > 0) {
    auto store = runq::open_store(c.store_url);
    runq::Status s =
        store.ok() ? (*store)->set_queue_limit(c.queue, c.queue_limit) : store.status();
    if (!s.ok()) {
      std::fprintf(stderr, "runq-bench: --queue-limit: %s\n", s.to_string().c_str());
      return 1;
    }
  }
  arm_timeout(c);
  try {
    return run(c);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nrunq-bench: %s failed on %s: %s\n", c.workload.c_str(),
                 c.store_url.c_str(), e.what());
    return 1;
  }
}
