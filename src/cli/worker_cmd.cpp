// `worker`: runs the app's registered tasks until SIGINT/SIGTERM (or --max-tasks), printing a
// banner and, while busy, a throughput line every few seconds.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "cli/cli_support.hpp"
#include "cli/commands.hpp"
#include "cli/signal_waiter.hpp"
#include "core/duration.hpp"
#include "runq/app.hpp"
#include "runq/worker.hpp"

namespace runq::internal {
namespace {

constexpr std::string_view kCmd = "worker";

struct Parsed {
  WorkerOptions options;
  Millis report_ms = 5000;
};

Result<Parsed> parse_options(const WorkerArgs& a) {
  Parsed p;
  WorkerOptions& o = p.options;
  if (a.concurrency < 0)
    return invalid_argument_error("--concurrency: must be >= 1 (0 = one per CPU core)");
  if (a.prefetch < -1) return invalid_argument_error("--prefetch: must be >= 0");
  if (a.max_tasks < 0) return invalid_argument_error("--max-tasks: must be >= 0");
  o.concurrency = a.concurrency > 0
                      ? a.concurrency
                      : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  o.prefetch = a.prefetch;  // -1 (unset) = the library's adaptive default
  o.queues = split_list(a.queues);
  if (o.queues.empty()) return invalid_argument_error("--queues: give at least one queue name");
  RUNQ_ASSIGN_OR_RETURN(o.lease_ms, parse_duration_option("--lease", a.lease));
  if (o.lease_ms < 100) return invalid_argument_error("--lease: must be at least 100ms");
  RUNQ_ASSIGN_OR_RETURN(o.grace_ms, parse_duration_option("--grace", a.grace));
  RUNQ_ASSIGN_OR_RETURN(p.report_ms, parse_duration_option("--report-every", a.report_every));
  o.beat = a.beat;
  o.max_tasks = static_cast<std::uint64_t>(a.max_tasks);
  return p;
}

void print_banner(App& app, const Worker& worker, const WorkerOptions& o) {
  std::printf("runq worker %s\n", worker.id().c_str());
  std::printf("  store:       %s\n", display_url(app.store_url()).c_str());
  std::printf("  queues:      %s\n", join(o.queues, ", ").c_str());
  std::string prefetch = o.prefetch < 0 ? "adaptive" : std::to_string(o.prefetch);
  std::printf("  concurrency: %d (prefetch %s, lease %s, grace %s)\n", o.concurrency,
              prefetch.c_str(), format_duration(o.lease_ms).c_str(),
              format_duration(o.grace_ms).c_str());
  std::printf("  tasks:       %s\n", join(app.task_names(), ", ").c_str());
  if (o.beat && !app.periodic_definitions().empty())
    std::printf("  beat:        %zu periodic schedule(s)\n", app.periodic_definitions().size());
  std::printf("ready (Ctrl-C or SIGTERM stops gracefully; a second signal stops at once)\n");
  std::fflush(stdout);
}

// Prints a throughput line every `every_ms` while the worker is busy; quiet when idle.
class Reporter {
 public:
  Reporter(const Worker& worker, Millis every_ms) : worker_(worker), every_ms_(every_ms) {
    if (every_ms_ > 0) thread_ = std::thread([this] { loop(); });
  }
  ~Reporter() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void loop() {
    WorkerCounters last;
    auto last_at = std::chrono::steady_clock::now();
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(every_ms_), [&] { return done_; })) {
      WorkerCounters c = worker_.counters();
      auto now = std::chrono::steady_clock::now();
      if (c.processed != last.processed || c.running > 0) {
        double secs = std::chrono::duration<double>(now - last_at).count();
        std::printf(
            "processed %llu (+%llu, %.1f tasks/s), running %d, failed %llu, retried %llu, dead "
            "%llu\n",
            static_cast<unsigned long long>(c.processed),
            static_cast<unsigned long long>(c.processed - last.processed),
            static_cast<double>(c.processed - last.processed) / secs, c.running,
            static_cast<unsigned long long>(c.failed), static_cast<unsigned long long>(c.retried),
            static_cast<unsigned long long>(c.dead));
        std::fflush(stdout);
      }
      last = c;
      last_at = now;
    }
  }

  const Worker& worker_;
  Millis every_ms_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

void print_summary(const WorkerCounters& c) {
  std::printf(
      "runq worker: stopped after %llu task(s): %llu succeeded, %llu failed, %llu retried, %llu "
      "dead\n",
      static_cast<unsigned long long>(c.processed), static_cast<unsigned long long>(c.succeeded),
      static_cast<unsigned long long>(c.failed), static_cast<unsigned long long>(c.retried),
      static_cast<unsigned long long>(c.dead));
}

}  // namespace

int run_worker_cmd(App& app, const WorkerArgs& a) {
  if (app.task_names().empty()) {
    return fail(kCmd,
                "no tasks are registered in this binary; run the worker from your application's "
                "binary (app.main)",
                kExitFailure);
  }
  Result<Parsed> parsed = parse_options(a);
  if (!parsed.ok()) return fail(kCmd, parsed.status());
  Worker worker(app, parsed->options);
  // Before any thread starts, so the worker's threads inherit the blocked signals.
  SignalWaiter signals(std::string(kCmd), [&worker] { worker.request_stop(); });
  Result<std::shared_ptr<Store>> store =
      open_app_store_retrying(app, "worker", [&signals] { return signals.signalled(); });
  if (!store.ok()) return fail(kCmd, store.status());
  Status s = worker.start();
  if (!s.ok()) return fail(kCmd, s);
  print_banner(app, worker, parsed->options);
  {
    Reporter reporter(worker, parsed->report_ms);
    worker.wait();
  }
  print_summary(worker.counters());
  return kExitOk;
}

}  // namespace runq::internal
