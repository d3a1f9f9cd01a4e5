// `status [--json]`: queues, live workers, throughput and periodic schedules at a glance.
#include <chrono>
#include <cstdio>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/cli_support.hpp"
#include "cli/commands.hpp"
#include "cli/schedule_view.hpp"
#include "core/duration.hpp"
#include "runq/app.hpp"

namespace runq::internal {
namespace {

constexpr std::string_view kCmd = "status";

struct Snapshot {
  StoreStats stats;
  std::vector<ScheduleView> schedules;
  double rate = -1;  // completed tasks/s between two samples; < 0 = not sampled
  Millis sampled_ms = 0;
  std::vector<QueueControl> controls;  // paused or bounded queues (flow control)
  std::vector<RateLimitState> rates;   // rate-limit buckets in use (flow control)
};

// Two reads of the completed counter `gap_ms` apart give the current rate. Only worth the
// wait when some worker is alive to complete anything.
Result<Snapshot> take_snapshot(Store& store, Clock& clock, Millis gap_ms) {
  Snapshot s;
  RUNQ_ASSIGN_OR_RETURN(s.stats, store.stats(clock.now_ms()));
  if (gap_ms > 0 && !s.stats.workers.empty()) {
    std::uint64_t before = s.stats.completed;
    auto start = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms));
    RUNQ_ASSIGN_OR_RETURN(s.stats, store.stats(clock.now_ms()));
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    s.rate = static_cast<double>(s.stats.completed - before) / secs;
    s.sampled_ms = gap_ms;
  }
  RUNQ_ASSIGN_OR_RETURN(s.schedules, load_schedules(store, clock.now_ms()));
  // A store without queue controls has none to show.
  if (Result<std::vector<QueueControl>> c = store.queue_controls(); c.ok()) {
    s.controls = std::move(c).value();
  } else if (!is_failed_precondition(c.status())) {
    return c.status();
  }
  if (Result<std::vector<RateLimitState>> r = store.rate_limits(clock.now_ms()); r.ok()) {
    s.rates = std::move(r).value();
  } else if (!is_failed_precondition(r.status())) {
    return r.status();
  }
  return s;
}

// Tasks/s each worker averaged since it started, summed.
double lifetime_rate(const StoreStats& stats) {
  double sum = 0;
  for (const WorkerInfo& w : stats.workers) {
    Millis up = w.last_seen - w.started;
    if (up > 0) sum += static_cast<double>(w.processed) * 1000.0 / static_cast<double>(up);
  }
  return sum;
}

nlohmann::json to_json(const Snapshot& s, const std::string& url) {
  nlohmann::json queues = nlohmann::json::array(), workers = nlohmann::json::array(),
                 schedules = nlohmann::json::array();
  for (const QueueStats& q : s.stats.queues) {
    queues.push_back({{"queue", q.queue},
                      {"pending", q.pending},
                      {"scheduled", q.scheduled},
                      {"running", q.running},
                      {"dead", q.dead}});
  }
  for (const WorkerInfo& w : s.stats.workers) {
    workers.push_back({{"id", w.id},
                       {"host", w.host},
                       {"pid", w.pid},
                       {"queues", w.queues},
                       {"concurrency", w.concurrency},
                       {"running", w.running},
                       {"processed", w.processed},
                       {"failed", w.failed},
                       {"started", time_json(w.started)},
                       {"last_seen", time_json(w.last_seen)}});
  }
  for (const ScheduleView& v : s.schedules) schedules.push_back(schedule_json(v));
  nlohmann::json throughput = {
      {"completed", s.stats.completed},
      {"failed", s.stats.failed},
      {"duplicates", s.stats.duplicates},
      {"workers_average_per_second", lifetime_rate(s.stats)},
      {"per_second", s.rate >= 0 ? nlohmann::json(s.rate) : nlohmann::json(nullptr)}};
  nlohmann::json controls = nlohmann::json::array();
  for (const QueueControl& c : s.controls) {
    controls.push_back({{"queue", c.queue}, {"paused", c.paused}, {"max_length", c.max_length}});
  }
  nlohmann::json rates = nlohmann::json::array();
  for (const RateLimitState& r : s.rates) {
    rates.push_back({{"key", r.key},
                     {"count", r.count},
                     {"period_ms", r.period_ms},
                     {"started_last_period", r.started_last_period},
                     {"next_free_ms", r.next_free_ms}});
  }
  return {{"store", url},          {"queues", queues},   {"queue_controls", controls},
          {"rate_limits", rates},  {"workers", workers}, {"throughput", throughput},
          {"schedules", schedules}};
}

