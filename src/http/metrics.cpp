#include "http/metrics.hpp"

#include <cstdio>
#include <functional>

#include "http/activity.hpp"

namespace runq::internal {
namespace {

// A label value with \, " and newline escaped, as the exposition format requires.
std::string label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

class Writer {
 public:
  void family(const char* name, const char* type, const char* help) {
    out_ += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  void sample(const char* name, const std::string& labels, double value) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", value);
    out_ += name;
    if (!labels.empty()) out_ += "{" + labels + "}";
    out_ += " ";
    out_ += buf;
    out_ += "\n";
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

void queue_gauges(Writer& w, const StoreStats& s) {
  struct Gauge {
    const char* name;
    const char* help;
    std::int64_t QueueStats::*field;
  };
  for (const Gauge& g :
       {Gauge{"runq_queue_pending", "Tasks ready to run.", &QueueStats::pending},
        Gauge{"runq_queue_scheduled", "Tasks waiting for their eta or a retry.",
              &QueueStats::scheduled},
        Gauge{"runq_queue_running", "Tasks reserved by a worker.", &QueueStats::running},
        Gauge{"runq_queue_dead", "Dead-lettered tasks.", &QueueStats::dead}}) {
    w.family(g.name, "gauge", g.help);
    for (const QueueStats& q : s.queues) {
      w.sample(g.name, "queue=\"" + label(q.queue) + "\"", static_cast<double>(q.*g.field));
    }
  }
}

void worker_gauges(Writer& w, const StoreStats& s) {
  w.family("runq_workers_alive", "gauge", "Workers whose heartbeat has not expired.");
  w.sample("runq_workers_alive", "", static_cast<double>(s.workers.size()));
  int busy = 0, running = 0;
  for (const WorkerInfo& wi : s.workers) {
    busy += wi.running > 0 ? 1 : 0;
    running += wi.running;
  }
  w.family("runq_workers_busy", "gauge", "Alive workers running at least one task.");
  w.sample("runq_workers_busy", "", busy);
  w.family("runq_worker_running_tasks", "gauge", "Tasks running on alive workers.");
  w.sample("runq_worker_running_tasks", "", running);
}

void totals(Writer& w, const StoreStats& s) {
  w.family("runq_tasks_completed_total", "counter",
           "Tasks settled final (success, failure, expired, revoked) since the store was created.");
  w.sample("runq_tasks_completed_total", "", static_cast<double>(s.completed));
  w.family("runq_tasks_failed_total", "counter", "Tasks that ended FAILURE.");
  w.sample("runq_tasks_failed_total", "", static_cast<double>(s.failed));
  w.family("runq_duplicate_settlements_total", "counter",
           "Settlements refused because their lease was stale.");
  w.sample("runq_duplicate_settlements_total", "", static_cast<double>(s.duplicates));
}

// Per task name, from the workers' activity: outcome counters and the two histograms.
void task_metrics(Writer& w, const StoreStats& s) {
  ActivitySummary a = summarize_activity(s.workers);
  w.family("runq_task_outcomes_total", "counter",
           "Task attempts by task name and outcome (succeeded, failed, retried, dead, revoked, "
           "expired), summed over the alive workers since each started.");
  for (const auto& [name, t] : a.tasks) {
    for (const char* outcome : {"succeeded", "failed", "retried", "dead", "revoked", "expired"}) {
      auto it = t.outcomes.find(outcome);
      w.sample("runq_task_outcomes_total",
               "task=\"" + label(name) + "\",outcome=\"" + outcome + "\"",
               it == t.outcomes.end() ? 0.0 : static_cast<double>(it->second));
    }
  }
  struct Family {
    const char* name;
    const char* help;
    Buckets TaskActivity::*field;
  };
  for (const Family& f :
       {Family{"runq_task_queue_wait_seconds",
               "Time from enqueue (or eta) to the start of an attempt, by task name.",
               &TaskActivity::wait},
        Family{"runq_task_run_seconds", "Run time of an attempt, by task name.",
               &TaskActivity::run}}) {
    w.family(f.name, "histogram", f.help);
    const std::string bucket = std::string(f.name) + "_bucket";
    for (const auto& [name, t] : a.tasks) {
      const Buckets& b = t.*f.field;
      const std::string task = "task=\"" + label(name) + "\"";
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < b.counts.size(); ++i) {
        cumulative += b.counts[i];
        char le[32];
        if (i < kActivityBounds.size())
          std::snprintf(le, sizeof le, "%g", kActivityBounds[i]);
        else
          std::snprintf(le, sizeof le, "+Inf");
        w.sample(bucket.c_str(), task + ",le=\"" + le + "\"", static_cast<double>(cumulative));
      }
      w.sample((std::string(f.name) + "_sum").c_str(), task, b.sum);
      w.sample((std::string(f.name) + "_count").c_str(), task, static_cast<double>(cumulative));
    }
  }
}

}  // namespace

Result<std::string> render_metrics(Store& store, Millis now) {
  Result<StoreStats> stats = store.stats(now);
  if (!stats.ok()) return stats.status().with_context("reading the metrics");
  Writer w;
  queue_gauges(w, *stats);
  worker_gauges(w, *stats);
  totals(w, *stats);
  task_metrics(w, *stats);
  return w.take();
}

}  // namespace runq::internal
