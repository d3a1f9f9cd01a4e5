#include "cli/cli_support.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include <date/date.h>

#include "cli/commands.hpp"
#include "core/duration.hpp"
#include "runq/app.hpp"
#include "runq/error.hpp"

namespace runq::internal {

int fail(std::string_view cmd, std::string_view message, int code) {
  std::string line = cmd.empty() ? "runq: " : "runq " + std::string(cmd) + ": ";
  line += message;
  // One line, whatever the message holds (SQLite and Lua errors may span several).
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::fprintf(stderr, "%s\n", line.c_str());
  return code;
}

int fail(std::string_view cmd, const Status& status) {
  // A message over the payload limit is bad input too: it would never fit.
  const bool usage = is_invalid_argument(status) || is_too_large(status);
  return fail(cmd, status.message(), usage ? kExitUsage : kExitFailure);
}

std::string display_url(std::string_view url) {
  std::size_t scheme = url.find("://");
  std::size_t at = url.find('@');
  if (scheme == std::string_view::npos || at == std::string_view::npos || at < scheme) {
    return std::string(url);
  }
  std::size_t colon = url.find(':', scheme + 3);
  std::size_t secret = colon != std::string_view::npos && colon < at ? colon + 1 : scheme + 3;
  return std::string(url.substr(0, secret)) + "***" + std::string(url.substr(at));
}

Result<std::shared_ptr<Store>> open_app_store(App& app) {
  try {
    return app.store();
  } catch (const Error& e) {
    std::string what = "opening store '" + display_url(app.store_url()) + "'";
    std::string msg = e.status().message();
    // Store errors that already say what was being opened need no second prefix.
    if (msg.starts_with("opening") || msg.find(app.store_url()) != std::string::npos) {
      return e.status();
    }
    return Status(e.status().code(), what + ": " + msg);
  } catch (const std::exception& e) {
    return internal_error("opening store '" + display_url(app.store_url()) + "': " + e.what());
  }
}

Result<std::shared_ptr<Store>> open_app_store_retrying(
    App& app, std::string_view cmd, const std::function<bool()>& stop_requested) {
  Millis backoff = 500;
  while (true) {
    Result<std::shared_ptr<Store>> store = open_app_store(app);
    if (store.ok() || !is_unavailable(store.status()) || stop_requested()) return store;
    std::fprintf(stderr, "runq %.*s: %s; retrying in %s\n", static_cast<int>(cmd.size()),
                 cmd.data(), store.status().message().c_str(), format_duration(backoff).c_str());
    for (Millis slept = 0; slept < backoff && !stop_requested(); slept += 100) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (stop_requested()) return store;
    backoff = std::min<Millis>(backoff * 2, 10'000);
  }
}

Result<Millis> parse_duration_option(std::string_view option, std::string_view text) {
  Result<Millis> ms = parse_duration(text);
  if (!ms.ok()) return ms.status().with_context(option);
  if (*ms < 0) return invalid_argument_error(std::string(option) + ": must not be negative");
  return ms;
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
  return days * 86'400'000 + clock - offset * 60'000LL;
}

nlohmann::json time_json(Millis t) {
  if (t <= 0) return nullptr;
  return format_time(t);
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    start = end + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string out;
    for (std::size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out += std::string(width[i] - row[i].size() + 2, ' ');
    }
    std::printf("%s\n", out.c_str());
  }
}

}  // namespace runq::internal