void print_queues(const StoreStats& stats) {
  if (stats.queues.empty()) {
    std::printf("queues: none (nothing enqueued yet)\n");
    return;
  }
  std::vector<std::vector<std::string>> rows = {
      {"QUEUE", "PENDING", "SCHEDULED", "RUNNING", "DEAD"}};
  for (const QueueStats& q : stats.queues) {
    rows.push_back({q.queue, std::to_string(q.pending), std::to_string(q.scheduled),
                    std::to_string(q.running), std::to_string(q.dead)});
  }
  print_table(rows);
}

// Paused and bounded queues, under the queue table.
void print_queue_controls(const std::vector<QueueControl>& controls) {
  for (const QueueControl& c : controls) {
    std::string what = c.paused ? "PAUSED (runq queue resume " + c.queue + ")" : "";
    if (c.max_length > 0) {
      what += (what.empty() ? "" : "; ") + std::string("bounded to ") +
              std::to_string(c.max_length) + " waiting tasks";
    }
    std::printf("queue '%s': %s\n", c.queue.c_str(), what.c_str());
  }
}

// Rate-limit buckets: the limit and the tasks started in the latest full period.
void print_rate_limits(const std::vector<RateLimitState>& rates) {
  for (const RateLimitState& r : rates) {
    const std::string unit = r.period_ms == 1000        ? "s"
                             : r.period_ms == 60'000    ? "m"
                             : r.period_ms == 3'600'000 ? "h"
                                                        : format_duration(r.period_ms);
    std::printf(
        "rate limit '%s': %lld/%s, %lld started in the last period%s\n", r.key.c_str(),
        static_cast<long long>(r.count), unit.c_str(),
        static_cast<long long>(r.started_last_period),
        r.next_free_ms > 0 ? ("; next allowed in " + format_duration(r.next_free_ms)).c_str() : "");
  }
}

void print_workers(const StoreStats& stats, Millis now) {
  if (stats.workers.empty()) {
    std::printf("workers: none alive\n");
    return;
  }
  std::printf("workers: %zu alive\n", stats.workers.size());
  std::vector<std::vector<std::string>> rows = {
      {"ID", "HOST", "PID", "QUEUES", "CONCURRENCY", "RUNNING", "PROCESSED", "LAST SEEN"}};
  for (const WorkerInfo& w : stats.workers) {
    rows.push_back({w.id, w.host, std::to_string(w.pid), join(w.queues, ","),
                    std::to_string(w.concurrency), std::to_string(w.running),
                    std::to_string(w.processed), relative_time(w.last_seen, now)});
  }
  print_table(rows);
}

void print_throughput(const Snapshot& s) {
  std::printf("completed: %llu (failed %llu, duplicate attempts %llu)\n",
              static_cast<unsigned long long>(s.stats.completed),
              static_cast<unsigned long long>(s.stats.failed),
              static_cast<unsigned long long>(s.stats.duplicates));
  if (s.rate >= 0) {
    std::printf("throughput: %.1f tasks/s (over the last %s)\n", s.rate,
                format_duration(s.sampled_ms).c_str());
  }
  if (!s.stats.workers.empty()) {
    std::printf("workers' average since start: %.1f tasks/s\n", lifetime_rate(s.stats));
  }
}

void print_human(const Snapshot& s, const std::string& url, Millis now) {
  std::printf("store: %s\n\n", url.c_str());
  print_queues(s.stats);
  print_queue_controls(s.controls);
  print_rate_limits(s.rates);
  std::printf("\n");
  print_workers(s.stats, now);
  std::printf("\n");
  print_throughput(s);
  if (!s.schedules.empty()) {
    std::printf("\nperiodic schedules:\n");
    print_schedules(s.schedules, now);
  }
}

}  // namespace

int run_status_cmd(App& app, const StatusArgs& a) {
  Result<Millis> gap = parse_duration_option("--sample", a.sample);
  if (!gap.ok()) return fail(kCmd, gap.status());
  Result<std::shared_ptr<Store>> store = open_app_store(app);
  if (!store.ok()) return fail(kCmd, store.status());
  Result<Snapshot> snap = take_snapshot(**store, app.clock(), *gap);
  if (!snap.ok()) return fail(kCmd, snap.status());
  if (a.json) {
    std::printf("%s\n", to_json(*snap, display_url(app.store_url())).dump().c_str());
  } else {
    print_human(*snap, display_url(app.store_url()), app.clock().now_ms());
  }
  return kExitOk;
}

}  // namespace runq::internal
