// CronSpec: a parsed cron expression, and the search for its next matching wall-clock time.
//
// Everything here works on "civil" time: seconds since 1970-01-01 00:00:00 of a calendar with
// no zone and no DST. Mapping civil times to instants (and the DST rules) is zone.hpp's and
// schedule.cpp's job.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runq/status.hpp"

namespace runq::internal {

using CivilSeconds = std::int64_t;

struct CronSpec {
  // Bit i set = value i allowed. Day-of-month uses bits 1..31, month 1..12, day-of-week 0..6
  // (0 = Sunday; a 7 in the expression sets bit 0).
  std::uint64_t seconds = 0;
  std::uint64_t minutes = 0;
  std::uint64_t hours = 0;
  std::uint64_t days_of_month = 0;
  std::uint64_t months = 0;
  std::uint64_t days_of_week = 0;
  // The field's text started with '*' (Vixie cron's DOM_STAR, DOW_STAR, MIN_STAR, HR_STAR).
  bool dom_star = false;
  bool dow_star = false;
  bool minute_star = false;
  bool hour_star = false;
  bool has_seconds = false;  // six fields were given
  std::string expanded;      // the field text after macro expansion, e.g. "0 0 * * *"

  // Vixie cron's "wildcard job": follows the real clock across DST changes.
  bool wildcard() const { return minute_star || hour_star; }
  // Vixie rule: both day fields restricted -> either may match; otherwise both must.
  bool day_matches(int day_of_month, int weekday) const;

  // The smallest matching civil time >= `from`, or nullopt when none exists within 400 years
  // (one full Gregorian cycle, so "never" is exact).
  std::optional<CivilSeconds> next_civil(CivilSeconds from) const;
};

// Parses a five- or six-field expression or a macro (@daily...). Does not handle "@every".
// Errors: InvalidArgument, "invalid cron expression \"EXPR\": FIELD field \"TEXT\": WHY".
Result<CronSpec> parse_cron_spec(std::string_view expr);

// Civil-time helpers (proleptic Gregorian).
struct CivilFields {
  int year, month, day, hour, minute, second;
};
CivilSeconds civil_from_fields(int year, int month, int day, int hour, int minute, int second);
CivilFields civil_fields(CivilSeconds t);
int days_in_month(int year, int month);

}  // namespace runq::internal
