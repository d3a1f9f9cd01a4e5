// runq/schedule.hpp — when a periodic task fires: cron expressions, fixed intervals, time zones.
//
//   runq::Schedule nightly = runq::cron("0 3 * * *", "Europe/Paris");  // 03:00 Paris time
//   runq::Schedule often = runq::every(std::chrono::minutes(10));       // :00, :10, :20 ... UTC
//   runq::Result<runq::Schedule> s = runq::parse_cron(user_text);     // non-throwing
//   Millis t = nightly.next_after(clock.now_ms());                      // first fire after now
//
// A Schedule only computes fire times ("ticks"). Firing them — exactly once per tick however
// many schedulers run — is the scheduler's job (`worker --beat`, `runq beat`); see
// docs/periodic-tasks.md for that contract, the misfire policies and the clock-skew rule.
//
// CRON SYNTAX. Five fields, or six with a leading seconds field:
//
//   [second] minute hour day-of-month month day-of-week
//    0-59    0-59   0-23  1-31        1-12  0-7 (0 and 7 are Sunday)
//
// Each field is a comma-separated list of: `*`, a value `5`, a range `1-5`, a step over all
// values `*/15`, over a range `10-50/20`, or from a start to the end of the field `5/15`
// (= 5-59/15). Months accept JAN-DEC and weekdays SUN-SAT, case-insensitive; a weekday range
// may end on Sunday (`FRI-SUN`, `5-0`, `5-7`). Five-field expressions fire at second 0.
// Macros: @yearly = @annually = "0 0 1 1 *", @monthly = "0 0 1 * *", @weekly = "0 0 * * 0",
// @daily = @midnight = "0 0 * * *", @hourly = "0 * * * *". `@every DURATION` (e.g.
// "@every 10m", "@every 1h30m", "@every 500ms") is the text form of every().
//
// Day-of-month and day-of-week follow the Vixie-cron rule: when BOTH fields are restricted
// (neither starts with `*`), a day matches if EITHER matches ("0 0 1,15 * MON" runs on the
// 1st, the 15th and every Monday); otherwise a day must match both (so "0 0 */2 * MON" runs on
// odd-numbered days that are Mondays, and "0 0 * * MON" on Mondays).
//
// An expression that can never fire ("0 0 30 2 *") is rejected when parsed.
//
// TIME ZONES. A cron expression is matched against the local wall-clock time of its IANA
// zone (default "UTC"). Across daylight-saving changes (Vixie-cron's rule):
//  - A FIXED-TIME schedule (neither the minute nor the hour field starts with `*`, e.g.
//    "30 2 * * *"): a local time that does not exist (skipped by spring-forward) fires once,
//    at the first instant after the gap (02:30 on the Paris spring-forward day fires at 03:00
//    CEST); a local time that happens twice (fall-back) fires once, at its first occurrence.
//  - A WILDCARD schedule (minute or hour starts with `*`, e.g. "*/15 * * * *", "0 * * * *",
//    "@hourly") follows the real clock: it fires whenever the local clock shows a matching
//    time. Times inside a gap are skipped, and a repeated hour fires on each pass, so the
//    schedule keeps firing at real intervals (every 15 minutes of elapsed time) through both
//    changes.
// Zone rules come from the system tz database (/usr/share/zoneinfo); beyond its last listed
// transition (2037 with Debian's files) a zone keeps its last offset.
//
// INTERVALS. every(d) fires at every multiple of d since the Unix epoch (1970-01-01T00:00Z):
// every scheduler on every host computes the same ticks without talking to the others. Its
// zone only affects how times are displayed.
//
// Thread safety: Schedule is an immutable value; copies share state and may be used from any
// number of threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "runq/clock.hpp"
#include "runq/status.hpp"

