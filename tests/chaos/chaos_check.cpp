#include "chaos/chaos_check.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

#include "runq/result.hpp"
#include "scheduler/internal/ticks.hpp"

namespace runq::chaos {
namespace {

constexpr int kCheckThreads = 4;  // status reads of 100,000 tasks go faster in parallel
constexpr int kShowLost = 10;     // lost ids printed, at most

Millis now_ms() { return Clock::system().now_ms(); }

// True when `id` has a SUCCESS result; prints why not for the first few that do not.
bool succeeded(Store& store, const std::string& id, std::atomic<int>& shown) {
  Result<TaskStatus> st = read_task_status(store, id, now_ms());
  if (st.ok() && st->state == TaskState::kSuccess) return true;
  if (shown++ < kShowLost) {
    std::fprintf(stderr, "chaos: task %s: %s\n", id.c_str(),
                 st.ok() ? (std::string(task_state_name(st->state)) + " " + st->error).c_str()
                         : st.status().message().c_str());
  }
  return false;
}

}  // namespace

std::int64_t queued_total(Store& store) {
  Result<StoreStats> st = store.stats(now_ms());
  if (!st.ok()) return -1;
  std::int64_t n = 0;
  for (const QueueStats& q : st->queues) n += q.pending + q.scheduled + q.running + q.dead;
  return n;
}

void check_tasks(Store& store, const std::vector<std::string>& accepted, const RunRecord& record,
                 ChaosReport& report) {
  std::atomic<std::int64_t> lost{0};
  std::atomic<int> shown{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kCheckThreads; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t i = static_cast<std::size_t>(t); i < accepted.size(); i += kCheckThreads) {
        const std::string& id = accepted[i];
        bool ran = record.runs_of(id) > 0;
        if (!ran && shown++ < kShowLost)
          std::fprintf(stderr, "chaos: task %s never ran\n", id.c_str());
        if (!ran || !succeeded(store, id, shown)) ++lost;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  report.lost = lost;
  for (const std::string& id : accepted) report.duplicates += std::max(0, record.runs_of(id) - 1);
  report.malformed_lines += record.malformed();
}

void check_chords(Store& store, const std::vector<std::string>& bodies, int members,
                  ChaosReport& report) {
  report.chords = static_cast<std::int64_t>(bodies.size());
  int shown = 0;
  for (const std::string& id : bodies) {
    Result<TaskStatus> st = read_task_status(store, id, now_ms());
    if (st.ok() && st->state == TaskState::kSuccess && st->value == std::to_string(members)) {
      continue;
    }
    ++report.chords_wrong;
    if (shown++ < kShowLost) {
      std::fprintf(stderr, "chaos: chord body %s: %s\n", id.c_str(),
                   st.ok() ? (std::string(task_state_name(st->state)) + " value " + st->value +
                              " " + st->error)
                                 .c_str()
                           : st.status().message().c_str());
    }
  }
}

void check_ticks(Store& store, Millis beats_started, const RunRecord& ticks, ChaosReport& report) {
  Result<std::vector<ScheduleState>> schedules = store.list_schedules();
  if (!schedules.ok()) {
    report.failure = "listing schedules: " + schedules.status().message();
    return;
  }
  Millis last = 0;
  for (const ScheduleState& s : *schedules) {
    if (s.name == "tick") last = s.last_tick;
  }
  // From the first tick that ran (a Beat fires ticks from its creation on, some time after
  // the process started), every second up to the last claimed tick.
  std::atomic<int> shown{0};
  bool first_seen = false;
  for (Millis t = beats_started / 1000 * 1000; t <= last; t += 1000) {
    std::string id = internal::periodic_task_id("tick", t);
    first_seen = first_seen || ticks.runs_of(id) > 0;
    if (!first_seen) continue;
    ++report.ticks;
    bool in_outage = std::any_of(report.beat_outages.begin(), report.beat_outages.end(),
                                 [t](const auto& w) { return t >= w.first && t <= w.second; });
    std::atomic<int> quiet{kShowLost};  // a misfire is expected: not worth a line
    if (succeeded(store, id, in_outage ? quiet : shown)) continue;
    ++(in_outage ? report.ticks_misfired : report.ticks_missing);
  }
  report.duplicates += ticks.duplicates();
  report.malformed_lines += ticks.malformed();
}

std::string ChaosReport::summary(const std::string& store) const {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "chaos: %s, %lld tasks, %lld worker kills, %lld worker stops, %lld store kills, "
                "%lld beat kills, %lld lost, %lld duplicate runs (bound %lld), %lld ticks "
                "(%lld missing, %lld misfired in outages), %lld still queued, %.1f s",
                store.c_str(), (long long)accepted, (long long)worker_kills,
                (long long)worker_stops, (long long)store_kills, (long long)beat_kills,
                (long long)lost, (long long)duplicates, (long long)duplicate_bound,
                (long long)ticks, (long long)ticks_missing, (long long)ticks_misfired,
                (long long)still_queued, seconds);
  std::string s = buf;
  if (chords > 0) {
    s += ", " + std::to_string(chords) + " chords (" + std::to_string(chords_wrong) + " wrong)";
  }
  if (malformed_lines > 0) s += ", " + std::to_string(malformed_lines) + " torn record lines";
  if (!failure.empty()) s += " — " + failure;
  return s;
}

}  // namespace runq::chaos
