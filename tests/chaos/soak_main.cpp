// runq_soak: a steady load at half the measured maximum rate for a set time (1 hour by
// default), sampling worker and store memory, fds, pickup latency, throughput and queue depth
// into a CSV. Exit 0 = the lines stayed within their bounds, 1 = growth or a failure, 77 =
// the store's server is not installed (outside CI). `make soak` also plots the CSV.
#include <stdlib.h>

#include <cstdio>
#include <filesystem>

#include <CLI/CLI.hpp>

#include "chaos/soak_run.hpp"
#include "chaos/store_under_test.hpp"
#include "support/redis_server.hpp"

int main(int argc, char** argv) {
  runq::chaos::SoakOptions o;
  o.app_binary = RUNQ_TEST_APP;
  o.csv = "soak.csv";
  CLI::App cli("runq soak run: steady load, resource samples, growth check");
  cli.add_option("--store", o.store, "Store kind: " + runq::chaos::store_kinds())
      ->capture_default_str();
  cli.add_option("--seconds", o.seconds, "Length of the steady phase")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cli.add_option("--sample-every", o.sample_s, "Seconds between samples")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cli.add_option("--rate", o.rate, "Tasks per second (0 = --fraction of the measured maximum)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cli.add_option("--fraction", o.fraction, "Fraction of the maximum rate")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 1.0));
  cli.add_option("--probe-seconds", o.probe_seconds,
                 "Seconds of full load to measure the maximum rate")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cli.add_option("--workers", o.workers, "Worker processes")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cli.add_option("--concurrency", o.concurrency, "Executor threads per worker")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cli.add_option("--csv", o.csv, "Where the samples go")->capture_default_str();
  cli.add_option("--app", o.app_binary, "The runq_test_app binary")->capture_default_str();
  CLI11_PARSE(cli, argc, argv);

  std::string tmpl = (std::filesystem::temp_directory_path() / "runq-soak-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) {
    std::perror("soak: mkdtemp");
    return 1;
  }
  o.dir = tmpl;
  if (!runq::chaos::make_store_under_test(o.store, o.dir)) {
    std::fprintf(stderr, "soak: --store: unknown kind '%s' (one of: %s)\n", o.store.c_str(),
                 runq::chaos::store_kinds().c_str());
    return 1;
  }
  std::printf("soak: run directory %s, samples to %s\n", o.dir.c_str(), o.csv.c_str());
  std::fflush(stdout);

  runq::chaos::SoakReport r = runq::chaos::run_soak(o);
  if (r.skipped) {
    std::printf("soak: %s\n", r.failure.c_str());
    return runq::testing::running_under_ci() ? 1 : 77;
  }
  for (const std::string& g : r.growth) std::printf("soak: GROWTH: %s\n", g.c_str());
  std::printf("soak: %s, %zu samples at %.0f tasks/s (max %.0f), %lld failed enqueue calls%s%s\n",
              o.store.c_str(), r.samples.size(), r.rate, r.max_rate,
              static_cast<long long>(r.enqueue_errors), r.ok() ? ", flat" : "",
              r.failure.empty() ? "" : (" — " + r.failure).c_str());
  if (r.ok()) std::filesystem::remove_all(o.dir);
  return r.ok() ? 0 : 1;
}
