// Helpers shared by the subcommand handlers: error lines and exit codes, opening the store,
// parsing durations and times, and rendering times for people and for JSON.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/duration.hpp"  // describe_time, relative_time, parse_iso_time
#include "runq/clock.hpp"
#include "runq/status.hpp"
#include "runq/store.hpp"

namespace runq {
class App;
}

namespace runq::internal {

// Prints "runq <cmd>: <message>" on stderr and returns `code`.
int fail(std::string_view cmd, std::string_view message, int code);
// As above with the status message; InvalidArgument is a usage error (exit 2), anything
// else exit 1.
int fail(std::string_view cmd, const Status& status);

// `url` fit to print: a password in it is replaced by "***".
std::string display_url(std::string_view url);

// The app's store; errors name the store URL.
Result<std::shared_ptr<Store>> open_app_store(App& app);
// For the long-running commands (worker, beat): opens the store, and while it is unavailable
// (server down, file locked) prints the error and retries with backoff (0.5 s doubling to
// 10 s) until it opens, a permanent error occurs, or `stop_requested()` turns true.
Result<std::shared_ptr<Store>> open_app_store_retrying(App& app, std::string_view cmd,
                                                       const std::function<bool()>& stop_requested);

// A duration option ("250ms", "10s", "5m"); errors name the option, e.g. "--lease: ...".
Result<Millis> parse_duration_option(std::string_view option, std::string_view text);

// ISO 8601 text for JSON output, null for 0.
nlohmann::json time_json(Millis t);

// Splits "a,b, c" into {"a", "b", "c"}, dropping empty items.
std::vector<std::string> split_list(std::string_view text);
std::string join(const std::vector<std::string>& items, std::string_view sep);

}  // namespace runq::internal

namespace runq::internal {

// Prints rows as left-aligned columns sized to their widest cell; the first row is the header.
void print_table(const std::vector<std::vector<std::string>>& rows);

}  // namespace runq::internal
