#include "http/metrics.hpp"

#include <cstdio>
#include <functional>

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

}  // namespace

Result<std::string> render_metrics(Store& store, Millis now) {
  Result<StoreStats> stats = store.stats(now);
  if (!stats.ok()) return stats.status().with_context("reading the metrics");
  Writer w;
  queue_gauges(w, *stats);
  worker_gauges(w, *stats);
  totals(w, *stats);
  return w.take();
}

}  // namespace runq::internal
