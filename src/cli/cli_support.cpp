#include "cli/cli_support.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

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
