// parse_rate_limit (runq/options.hpp): "N/s", "N/m", "N/h".
#include <charconv>
#include <string>

#include "runq/options.hpp"

namespace runq {
namespace {

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

Result<RateLimit> parse_rate_limit(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return invalid_argument_error("rate limit '" + std::string(text) + "': " + std::string(why) +
                                  "; write it as N/s, N/m or N/h with N from 1 to "
                                  "1000000000, e.g. \"100/s\"");
  };
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return bad("no '/'");
  const std::string_view count_text = trimmed(text.substr(0, slash));
  const std::string_view unit = trimmed(text.substr(slash + 1));
  std::int64_t count = 0;
  auto [end, ec] = std::from_chars(count_text.data(), count_text.data() + count_text.size(), count);
  if (count_text.empty() || ec != std::errc() || end != count_text.data() + count_text.size()) {
    return bad("the count is not a whole number");
  }
  if (count < 1 || count > 1'000'000'000) return bad("the count must be at least 1");
  Millis period = 0;
  if (unit == "s") {
    period = 1000;
  } else if (unit == "m") {
    period = 60'000;
  } else if (unit == "h") {
    period = 3'600'000;
  } else {
    return bad("the unit must be s, m or h");
  }
  return RateLimit{count, period};
}

}  // namespace runq
