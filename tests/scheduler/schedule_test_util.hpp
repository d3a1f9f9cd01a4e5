// Helpers for the scheduler tests: readable instants and fire-time lists.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "runq/schedule.hpp"
#include "scheduler/internal/cron_spec.hpp"

namespace runq::testing {

// "2024-03-31T01:30:00" or "2024-03-31T01:30:00.250" read as UTC, in ms since the epoch.
inline Millis utc(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
  std::sscanf(std::string(text).c_str(), "%d-%d-%dT%d:%d:%d.%d", &y, &mo, &d, &h, &mi, &s, &ms);
  return internal::civil_from_fields(y, mo, d, h, mi, s) * 1000 + ms;
}

// The next `n` ticks after `from`, formatted in the schedule's zone.
inline std::vector<std::string> next_n(const Schedule& schedule, Millis from, int n) {
  std::vector<std::string> out;
  for (Millis t = from; static_cast<int>(out.size()) < n;) {
    t = schedule.next_after(t);
    out.push_back(schedule.format_time(t));
    if (t == kNever) break;
  }
  return out;
}

}  // namespace runq::testing
