// Human durations and times as the CLI and options accept them: "250ms", "10s", "5m", "2h", "1d",
// "1h30m", or a bare number of seconds ("30").
#pragma once

#include <string>
#include <string_view>

#include "runq/clock.hpp"
#include "runq/status.hpp"

namespace runq::internal {

// Errors: InvalidArgument naming the input and the accepted forms.
Result<Millis> parse_duration(std::string_view text);
// An ISO 8601 time: "2026-01-01T00:00:00Z", "2026-01-01T09:30:00+02:00",
// "2026-01-01T00:00:00.250Z", also with a space instead of 'T', or a date alone ("2026-01-01").
// A time without an offset is read as UTC. Errors: InvalidArgument naming the input and the
// accepted forms, or the range for a time before 1970 or from 2200 on (kTimeCeiling).
Result<Millis> parse_iso_time(std::string_view text);
// 2200-01-01T00:00:00Z in ms: times are refused from here on, well inside what
// std::chrono::system_clock (nanoseconds in 64 bits, up to 2262) can hold.
inline constexpr Millis kTimeCeiling = 7'258'118'400'000;
// "250ms", "10s", "1m30s"...
std::string format_duration(Millis ms);
// ISO 8601 UTC with milliseconds, e.g. "2026-11-29T17:48:00.000Z". 0 -> "-".
std::string format_time(Millis ms);
// "in 5m", "3s ago", "now": `t` relative to `now`, rounded to whole seconds.
std::string relative_time(Millis t, Millis now);
// "2026-01-01T00:00:00.000Z (in 5m)" / "(3s ago)"; "-" for 0.
std::string describe_time(Millis t, Millis now);

}  // namespace runq::internal
