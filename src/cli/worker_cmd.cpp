// `worker`: runs the app's registered tasks until SIGINT/SIGTERM (or --max-tasks), printing a
// banner and, while busy, a throughput line every few seconds.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "cli/cli_support.hpp"
#include "cli/commands.hpp"
#include "cli/signal_waiter.hpp"
#include "core/duration.hpp"
#include "runq/app.hpp"
#include "runq/webhook.hpp"
#include "runq/worker.hpp"

namespace runq::internal {
namespace {

constexpr std::string_view kCmd = "worker";

struct Parsed {
  WorkerOptions options;
  Millis report_ms = 5000;
};

// "512MB", "2G", "1048576": bytes, with an optional K/M/G suffix (powers of 1024; a trailing
// B or iB is accepted).
Result<std::uint64_t> parse_size(std::string_view option, const std::string& text) {
  std::size_t end = 0;
  unsigned long long n = 0;
  try {
    n = std::stoull(text, &end);
  } catch (const std::exception&) {
    end = 0;
  }
  std::string unit = text.substr(end);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (unit.ends_with("IB"))
    unit.resize(unit.size() - 2);
  else if (unit.ends_with("B"))
    unit.resize(unit.size() - 1);
  std::uint64_t scale = unit.empty()  ? 1
                        : unit == "K" ? 1ull << 10
                        : unit == "M" ? 1ull << 20
                        : unit == "G" ? 1ull << 30
                                      : 0;
  if (end == 0 || scale == 0 || n == 0) {
    return invalid_argument_error(std::string(option) +
                                  ": expected a size such as 512MB or 2G, got '" + text + "'");
  }
  return static_cast<std::uint64_t>(n) * scale;
}

// "--autoscale MAX,MIN" (as Celery's): at most MAX threads or children (the concurrency), at
// least MIN.
Status parse_autoscale(const std::string& text, WorkerOptions* o) {
  const std::string usage =
      "--autoscale: expected MAX,MIN with 1 <= MIN <= MAX, e.g. 8,2; got '" + text + "'";
  std::size_t comma = text.find(',');
  if (comma == std::string::npos) return invalid_argument_error(usage);
  int max = 0, min = 0;
  try {
    std::size_t end1 = 0, end2 = 0;
    max = std::stoi(text.substr(0, comma), &end1);
    min = std::stoi(text.substr(comma + 1), &end2);
    if (end1 != comma || end2 != text.size() - comma - 1) return invalid_argument_error(usage);
  } catch (const std::exception&) {
    return invalid_argument_error(usage);
  }
  if (min < 1 || max < min || max > 1024) return invalid_argument_error(usage);
  o->concurrency = max;
  o->autoscale.min = min;
  return ok_status();
}

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
  o.pool = a.pool == "processes" ? WorkerPool::kProcesses : WorkerPool::kThreads;
  if (a.max_tasks_per_child < 0)
    return invalid_argument_error("--max-tasks-per-child: must be >= 0");
  o.max_tasks_per_child = static_cast<std::uint64_t>(a.max_tasks_per_child);
  if (!a.max_memory_per_child.empty()) {
    RUNQ_ASSIGN_OR_RETURN(o.max_memory_per_child,
                          parse_size("--max-memory-per-child", a.max_memory_per_child));
  }
  if (o.pool == WorkerPool::kThreads && (o.max_tasks_per_child > 0 || o.max_memory_per_child > 0))
    return invalid_argument_error(
        "--max-tasks-per-child and --max-memory-per-child need --pool processes");
  if (!a.autoscale.empty()) RUNQ_RETURN_IF_ERROR(parse_autoscale(a.autoscale, &o));
  o.require_hard_limits = a.require_hard_limits;
  RUNQ_ASSIGN_OR_RETURN(o.revoke_grace_ms, parse_duration_option("--revoke-grace", a.revoke_grace));
  return p;
}

// The tasks registered with a hard time limit (TaskOptions::time_limit).
std::vector<std::string> hard_limited_tasks(const App& app) {
  std::vector<std::string> out;
  for (const std::string& name : app.task_names()) {
    const TaskDefinition* def = app.find_task(name);
    if (def != nullptr && def->options.time_limit() > 0) out.push_back(name);
  }
  return out;
}

void print_banner(App& app, const Worker& worker, const WorkerOptions& o) {
  std::printf("runq worker %s\n", worker.id().c_str());
  std::printf("  store:       %s\n", display_url(app.store_url()).c_str());
  std::printf("  queues:      %s\n", join(o.queues, ", ").c_str());
  std::string prefetch = o.prefetch < 0 ? "adaptive" : std::to_string(o.prefetch);
  std::printf("  concurrency: %d (prefetch %s, lease %s, grace %s)\n", o.concurrency,
              prefetch.c_str(), format_duration(o.lease_ms).c_str(),
              format_duration(o.grace_ms).c_str());
  if (o.pool == WorkerPool::kProcesses) {
    std::string recycle;
    if (o.max_tasks_per_child > 0)
      recycle += ", recycled after " + std::to_string(o.max_tasks_per_child) + " tasks";
    if (o.max_memory_per_child > 0)
      recycle += ", recycled above " + std::to_string(o.max_memory_per_child >> 20) + " MiB";
    if (o.autoscale.min >= 0 && o.autoscale.min < o.concurrency) {
      std::printf("  pool:        processes (autoscale %d to %d children%s)\n", o.autoscale.min,
                  o.concurrency, recycle.c_str());
    } else {
      std::printf("  pool:        processes (%d children%s)\n", o.concurrency, recycle.c_str());
    }
  } else if (o.autoscale.min >= 0 && o.autoscale.min < o.concurrency) {
    std::printf("  pool:        threads (autoscale %d to %d threads)\n", o.autoscale.min,
                o.concurrency);
  } else {
    std::printf("  pool:        threads\n");
  }
  std::printf("  tasks:       %s\n", join(app.task_names(), ", ").c_str());
  if (std::vector<std::string> hard = hard_limited_tasks(app);
      o.pool == WorkerPool::kThreads && !hard.empty()) {
    std::printf(
        "  warning:     %s declare hard time limits, which the thread pool cannot enforce "
        "(%s); a task that crashes takes this worker down. Use --pool processes.\n",
        join(hard, ", ").c_str(),
        o.require_hard_limits ? "they will fail" : "they act as soft limits");
  }
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

// --webhooks: registers the push task (runq/webhook.hpp) for the listed hosts.
Status register_webhooks(App& app, const WorkerArgs& a) {
  if (a.webhooks.empty()) {
    if (!a.webhook_secret_file.empty())
      return invalid_argument_error("--webhook-secret-file needs --webhooks HOSTS");
    return Status();
  }
  WebhookOptions o;
  for (std::size_t start = 0; start <= a.webhooks.size();) {
    std::size_t comma = std::min(a.webhooks.find(',', start), a.webhooks.size());
    std::string host = a.webhooks.substr(start, comma - start);
    if (!host.empty()) o.allowed_hosts.push_back(host);
    start = comma + 1;
  }
  if (o.allowed_hosts.empty()) {
    return invalid_argument_error("--webhooks: give host names, e.g. --webhooks hooks.example.com");
  }
  if (!a.webhook_secret_file.empty()) {
    std::ifstream in(a.webhook_secret_file);
    if (!in || !std::getline(in, o.secret) || o.secret.empty()) {
      return invalid_argument_error("--webhook-secret-file: cannot read a secret from '" +
                                    a.webhook_secret_file + "' (its first line, not empty)");
    }
  }
  if (app.find_task(kWebhookTask)) {
    return invalid_argument_error("--webhooks: this binary already registers a task named '" +
                                  std::string(kWebhookTask) + "'");
  }
  register_webhook_task(app, std::move(o));
  return Status();
}

}  // namespace

int run_worker_cmd(App& app, const WorkerArgs& a) {
  if (Status hooks = register_webhooks(app, a); !hooks.ok()) return fail(kCmd, hooks);
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
