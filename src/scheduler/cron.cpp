// Cron expression parsing and the field-by-field search for the next matching civil time.
#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <string>
#include <vector>

#include "scheduler/internal/cron_spec.hpp"

namespace runq::internal {
namespace {

enum class Names { kNone, kMonths, kWeekdays };

struct FieldDef {
  std::string_view name;
  int lo;
  int hi;
  Names names;
};

constexpr FieldDef kSecond{"second", 0, 59, Names::kNone};
constexpr FieldDef kMinute{"minute", 0, 59, Names::kNone};
constexpr FieldDef kHour{"hour", 0, 23, Names::kNone};
constexpr FieldDef kDayOfMonth{"day-of-month", 1, 31, Names::kNone};
constexpr FieldDef kMonth{"month", 1, 12, Names::kMonths};
// 0-7: both ends are Sunday; bit 7 is folded onto bit 0 after parsing.
constexpr FieldDef kDayOfWeek{"day-of-week", 0, 7, Names::kWeekdays};

constexpr std::array<std::string_view, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kWeekdayNames = {"sun", "mon", "tue", "wed",
                                                           "thu", "fri", "sat"};

struct Macro {
  std::string_view name;
  std::string_view fields;
};
constexpr std::array<Macro, 7> kMacros = {{{"@yearly", "0 0 1 1 *"},
                                           {"@annually", "0 0 1 1 *"},
                                           {"@monthly", "0 0 1 * *"},
                                           {"@weekly", "0 0 * * 0"},
                                           {"@daily", "0 0 * * *"},
                                           {"@midnight", "0 0 * * *"},
                                           {"@hourly", "0 * * * *"}}};

// Longest day of each month in any year: what a date must fit to exist at all.
constexpr std::array<int, 13> kMaxDays = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

Status reason(std::string why) { return invalid_argument_error(std::move(why)); }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

bool all_digits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

std::optional<int> name_value(std::string_view text, Names names) {
  std::string key = lower(text);
  if (names == Names::kMonths) {
    for (std::size_t i = 0; i < kMonthNames.size(); ++i)
      if (key == kMonthNames[i]) return static_cast<int>(i) + 1;
  } else if (names == Names::kWeekdays) {
    for (std::size_t i = 0; i < kWeekdayNames.size(); ++i)
      if (key == kWeekdayNames[i]) return static_cast<int>(i);
  }
  return std::nullopt;
}

std::string range_text(const FieldDef& f) {
  std::string r = std::to_string(f.lo) + "-" + std::to_string(f.hi);
  if (f.names == Names::kMonths) r += " or JAN-DEC";
  if (f.names == Names::kWeekdays) r += " or SUN-SAT";
  return r;
}

Result<int> parse_value(std::string_view text, const FieldDef& f) {
  if (text.empty()) return reason("missing value");
  if (all_digits(text)) {
    // More than 4 digits cannot be in range; refusing early also avoids overflow.
    int v = text.size() > 4 ? f.hi + 1 : std::stoi(std::string(text));
    if (v < f.lo || v > f.hi) {
      return reason("value " + std::string(text) + " out of range " + range_text(f));
    }
    return v;
  }
  if (auto v = name_value(text, f.names)) return *v;
  return reason("unknown value \"" + std::string(text) + "\" (expected " + range_text(f) + ")");
}

Result<int> parse_step(std::string_view text) {
  if (text.empty()) return reason("missing step after '/'");
  if (!all_digits(text)) return reason("step \"" + std::string(text) + "\" is not a number");
  if (text.size() > 4) return reason("step " + std::string(text) + " is too large");
  int step = std::stoi(std::string(text));
  if (step < 1) return reason("step must be >= 1");
  return step;
}

// One list element: *, N, A-B, */S, A-B/S, A/S. "A/S" (not in original Vixie cron, but in
// cronie, croniter and Quartz) runs from A to the end of the field, so "5/15" is 5,20,35,50.
// Steps larger than the range are allowed ("*/100" = the first value), as in Vixie cron.
Result<std::uint64_t> parse_element(std::string_view e, const FieldDef& f) {
  if (e.empty()) return reason("empty list element");
  std::string_view base = e;
  int step = 1;
  bool has_step = false;
  if (auto slash = e.find('/'); slash != std::string_view::npos) {
    base = e.substr(0, slash);
    RUNQ_ASSIGN_OR_RETURN(step, parse_step(e.substr(slash + 1)));
    has_step = true;
  }
  int lo = f.lo;
  int hi = f.hi;
  if (base != "*") {
    auto dash = base.find('-');
    RUNQ_ASSIGN_OR_RETURN(lo, parse_value(base.substr(0, dash), f));
    if (dash != std::string_view::npos) {
      RUNQ_ASSIGN_OR_RETURN(hi, parse_value(base.substr(dash + 1), f));
      // "FRI-SUN" / "5-0": Sunday closing a weekday range means 7.
      if (f.names == Names::kWeekdays && hi == 0 && lo > 0) hi = 7;
      if (hi < lo) {
        return reason("range " + std::string(base) + " runs backwards (start must not exceed end)");
      }
    } else if (!has_step) {
      hi = lo;
    }
  }
  std::uint64_t mask = 0;
  for (int v = lo; v <= hi; v += step) mask |= std::uint64_t{1} << v;
  return mask;
}

Result<std::uint64_t> parse_field(std::string_view text, const FieldDef& f) {
  std::uint64_t mask = 0;
  std::size_t start = 0;
  while (true) {
    std::size_t comma = text.find(',', start);
    std::string_view element = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    RUNQ_ASSIGN_OR_RETURN(std::uint64_t bits, parse_element(element, f));
    mask |= bits;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (f.names == Names::kWeekdays && (mask & (std::uint64_t{1} << 7))) {
    mask = (mask & ~(std::uint64_t{1} << 7)) | 1;
  }
  return mask;
}

std::vector<std::string_view> split_fields(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    std::size_t start = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// With the AND rule and an unrestricted weekday, a date must exist in some allowed month.
// (Every other combination fires: a day set starting with '*' contains the 1st, and the OR
// rule lets the weekday match.) Returns false for e.g. "30 2", "31 4,6,9,11".
bool some_date_exists(const CronSpec& c) {
  if (!c.dow_star || c.dom_star) return true;
  for (int m = 1; m <= 12; ++m) {
    if (!(c.months & (std::uint64_t{1} << m))) continue;
    std::uint64_t fitting = c.days_of_month & ((std::uint64_t{1} << (kMaxDays[m] + 1)) - 1);
    if (fitting) return true;
  }
  return false;
}

Status expression_error(std::string_view expr, const std::string& why) {
  return invalid_argument_error("invalid cron expression \"" + std::string(expr) + "\": " + why);
}

Result<std::string_view> expand_macro(std::string_view expr) {
  std::string key = lower(expr);
  for (const Macro& m : kMacros)
    if (key == m.name) return m.fields;
  return expression_error(expr, "unknown macro " + std::string(expr) +
                                    " (expected @yearly, @annually, @monthly, @weekly, "
                                    "@daily, @midnight, @hourly or @every DURATION)");
}

Status fill_fields(const std::vector<std::string_view>& fields, CronSpec& spec,
                   std::string_view expr) {
  spec.has_seconds = fields.size() == 6;
  static constexpr std::array<const FieldDef*, 6> kDefs = {&kSecond,     &kMinute, &kHour,
                                                           &kDayOfMonth, &kMonth,  &kDayOfWeek};
  std::array<std::uint64_t*, 6> out = {&spec.seconds,       &spec.minutes, &spec.hours,
                                       &spec.days_of_month, &spec.months,  &spec.days_of_week};
  std::size_t first = spec.has_seconds ? 0 : 1;
  spec.seconds = 1;  // five fields: second 0
  for (std::size_t i = first; i < 6; ++i) {
    std::string_view text = fields[i - first];
    Result<std::uint64_t> mask = parse_field(text, *kDefs[i]);
    if (!mask.ok()) {
      return expression_error(expr, std::string(kDefs[i]->name) + " field \"" + std::string(text) +
                                        "\": " + mask.status().message());
    }
    *out[i] = *mask;
  }
  // Vixie cron keys both the day rule and the DST rule on the field TEXT starting with '*',
  // not on the value set: "*/2" is a star field, "1-31" is not. Users of other crons rely
  // on exactly this, so the flags are taken from the text.
  std::size_t base = spec.has_seconds ? 1 : 0;
  spec.minute_star = fields[base][0] == '*';
  spec.hour_star = fields[base + 1][0] == '*';
  spec.dom_star = fields[base + 2][0] == '*';
  spec.dow_star = fields[base + 4][0] == '*';
  return ok_status();
}

// Hinnant's civil-from-days and days-from-civil (proleptic Gregorian, day 0 = 1970-01-01).
std::int64_t days_from_civil(std::int64_t y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// The search works on broken-down fields rather than on seconds so that it can jump a whole
// month, day, hour or minute at a time.
struct Cursor {
  int y, mo, d, h, mi, s;
};

Cursor cursor_from_civil(CivilSeconds t) {
  std::int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
  std::int64_t sod = t - days * 86400;
  std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  const int y = static_cast<int>(yoe + era * 400 + (m <= 2));
  return {y,
          m,
          d,
          static_cast<int>(sod / 3600),
          static_cast<int>(sod % 3600 / 60),
          static_cast<int>(sod % 60)};
}

int weekday_of(int y, int m, int d) {
  std::int64_t days = days_from_civil(y, m, d);
  return static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
}

// The smallest set bit >= from and <= limit, or -1.
int next_bit(std::uint64_t mask, int from, int limit) {
  if (from > limit) return -1;
  std::uint64_t rest = mask >> from;
  if (rest == 0) return -1;
  int bit = from + std::countr_zero(rest);
  return bit <= limit ? bit : -1;
}

// Moving to the start of the next month/day/hour/minute resets every smaller field.
void next_month(Cursor& c) {
  c = {c.mo == 12 ? c.y + 1 : c.y, c.mo == 12 ? 1 : c.mo + 1, 1, 0, 0, 0};
}
void next_day(Cursor& c) { c = {c.y, c.mo, c.d + 1, 0, 0, 0}; }  // may overflow; see below
void next_hour(Cursor& c) {
  if (c.h == 23) return next_day(c);
  c = {c.y, c.mo, c.d, c.h + 1, 0, 0};
}
void next_minute(Cursor& c) {
  if (c.mi == 59) return next_hour(c);
  c = {c.y, c.mo, c.d, c.h, c.mi + 1, 0};
}

}  // namespace

int days_in_month(int year, int month) {
  if (month != 2) return kMaxDays[month];
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return leap ? 29 : 28;
}

CivilFields civil_fields(CivilSeconds t) {
  Cursor c = cursor_from_civil(t);
  return {c.y, c.mo, c.d, c.h, c.mi, c.s};
}

CivilSeconds civil_from_fields(int year, int month, int day, int hour, int minute, int second) {
  return days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
}

bool CronSpec::day_matches(int day_of_month, int weekday) const {
  bool dom = days_of_month & (std::uint64_t{1} << day_of_month);
  bool dow = days_of_week & (std::uint64_t{1} << weekday);
  return (dom_star || dow_star) ? (dom && dow) : (dom || dow);
}

std::optional<CivilSeconds> CronSpec::next_civil(CivilSeconds from) const {
  Cursor c = cursor_from_civil(from);
  const int last_year = c.y + 400;
  // Each pass either returns or moves the cursor forward to the start of a later month, day,
  // hour or minute, so the loop ends within 400 years of jumps.
  while (c.y <= last_year) {
    int mo = next_bit(months, c.mo, 12);
    if (mo < 0) {
      c = {c.y + 1, 1, 1, 0, 0, 0};
      continue;
    }
    if (mo != c.mo) c = {c.y, mo, 1, 0, 0, 0};
    // Day: a linear walk, at most 31 steps per allowed month (weekday rules defeat jumps).
    const int dim = days_in_month(c.y, c.mo);
    int d = c.d;
    for (int wd = d <= dim ? weekday_of(c.y, c.mo, d) : 0; d <= dim; ++d, wd = (wd + 1) % 7) {
      if (day_matches(d, wd)) break;
    }
    if (d > dim) {
      next_month(c);
      continue;
    }
    if (d != c.d) c = {c.y, c.mo, d, 0, 0, 0};
    int h = next_bit(hours, c.h, 23);
    if (h < 0) {
      next_day(c);
      continue;
    }
    if (h != c.h) c = {c.y, c.mo, c.d, h, 0, 0};
    int mi = next_bit(minutes, c.mi, 59);
    if (mi < 0) {
      next_hour(c);
      continue;
    }
    if (mi != c.mi) c = {c.y, c.mo, c.d, c.h, mi, 0};
    int s = next_bit(seconds, c.s, 59);
    if (s < 0) {
      next_minute(c);
      continue;
    }
    return civil_from_fields(c.y, c.mo, c.d, c.h, c.mi, s);
  }
  return std::nullopt;
}

// Errors are built in two layers: field parsers return the bare reason ("step must be >= 1")
// and this function prefixes the expression and the field, so every message has one shape.
Result<CronSpec> parse_cron_spec(std::string_view expr) {
  std::string_view text = trim(expr);
  if (text.empty()) return expression_error(expr, "empty expression");
  std::string_view fields_text = text;
  if (text.front() == '@') {
    RUNQ_ASSIGN_OR_RETURN(fields_text, expand_macro(text));
  }
  std::vector<std::string_view> fields = split_fields(fields_text);
  if (fields.size() != 5 && fields.size() != 6) {
    return expression_error(
        text,
        "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (with a "
        "leading second), got " +
            std::to_string(fields.size()));
  }
  CronSpec spec;
  RUNQ_RETURN_IF_ERROR(fill_fields(fields, spec, text));
  // Refusing here, with the day-of-month field named, beats a schedule that silently never
  // fires; next_civil's 400-year bound would only say "never" at run time.
  if (!some_date_exists(spec)) {
    std::size_t base = spec.has_seconds ? 1 : 0;
    return expression_error(text, "day-of-month field \"" + std::string(fields[base + 2]) +
                                      "\": never matches in month field \"" +
                                      std::string(fields[base + 3]) + "\"");
  }
  for (std::string_view f : fields) {
    if (!spec.expanded.empty()) spec.expanded += ' ';
    spec.expanded += f;
  }
  return spec;
}

}  // namespace runq::internal
