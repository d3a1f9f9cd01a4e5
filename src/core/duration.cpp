#include "core/duration.hpp"

#include <cctype>
#include <cstdio>
#include <ctime>

#include <date/date.h>

namespace runq::internal {
namespace {

// Milliseconds per unit suffix, or 0 if unknown.
Millis unit_ms(std::string_view unit) {
  if (unit == "ms") return 1;
  if (unit == "s" || unit.empty()) return 1000;
  if (unit == "m" || unit == "min") return 60'000;
  if (unit == "h") return 3'600'000;
  if (unit == "d") return 86'400'000;
  return 0;
}

Status bad(std::string_view text) {
  return invalid_argument_error("invalid duration '" + std::string(text) +
                                "': use a number with a unit, e.g. 250ms, 10s, 5m, 2h, 1d, 1h30m");
}

}  // namespace

Result<Millis> parse_duration(std::string_view text) {
  if (text.empty()) return bad(text);
  Millis total = 0;
  std::size_t i = 0;
  bool bare_allowed = true;
  while (i < text.size()) {
    std::size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start || i - start > 12) return bad(text);
    Millis n = std::stoll(std::string(text.substr(start, i - start)));
    std::size_t ustart = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(ustart, i - ustart);
    if (unit.empty() && (!bare_allowed || i != text.size())) return bad(text);
    Millis mul = unit_ms(unit);
    if (mul == 0) return bad(text);
    // Ten years is far beyond any sensible timeout; refusing more also rules out overflow.
    constexpr Millis kMax = 10LL * 366 * 86'400'000;
    if (n > kMax / mul || total + n * mul > kMax) {
      return invalid_argument_error("invalid duration '" + std::string(text) +
                                    "': longer than 10 years");
    }
    total += n * mul;
    bare_allowed = false;
  }
  return total;
}

namespace {

// Reads `n` digits at `*p` into *out, advancing *p.
bool digits(std::string_view s, std::size_t* p, int n, int* out) {
  if (*p + n > s.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[*p + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *p += n;
  *out = v;
  return true;
}

bool expect(std::string_view s, std::size_t* p, char c) {
  if (*p >= s.size() || s[*p] != c) return false;
  ++*p;
  return true;
}

// "+02:00", "-0530", "Z", or nothing (UTC): minutes east of UTC.
bool parse_offset(std::string_view s, std::size_t* p, int* minutes) {
  *minutes = 0;
  if (*p == s.size()) return true;
  if (s[*p] == 'Z' || s[*p] == 'z') return ++*p == s.size();
  if (s[*p] != '+' && s[*p] != '-') return false;
  int sign = s[(*p)++] == '-' ? -1 : 1, h = 0, m = 0;
  if (!digits(s, p, 2, &h)) return false;
  if (*p < s.size() && s[*p] == ':') ++*p;
  if (!digits(s, p, 2, &m)) return false;
  *minutes = sign * (h * 60 + m);
  return *p == s.size();
}

// The time of day after the date: "THH:MM[:SS[.fff]]", as milliseconds.
bool parse_clock(std::string_view s, std::size_t* p, Millis* ms) {
  int h = 0, m = 0, sec = 0, frac = 0;
  if (!(expect(s, p, 'T') || expect(s, p, 't') || expect(s, p, ' '))) return false;
  if (!digits(s, p, 2, &h) || !expect(s, p, ':') || !digits(s, p, 2, &m)) return false;
  if (expect(s, p, ':') && !digits(s, p, 2, &sec)) return false;
  if (expect(s, p, '.')) {
    int scale = 100, n = 0;
    while (*p < s.size() && s[*p] >= '0' && s[*p] <= '9') {
      frac += (s[(*p)++] - '0') * scale;
      scale /= 10;
      ++n;
    }
    if (n == 0) return false;
  }
  if (h > 23 || m > 59 || sec > 60) return false;
  *ms = ((h * 60 + m) * 60 + sec) * 1000LL + frac;
  return true;
}

}  // namespace

Result<Millis> parse_iso_time(std::string_view text) {
  std::size_t p = 0;
  int y = 0, mo = 0, d = 0, offset = 0;
  Millis clock = 0;
  bool ok = digits(text, &p, 4, &y) && expect(text, &p, '-') && digits(text, &p, 2, &mo) &&
            expect(text, &p, '-') && digits(text, &p, 2, &d);
  if (ok && p < text.size() && text[p] != 'Z' && text[p] != 'z' && text[p] != '+' &&
      text[p] != '-') {
    ok = parse_clock(text, &p, &clock);
  }
  ok = ok && parse_offset(text, &p, &offset);
  date::year_month_day ymd{date::year(y), date::month(static_cast<unsigned>(mo)),
                           date::day(static_cast<unsigned>(d))};
  if (!ok || !ymd.ok()) {
    return invalid_argument_error("invalid time '" + std::string(text) +
                                  "': use ISO 8601, e.g. 2026-01-01T08:00:00Z or "
                                  "2026-01-01T09:00:00+01:00");
  }
  Millis days = date::sys_days(ymd).time_since_epoch().count();
  Millis t = days * 86'400'000 + clock - offset * 60'000LL;
  if (t < 0 || t >= kTimeCeiling) {
    return invalid_argument_error("time '" + std::string(text) +
                                  "' is out of range: use a time from 1970 to 2199 (UTC)");
  }
  return t;
}

std::string format_duration(Millis ms) {
  if (ms < 1000) return std::to_string(ms) + "ms";
  std::string out;
  if (ms % 1000 != 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3gs", static_cast<double>(ms) / 1000.0);
    return buf;
  }
  Millis s = ms / 1000;
  if (s >= 86400 && s % 86400 == 0) return std::to_string(s / 86400) + "d";
  if (s >= 3600) {
    out += std::to_string(s / 3600) + "h";
    s %= 3600;
  }
  if (s >= 60) {
    out += std::to_string(s / 60) + "m";
    s %= 60;
  }
  if (s || out.empty()) out += std::to_string(s) + "s";
  return out;
}

std::string format_time(Millis ms) {
  if (ms <= 0) return "-";
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::string relative_time(Millis t, Millis now) {
  // Whole seconds, rounded: "in 1h", not "in 59m59s" a few milliseconds later.
  Millis d = t - now;
  Millis secs = ((d < 0 ? -d : d) + 500) / 1000;
  if (secs == 0) return "now";
  return d > 0 ? "in " + format_duration(secs * 1000) : format_duration(secs * 1000) + " ago";
}

std::string describe_time(Millis t, Millis now) {
  if (t <= 0) return "-";
  return format_time(t) + " (" + relative_time(t, now) + ")";
}

}  // namespace runq::internal
