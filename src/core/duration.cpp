#include "core/duration.hpp"

#include <cctype>
#include <cstdio>
#include <ctime>

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
