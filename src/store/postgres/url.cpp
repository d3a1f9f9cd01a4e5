// parse_postgres_url: runq's parameters out of a libpq URI or keyword string.
#include <algorithm>
#include <string>
#include <vector>

#include "core/duration.hpp"
#include "store/postgres_store.hpp"

namespace runq {
namespace {

// The URL as shown in messages: a password never appears in logs.
std::string redacted(std::string_view url) {
  std::string out(url);
  const std::size_t start = out.find("://");
  const std::size_t at = out.rfind('@');
  if (start != std::string::npos && at != std::string::npos && at > start) {
    const std::size_t colon = out.find(':', start + 3);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  const std::size_t pw = out.find("password=");
  if (pw != std::string::npos) {
    const std::size_t end = out.find_first_of(" &", pw);
    out.replace(pw + 9, (end == std::string::npos ? out.size() : end) - pw - 9, "***");
  }
  return out;
}

Status url_error(std::string_view url, std::string_view why) {
  return invalid_argument_error("parsing PostgreSQL URL '" + redacted(url) +
                                "': " + std::string(why));
}

Result<bool> parse_bool(std::string_view url, std::string_view key, std::string_view v) {
  if (v == "true" || v == "1" || v == "on" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "off" || v == "no") return false;
  return url_error(url, std::string(key) + "=" + std::string(v) + " is not true or false");
}

bool valid_schema(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!(std::islower(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '_';
  });
}

// Applies runq's parameter `key`=`value`; false when `key` is not one of runq's.
Result<bool> take_param(std::string_view url, std::string_view key, std::string_view value,
                        PostgresStoreOptions& opts) {
  if (key == "schema") {
    if (!valid_schema(value)) {
      return url_error(url, "schema '" + std::string(value) +
                                "' must be lowercase letters, digits and '_' (at most 63, "
                                "not starting with a digit)");
    }
    opts.schema = value;
  } else if (key == "migrate") {
    RUNQ_ASSIGN_OR_RETURN(opts.migrate, parse_bool(url, key, value));
  } else if (key == "listen") {
    RUNQ_ASSIGN_OR_RETURN(opts.listen, parse_bool(url, key, value));
  } else if (key == "poll") {
    Result<Millis> ms = internal::parse_duration(value);
    if (!ms.ok() || *ms < 1)
      return url_error(url, "poll=" + std::string(value) + " is not a duration like 500ms or 2s");
    opts.poll_ms = *ms;
  } else {
    return false;
  }
  return true;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    const std::size_t at = s.find(sep);
    std::string_view part = s.substr(0, at);
    if (!part.empty()) out.push_back(part);
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

}  // namespace

Result<PostgresStoreOptions> parse_postgres_url(std::string_view url) {
  PostgresStoreOptions opts;
  const std::size_t colon = url.find(':');
  const std::string_view scheme = url.substr(0, colon);
  if (colon == std::string_view::npos || (scheme != "postgres" && scheme != "postgresql")) {
    return url_error(url, "expected postgres://, postgresql:// or postgres:KEYWORDS");
  }
  const std::string_view rest = url.substr(colon + 1);
  if (rest.starts_with("//")) {
    // A libpq URI: runq's query parameters are removed, the others kept.
    const std::size_t q = url.find('?');
    std::string base(url.substr(0, q));
    if (base.size() <= scheme.size() + 3) return url_error(url, "no host or database given");
    std::string kept;
    if (q != std::string_view::npos) {
      for (std::string_view param : split(url.substr(q + 1), '&')) {
        const std::size_t eq = param.find('=');
        if (eq == std::string_view::npos)
          return url_error(url, "parameter '" + std::string(param) + "' has no value");
        RUNQ_ASSIGN_OR_RETURN(bool mine,
                              take_param(url, param.substr(0, eq), param.substr(eq + 1), opts));
        if (!mine) kept += (kept.empty() ? "?" : "&") + std::string(param);
      }
    }
    opts.conninfo = base + kept;
    return opts;
  }
  // A keyword string: "host=... port=... dbname=...".
  std::string kept;
  for (std::string_view word : split(rest, ' ')) {
    const std::size_t eq = word.find('=');
    if (eq == std::string_view::npos) {
      return url_error(url, "'" + std::string(word) + "' is not a keyword=value pair");
    }
    RUNQ_ASSIGN_OR_RETURN(bool mine,
                          take_param(url, word.substr(0, eq), word.substr(eq + 1), opts));
    if (!mine) kept += (kept.empty() ? "" : " ") + std::string(word);
  }
  if (kept.empty())
    return url_error(url, "no connection keywords (e.g. postgres:host=localhost dbname=app)");
  opts.conninfo = kept;
  return opts;
}

}  // namespace runq
