// The workers' activity (WorkerInfo::activity, written by src/worker/internal/activity.cpp)
// added up across every alive worker: what /metrics exports per task name and what
// GET /api/v1/activity serves the dashboard (throughput and queue-wait / run-time
// percentiles per minute over the last hour, the running tasks).
//
// History lives in the workers' heartbeats, in the store: it is the same whichever server
// reads it and survives a restart of the server; a worker that stops takes its share with it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runq/store.hpp"

namespace runq::internal {

// Bucket upper bounds in seconds (the last bucket is everything above the last bound); the
// same as the workers' (Activity::kBounds), checked by a test.
inline constexpr std::array<double, 14> kActivityBounds = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};

struct Buckets {
  std::array<std::uint64_t, kActivityBounds.size() + 1> counts{};
  double sum = 0;
  std::uint64_t count() const;
  // The q-quantile (0..1), interpolated within its bucket as Prometheus'
  // histogram_quantile does; 0 when empty. Above the last bound: the last bound.
  double quantile(double q) const;
};

struct TaskActivity {
  std::map<std::string, std::uint64_t> outcomes;  // succeeded, failed, retried, dead, ...
  Buckets wait, run;
};

struct MinuteActivity {
  std::uint64_t ok = 0, fail = 0;  // completed (any final outcome) and of those failed/dead
  Buckets wait, run;
};

struct RunningTask {
  std::string id, task, worker;
  Millis started = 0;
};

struct ActivitySummary {
  std::map<std::string, TaskActivity> tasks;
  std::map<Millis, MinuteActivity> minutes;  // by minute start
  std::vector<RunningTask> running;
  int workers_reporting = 0;  // workers whose activity parsed
};

// Adds up the activity of `workers`; an empty or unreadable activity is skipped.
ActivitySummary summarize_activity(const std::vector<WorkerInfo>& workers);
// The running tasks one worker reports (empty when it reports none).
std::vector<RunningTask> running_tasks(const WorkerInfo& worker);

// GET /api/v1/activity: {"minutes": [{"t", "completed", "failed", "wait": {p50, p95, p99},
// "run": {...}}] (the last hour, oldest first, minutes without tasks left out), "tasks":
// {name: {outcomes..., "wait": {...}, "run": {...}}}, "workers_reporting": n}.
nlohmann::json activity_json(const ActivitySummary& summary, Millis now);

}  // namespace runq::internal
