// Activity: what one worker did, reported with each heartbeat (WorkerInfo::activity) so that
// any process reading the store (`runq serve`: /metrics, the dashboard) can add it up across
// every worker on every machine:
//  - the running tasks: id, task name, start time (at most kMaxRunning);
//  - per task name (at most kMaxNames, the rest as "(other)"): outcome counters (succeeded,
//    failed, retried, dead, revoked, expired) and histograms of queue wait (from enqueue, or
//    eta, to start) and run time, since the worker started;
//  - per minute, for the last kMinutes minutes: completed and failed counts and the same two
//    histograms (all task names together).
// Histograms have the fixed bucket bounds kBounds (seconds), so they add up across workers.
//
// JSON (docs/http-api.md, "Worker activity"):
//   {"v":1,"running":[{"id","task","started"}],
//    "tasks":{"add":{"succeeded":n,...,"wait":{"b":[n...],"sum":s},"run":{...}}},
//    "minutes":[{"t":minute_start_ms,"ok":n,"fail":n,"wait":{...},"run":{...}}]}
// where "b" holds the count of each bucket (not cumulative), the last one for > the last bound.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>

#include "core/mutex.hpp"
#include "runq/clock.hpp"

namespace runq::internal {

class Activity {
 public:
  static constexpr std::array<double, 14> kBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                     1,     2.5,  5,     10,   30,  60,   300};
  static constexpr std::size_t kBuckets = kBounds.size() + 1;
  static constexpr int kMinutes = 60;
  static constexpr std::size_t kMaxRunning = 100;
  static constexpr std::size_t kMaxNames = 200;

  enum class Kind { kSucceeded, kFailed, kRetried, kDead, kRevoked, kExpired, kReleased };
  static constexpr std::array<const char*, 6> kKindNames = {"succeeded", "failed",  "retried",
                                                            "dead",      "revoked", "expired"};

  // Task `id` (named `task`) starts at `now`, having waited `wait_ms` since it was due.
  void started(const std::string& id, std::string_view task, Millis wait_ms, Millis now)
      RUNQ_EXCLUDES(mu_);
  // It ended as `kind` after `run_ms` (kReleased: given back unstarted, not counted).
  void finished(const std::string& id, Kind kind, Millis run_ms, Millis now) RUNQ_EXCLUDES(mu_);
  // The JSON above, as of `now` (minutes older than kMinutes dropped).
  std::string json(Millis now) const RUNQ_EXCLUDES(mu_);

  struct Histogram {
    std::array<std::uint64_t, kBuckets> counts{};
    double sum = 0;  // seconds
    void add(Millis ms);
  };

 private:
  struct Running {
    std::string task;
    Millis started = 0;
  };
  struct Totals {
    std::array<std::uint64_t, kKindNames.size()> outcomes{};
    Histogram wait, run;
  };
  struct Minute {
    Millis start = 0;
    std::uint64_t ok = 0, fail = 0;
    Histogram wait, run;
  };
  Totals& totals(std::string_view task) RUNQ_REQUIRES(mu_);
  Minute& minute(Millis now) RUNQ_REQUIRES(mu_);

  mutable Mutex mu_;
  std::map<std::string, Running> running_ RUNQ_GUARDED_BY(mu_);
  std::map<std::string, Totals, std::less<>> tasks_ RUNQ_GUARDED_BY(mu_);
  std::deque<Minute> minutes_ RUNQ_GUARDED_BY(mu_);  // oldest first
};

}  // namespace runq::internal
