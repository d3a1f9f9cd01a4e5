// runq-flow-bench: rate-limit accuracy and the cost of a backlogged limited task type for the
// other tasks of its queue (docs/flow-control.md, docs/benchmarks.md "Flow control").
//
//   runq-flow-bench --store URL --mode rate  [--procs 3] [--rate 200/s] [--tasks 3000]
//       P worker processes drain N tasks of one task type limited to RATE; reports the
//       achieved rate (first to last start) and the most starts in any one-second window.
//   runq-flow-bench --store URL --mode mixed [--tasks 3000] [--plain 20000]
//       N limited tasks queued first, then M unlimited ones in the same queue; reports the
//       unlimited tasks' throughput (first to last start).
//   runq-flow-bench --store URL --mode plain [--plain 20000]
//       the same M unlimited tasks alone: the baseline of `mixed`.
//
// Each task returns the system time (ms) at which it started; workers are forked before the
// parent opens the store, and are stopped by their pid with SIGTERM at the end.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include <CLI/CLI.hpp>

#include "runq/runq.hpp"

namespace {

struct Config {
  std::string store;
  std::string mode = "rate";
  std::string rate = "200/s";
  int procs = 3;
  int threads = 4;
  int tasks = 3000;
  int plain = 20000;
};

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Tasks {
  explicit Tasks(const Config& c)
      : app(runq::AppOptions{.store_url = c.store}),
        limited(app.task(
            "limited", [] { return now_ms(); },
            runq::TaskOptions{}.rate_limit(c.rate).result_ttl(std::chrono::hours(1)))),
        plain(app.task("plain", [] { return now_ms(); })) {}
  runq::App app;
  runq::TaskHandle<std::int64_t> limited;
  runq::TaskHandle<std::int64_t> plain;
};

[[noreturn]] void worker_main(const Config& c) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before any thread starts
  Tasks t(c);
  runq::Worker w(t.app, runq::WorkerOptions{.concurrency = c.threads, .grace_ms = 5'000});
  if (runq::Status s = w.start(); !s.ok()) {
    std::fprintf(stderr, "worker: %s\n", s.message().c_str());
    _exit(2);
  }
  int sig = 0;
  sigwait(&set, &sig);
  w.request_stop();
  w.wait();
  _exit(0);
}

// Start times of `results`, sorted. Exits on a failed task.
std::vector<std::int64_t> start_times(std::vector<runq::AsyncResult<std::int64_t>>& results) {
  std::vector<std::int64_t> out;
  out.reserve(results.size());
  for (auto& r : results) out.push_back(r.get(std::chrono::minutes(5)));
  std::sort(out.begin(), out.end());
  return out;
}

int max_in_window(const std::vector<std::int64_t>& t, std::int64_t window_ms) {
  int best = 0;
  std::size_t lo = 0;
  for (std::size_t hi = 0; hi < t.size(); ++hi) {
    while (t[hi] - t[lo] >= window_ms) ++lo;
    best = std::max(best, static_cast<int>(hi - lo + 1));
  }
  return best;
}

double per_second(const std::vector<std::int64_t>& t) {
  if (t.size() < 2 || t.back() == t.front()) return 0;
  return static_cast<double>(t.size() - 1) * 1000.0 / static_cast<double>(t.back() - t.front());
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  CLI::App cli{"runq-flow-bench: rate-limit accuracy and throughput beside a limited backlog"};
  cli.add_option("--store", c.store, "store URL")->required();
  cli.add_option("--mode", c.mode, "rate | mixed | plain")
      ->check(CLI::IsMember({"rate", "mixed", "plain"}));
  cli.add_option("--rate", c.rate, "rate limit of the limited task [200/s]");
  cli.add_option("--procs", c.procs, "worker processes [3]")->check(CLI::Range(1, 16));
  cli.add_option("--threads", c.threads, "threads per worker [4]")->check(CLI::Range(1, 256));
  cli.add_option("--tasks", c.tasks, "limited tasks [3000]")->check(CLI::Range(1, 10'000'000));
  cli.add_option("--plain", c.plain, "unlimited tasks (mixed, plain) [20000]")
      ->check(CLI::Range(1, 10'000'000));
  CLI11_PARSE(cli, argc, argv);

  std::vector<pid_t> pids;
  for (int i = 0; i < c.procs; ++i) {
    pid_t pid = fork();
    if (pid < 0) {
      std::perror("fork");
      return 1;
    }
    if (pid == 0) worker_main(c);
    pids.push_back(pid);
  }
  int rc = 0;
  try {
    Tasks t(c);
    std::vector<runq::AsyncResult<std::int64_t>> limited, plain;
    // Enqueued in batches of 1,000 (delay_many), so that the producer is not what limits
    // the rate the workers reach.
    auto enqueue = [](runq::TaskHandle<std::int64_t>& task, int n,
                      std::vector<runq::AsyncResult<std::int64_t>>& out) {
      const std::vector<std::tuple<>> batch(1000);
      for (int done = 0; done < n; done += 1000) {
        const std::size_t k = static_cast<std::size_t>(std::min(1000, n - done));
        for (auto& r : task.delay_many(std::span(batch).first(k))) out.push_back(std::move(r));
      }
    };
    if (c.mode != "plain") enqueue(t.limited, c.tasks, limited);
    if (c.mode != "rate") enqueue(t.plain, c.plain, plain);
    if (c.mode == "rate") {
      std::vector<std::int64_t> starts = start_times(limited);
      std::printf(
          "rate limit %s, %d procs x %d threads, %d tasks: achieved %.1f tasks/s over "
          "%.2f s; most starts in one 1 s window: %d\n",
          c.rate.c_str(), c.procs, c.threads, c.tasks, per_second(starts),
          static_cast<double>(starts.back() - starts.front()) / 1000.0,
          max_in_window(starts, 1000));
    } else {
      std::vector<std::int64_t> starts = start_times(plain);
      std::printf("%s: %d unlimited tasks%s, %d procs x %d threads: %.0f tasks/s\n", c.mode.c_str(),
                  c.plain,
                  c.mode == "mixed"
                      ? (" behind " + std::to_string(c.tasks) + " limited to " + c.rate).c_str()
                      : "",
                  c.procs, c.threads, per_second(starts));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "runq-flow-bench: %s\n", e.what());
    rc = 1;
  }
  for (pid_t pid : pids) kill(pid, SIGTERM);
  for (pid_t pid : pids) waitpid(pid, nullptr, 0);
  return rc;
}
