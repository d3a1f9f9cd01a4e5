// runq_chaos: N tasks drained by worker processes while workers, beats and the store are
// killed, stopped and restarted at random; then checks that no accepted task was lost.
// Prints one summary line; exit 0 = no loss, 1 = a check failed, 77 = the store's server is
// not installed (outside CI). `make chaos` runs it on every store kind; docs/reliability.md.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include <CLI/CLI.hpp>

#include "chaos/chaos_run.hpp"
#include "chaos/run_setup.hpp"

int main(int argc, char** argv) {
  runq::chaos::ChaosOptions o;
  o.app_binary = RUNQ_TEST_APP;
  bool keep = false;
  CLI::App cli("runq chaos run: random kills under load, then a check for lost tasks");
  runq::chaos::add_cluster_options(cli, o.store, o.workers, o.concurrency, o.app_binary);
  cli.add_option("--tasks", o.tasks, "Tasks to enqueue")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cli.add_option("--task-ms", o.task_ms, "Each task's work (sleep) after recording its id")
      ->capture_default_str()
      ->check(CLI::Range(0, 10000));
  cli.add_option("--lease-ms", o.lease_ms, "Workers' lease")
      ->capture_default_str()
      ->check(CLI::Range(100, 60000));
  cli.add_option("--beats", o.beats, "Beat processes")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cli.add_option("--chord-every", o.chord_every, "A chord after every N batches (0 = none)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cli.add_option("--chord-members", o.chord_members, "Members of each chord")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  cli.add_option("--fault-every", o.fault_every_s, "Mean seconds between faults")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cli.add_option("--max-seconds", o.max_seconds, "Time limit of the whole run")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cli.add_option("--seed", o.seed, "Random seed (0 = from the clock)")->capture_default_str();
  cli.add_flag("--keep", keep, "Keep the run directory (logs, record files) even on success");
  CLI11_PARSE(cli, argc, argv);

  if (o.seed == 0) {
    o.seed =
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  o.dir = runq::chaos::prepare_run_dir("chaos", o.store);
  if (o.dir.empty()) return 1;
  std::printf("chaos: %s store, seed %llu, run directory %s\n", o.store.c_str(),
              static_cast<unsigned long long>(o.seed), o.dir.c_str());
  std::fflush(stdout);

  runq::chaos::ChaosReport r = runq::chaos::run_chaos(o);
  if (r.skipped) {
    std::filesystem::remove_all(o.dir);
    return runq::chaos::exit_not_installed("chaos", r.failure);
  }
  std::printf("%s\n", r.summary(o.store).c_str());
  if (r.ok() && !keep) {
    std::filesystem::remove_all(o.dir);
  } else {
    std::printf("chaos: logs kept in %s\n", o.dir.c_str());
  }
  return r.ok() ? 0 : 1;
}
