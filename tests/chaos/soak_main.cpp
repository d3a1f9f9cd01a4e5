// runq_soak: a steady load at half the measured maximum rate for a set time (1 hour by
// default), sampling worker and store memory, fds, pickup latency, throughput and queue depth
// into a CSV. Exit 0 = the lines stayed within their bounds, 1 = growth or a failure, 77 =
// the store's server is not installed (outside CI). `make soak` also plots the CSV.
#include <cstdio>
#include <filesystem>

#include <CLI/CLI.hpp>

#include "chaos/run_setup.hpp"
#include "chaos/soak_run.hpp"

int main(int argc, char** argv) {
  runq::chaos::SoakOptions o;
  o.app_binary = RUNQ_TEST_APP;
  o.csv = "soak.csv";
  CLI::App cli("runq soak run: steady load, resource samples, growth check");
  runq::chaos::add_cluster_options(cli, o.store, o.workers, o.concurrency, o.app_binary);
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
  cli.add_option("--csv", o.csv, "Where the samples go")->capture_default_str();
  CLI11_PARSE(cli, argc, argv);

  o.dir = runq::chaos::prepare_run_dir("soak", o.store);
  if (o.dir.empty()) return 1;
  std::printf("soak: run directory %s, samples to %s\n", o.dir.c_str(), o.csv.c_str());
  std::fflush(stdout);

  runq::chaos::SoakReport r = runq::chaos::run_soak(o);
  if (r.skipped) return runq::chaos::exit_not_installed("soak", r.failure);
  for (const std::string& g : r.growth) std::printf("soak: GROWTH: %s\n", g.c_str());
  std::printf("soak: %s, %zu samples at %.0f tasks/s (max %.0f), %lld failed enqueue calls%s%s\n",
              o.store.c_str(), r.samples.size(), r.rate, r.max_rate,
              static_cast<long long>(r.enqueue_errors), r.ok() ? ", flat" : "",
              r.failure.empty() ? "" : (" — " + r.failure).c_str());
  if (r.ok()) std::filesystem::remove_all(o.dir);
  return r.ok() ? 0 : 1;
}
