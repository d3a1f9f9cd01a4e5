// runq::Schedule: cron and interval schedules, their zones, and next-tick computation.
#include "runq/schedule.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

#include "core/duration.hpp"
#include "runq/error.hpp"
#include "scheduler/internal/schedule_rep.hpp"

namespace runq {
namespace internal {
namespace {

// Beyond year 9000 next_after answers kNever; this keeps every intermediate in range.
constexpr Millis kMaxSupported = 221'845'392'000'000;  // 9000-01-01T00:00:00Z
constexpr Millis kMinSupported = -30'610'224'000'000;  // 1000-01-01T00:00:00Z
// Two changes a year for 2,000 years: more than any search below can need.
constexpr int kMaxSegments = 4000;

// C++ division truncates toward zero; ticks before the epoch (negative times) need floor.
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Wildcard schedules follow the real clock: walk the zone's constant-offset segments and take
// the first civil match that actually occurs inside its segment. Gap times never occur;
// repeated times occur once in each of the two segments.
std::optional<SysSeconds> next_wildcard(const CronSpec& spec, const Zone& zone,
                                        SysSeconds first_candidate) {
  SysSeconds s = first_candidate;
  for (int i = 0; i < kMaxSegments; ++i) {
    ZoneSegment seg = zone.segment_at(s);
    std::optional<CivilSeconds> civil = spec.next_civil(s + seg.offset);
    if (!civil) return std::nullopt;
    SysSeconds u = *civil - seg.offset;
    if (u < seg.end) return u;
    s = seg.end;
  }
  return std::nullopt;
}

// Fixed-time schedules fire each matching civil time once, at the first instant the wall
// clock reaches it: a gap time at the end of the gap, a repeated time at its first
// occurrence. Times the clock has already shown (high-water mark) are done.
std::optional<SysSeconds> next_fixed(const CronSpec& spec, const Zone& zone,
                                     SysSeconds last_elapsed) {
  CivilSeconds from = zone.high_water_civil(last_elapsed) + 1;
  for (int i = 0; i < kMaxSegments; ++i) {
    std::optional<CivilSeconds> civil = spec.next_civil(from);
    if (!civil) return std::nullopt;
    SysSeconds u = zone.map_civil(*civil).first;
    if (u > last_elapsed) return u;
    from = *civil + 1;  // defensive: cannot happen with a consistent tz database
  }
  return std::nullopt;
}

std::string two(int v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d", v);
  return buf;
}

bool starts_with_every(std::string_view text) {
  if (text.size() < 6) return false;
  std::string head(text.substr(0, 6));
  for (char& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return head == "@every" &&
         (text.size() == 6 || std::isspace(static_cast<unsigned char>(text[6])));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

Result<Millis> parse_every(std::string_view text) {
  std::string_view arg = trim(text.substr(6));
  auto bad = [&](const std::string& why) {
    return invalid_argument_error("invalid cron expression \"" + std::string(text) + "\": " + why);
  };
  if (arg.empty()) return bad("@every needs a duration, e.g. \"@every 10m\"");
  // Guard against overflow in the shared duration parser: no number longer than 9 digits.
  std::size_t run = 0;
  for (char ch : arg) {
    run = std::isdigit(static_cast<unsigned char>(ch)) ? run + 1 : 0;
    if (run > 9) return bad("duration \"" + std::string(arg) + "\" is too large");
  }
  Result<Millis> ms = parse_duration(arg);
  if (!ms.ok()) return bad(ms.status().message());
  if (*ms <= 0) return bad("duration must be > 0");
  return *ms;
}

}  // namespace

std::optional<Millis> next_cron_tick(const CronSpec& spec, const Zone& zone, Millis t) {
  // Ticks are whole seconds strictly after t: t = 10:00:00.500 gives 10:00:01 at the
  // earliest, and so does t = 10:00:00.000.
  SysSeconds last = floor_div(t, 1000);
  std::optional<SysSeconds> u =
      spec.wildcard() ? next_wildcard(spec, zone, last + 1) : next_fixed(spec, zone, last);
  if (!u) return std::nullopt;
  return *u * 1000;
}

std::string format_interval(Millis ms) {
  static constexpr std::array<std::pair<Millis, const char*>, 5> kUnits = {
      {{86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}}};
  std::string out;
  for (const auto& [size, unit] : kUnits) {
    if (ms >= size) {
      out += std::to_string(ms / size) + unit;
      ms %= size;
    }
  }
  return out.empty() ? "0ms" : out;
}

std::string format_in_zone(Millis t, const Zone& zone) {
  if (t == kNever) return "never";
  SysSeconds s = floor_div(t, 1000);
  int ms = static_cast<int>(t - s * 1000);
  std::int64_t offset = zone.segment_at(s).offset;
  CivilFields f = civil_fields(s + offset);
  std::string out = std::to_string(f.year) + "-" + two(f.month) + "-" + two(f.day) + "T" +
                    two(f.hour) + ":" + two(f.minute) + ":" + two(f.second);
  if (ms != 0) {
    char buf[8];
    std::snprintf(buf, sizeof buf, ".%03d", ms);
    out += buf;
  }
  std::int64_t abs_off = offset < 0 ? -offset : offset;
  out += offset < 0 ? "-" : "+";
  out += two(static_cast<int>(abs_off / 3600)) + ":" + two(static_cast<int>(abs_off % 3600 / 60));
  return out;
}

}  // namespace internal

// ---- Misfire --------------------------------------------------------------------------------

std::string_view misfire_name(Misfire misfire) {
  switch (misfire) {
    case Misfire::kSkip:
      return "skip";
    case Misfire::kRunAll:
      return "run_all";
    case Misfire::kRunOnce:
      break;
  }
  return "run_once";
}

std::optional<Misfire> parse_misfire(std::string_view name) {
  std::string key(name);
  for (char& ch : key) {
    ch = ch == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  for (Misfire m : {Misfire::kRunOnce, Misfire::kSkip, Misfire::kRunAll})
    if (key == misfire_name(m)) return m;
  return std::nullopt;
}

// ---- Schedule -------------------------------------------------------------------------------

Schedule::Schedule() = default;

Schedule::Schedule(std::shared_ptr<const internal::ScheduleRep> rep) : rep_(std::move(rep)) {}

Millis Schedule::next_after(Millis t) const {
  if (!rep_ || t >= internal::kMaxSupported) return kNever;
  // Times before year 1000 are treated as year 1000: nobody schedules there, and it keeps
  // the civil-time arithmetic far from overflow.
  t = std::max(t, internal::kMinSupported);
  if (rep_->interval_ms > 0) {
    // Anchored at the epoch, not at start-up: every host computes the same ticks.
    return (internal::floor_div(t, rep_->interval_ms) + 1) * rep_->interval_ms;
  }
  std::optional<Millis> next = internal::next_cron_tick(*rep_->cron, rep_->zone, t);
  return next && *next < internal::kMaxSupported ? *next : kNever;
}

std::string Schedule::expression() const { return rep_ ? rep_->expression : ""; }

std::string Schedule::zone() const { return rep_ ? rep_->zone.name() : "UTC"; }

bool Schedule::is_interval() const { return rep_ && rep_->interval_ms > 0; }

Schedule Schedule::in_zone(std::string_view tz) const {
  Result<internal::Zone> zone = internal::Zone::locate(tz);
  if (!zone.ok()) throw InvalidSchedule(zone.status().message());
  if (!rep_) return Schedule();  // still "never", whatever the zone
  auto rep = std::make_shared<internal::ScheduleRep>(*rep_);
  rep->zone = *zone;
  return Schedule(std::move(rep));
}

std::string Schedule::describe() const {
  if (!rep_) return "never";
  const std::string& zone = rep_->zone.name();
  if (rep_->interval_ms > 0) {
    return "every " + internal::format_interval(rep_->interval_ms) + " (" + zone + ")";
  }
  const internal::CronSpec& spec = *rep_->cron;
  std::string out = "cron \"" + rep_->expression + "\"";
  if (rep_->expression != spec.expanded) out += " = \"" + spec.expanded + "\"";
  return out + " in " + zone + (spec.wildcard() ? " (wildcard)" : " (fixed time)");
}

std::string Schedule::format_time(Millis t) const {
  return internal::format_in_zone(t, rep_ ? rep_->zone : internal::Zone());
}

bool operator==(const Schedule& a, const Schedule& b) {
  if (!a.rep_ || !b.rep_) return !a.rep_ && !b.rep_;
  if (a.rep_->zone.name() != b.rep_->zone.name()) return false;
  if (a.rep_->interval_ms != b.rep_->interval_ms) return false;
  if (a.rep_->cron.has_value() != b.rep_->cron.has_value()) return false;
  return !a.rep_->cron || a.rep_->cron->expanded == b.rep_->cron->expanded;
}

// ---- factories ------------------------------------------------------------------------------

Result<Schedule> parse_cron(std::string_view expr, std::string_view tz) {
  RUNQ_ASSIGN_OR_RETURN(internal::Zone zone, internal::Zone::locate(tz));
  auto rep = std::make_shared<internal::ScheduleRep>();
  rep->zone = std::move(zone);
  std::string_view text = internal::trim(expr);
  rep->expression = std::string(text);
  if (internal::starts_with_every(text)) {
    RUNQ_ASSIGN_OR_RETURN(rep->interval_ms, internal::parse_every(text));
  } else {
    RUNQ_ASSIGN_OR_RETURN(rep->cron, internal::parse_cron_spec(text));
  }
  return Schedule(std::move(rep));
}

Schedule cron(std::string_view expr, std::string_view tz) {
  Result<Schedule> schedule = parse_cron(expr, tz);
  if (!schedule.ok()) throw InvalidSchedule(schedule.status().message());
  return std::move(schedule).value();
}

Schedule every(std::chrono::milliseconds period) {
  if (period.count() <= 0) {
    throw InvalidSchedule("invalid interval " + std::to_string(period.count()) + "ms: must be > 0");
  }
  auto rep = std::make_shared<internal::ScheduleRep>();
  rep->interval_ms = period.count();
  rep->expression = "@every " + internal::format_interval(period.count());
  return Schedule(std::move(rep));
}

}  // namespace runq