namespace runq {

namespace internal {
struct ScheduleRep;
}  // namespace internal

// next_after() returns this when a schedule has no further tick (a default-constructed
// Schedule, or a time beyond the supported range, year 9000).
inline constexpr Millis kNever = std::numeric_limits<Millis>::max();

// What the scheduler does with ticks that fell due while no scheduler was running (or while
// it was late by more than its grace period, 1 s by default). Ticks that are on time always
// fire. Underlying type int: the value is stored as an int by App.
enum class Misfire {
  kRunOnce,  // fire one run for all the missed ticks (the latest); the default
  kSkip,     // drop missed ticks; wait for the next on-time tick
  kRunAll,   // fire every missed tick, oldest first, at most PeriodicOptions::run_all_limit
};

// The fixed name of `misfire`: "run_once", "skip", "run_all". Used by the CLI and in the
// schedule state a scheduler stores.
std::string_view misfire_name(Misfire misfire);
// Parses a name produced by misfire_name (also accepts '-' for '_', case-insensitive).
// nullopt for anything else. Never throws.
std::optional<Misfire> parse_misfire(std::string_view name);

// Per-schedule scheduling options.
struct PeriodicOptions {
  // Missed-tick policy [kRunOnce].
  Misfire misfire = Misfire::kRunOnce;
  // kRunAll only: the most missed ticks fired after one outage [100]. When more were missed,
  // the oldest are dropped and the latest run_all_limit fire.
  int run_all_limit = 100;
};

// A cron expression or a fixed interval, with the IANA time zone it is evaluated in. Build
// one with cron(), parse_cron() or every(); every Schedule that exists is valid (bad input
// is rejected when parsed). Copying is cheap (a shared pointer to the parsed form).
class Schedule {
 public:
  // A schedule that never fires: next_after() is always kNever. Exists so that structs
  // holding a Schedule can be default-constructed; assign a real one before use.
  Schedule();

  // The first tick strictly after `t` (ms since the Unix epoch, UTC), or kNever. Cron ticks
  // fall on whole seconds. Never throws. Cost: a few microseconds; the search jumps field by
  // field (month, day, hour...) instead of scanning minutes.
  Millis next_after(Millis t) const;

  // The expression as given (trimmed), e.g. "*/15 * * * *", "@daily", or "@every 10m" for
  // an interval. parse_cron(s.expression(), s.zone()) gives back an equal schedule.
  std::string expression() const;

  // The zone name as given, e.g. "UTC", "Europe/Paris".
  std::string zone() const;

  // The same schedule evaluated in zone `tz` ("Europe/Paris", "America/New_York", "UTC").
  // Throws InvalidSchedule (runq/error.hpp) if the zone is unknown.
  Schedule in_zone(std::string_view tz) const;

  // One line for people and `runq schedule list`, e.g.
  // `cron "0 8 * * MON-FRI" in Europe/Paris (fixed time)` or `every 10m (UTC)`.
  std::string describe() const;

  // True for every(), false for cron expressions.
  bool is_interval() const;

  // `t` as ISO 8601 in this schedule's zone with its offset, e.g.
  // "2024-03-31T03:00:00+02:00"; milliseconds are shown only when not zero. kNever -> "never".
  std::string format_time(Millis t) const;

  // Same expression (after macro expansion) and zone.
  friend bool operator==(const Schedule& a, const Schedule& b);

 private:
  explicit Schedule(std::shared_ptr<const internal::ScheduleRep> rep);
  friend Result<Schedule> parse_cron(std::string_view expr, std::string_view tz);
  friend Schedule every(std::chrono::milliseconds period);

  std::shared_ptr<const internal::ScheduleRep> rep_;
};

// Parses a cron expression (see the syntax above) or "@every DURATION", evaluated in zone
// `tz`. Never throws. Errors: InvalidArgument with a message that names the bad field, e.g.
//   invalid cron expression "*/0 * * * *": minute field "*/0": step must be >= 1
//   invalid cron expression "0 0 30 2 *": day-of-month field "30": never matches in month
//       field "2"
//   invalid time zone "Europe/Pariss": not in the time zone database
Result<Schedule> parse_cron(std::string_view expr, std::string_view tz = "UTC");

// parse_cron that throws InvalidSchedule (runq/error.hpp) with the same message. For
// registering schedules in code, where a typo should stop the program at startup.
Schedule cron(std::string_view expr, std::string_view tz = "UTC");

// A tick every `period`, anchored at the Unix epoch (see INTERVALS above), zone "UTC".
// Throws InvalidSchedule if period <= 0.
Schedule every(std::chrono::milliseconds period);

}  // namespace runq
