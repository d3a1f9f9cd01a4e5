// What a runq::Schedule holds, and the tick arithmetic behind Schedule::next_after.
#pragma once

#include <optional>
#include <string>

#include "runq/clock.hpp"
#include "scheduler/internal/cron_spec.hpp"
#include "scheduler/internal/zone.hpp"

namespace runq::internal {

struct ScheduleRep {
  std::string expression;  // as given, trimmed; "@every 10m" for intervals
  Zone zone;
  std::optional<CronSpec> cron;  // set for cron schedules
  Millis interval_ms = 0;        // > 0 for interval schedules
};

// The first tick of `spec` in `zone` strictly after `t`, applying the DST rules documented in
// runq/schedule.hpp (fixed-time vs wildcard). nullopt when there is none.
std::optional<Millis> next_cron_tick(const CronSpec& spec, const Zone& zone, Millis t);

// "10m", "1h30m", "1s500ms": a form internal::parse_duration reads back.
std::string format_interval(Millis ms);

// ISO 8601 in `zone` with its offset: "2024-03-31T03:00:00+02:00" (".mmm" when not zero).
std::string format_in_zone(Millis t, const Zone& zone);

}  // namespace runq::internal
