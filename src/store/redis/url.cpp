// parse_redis_url: "redis://[[user]:password@]host[:port][/db][?retry=30s&timeout=5s&prefix=P]".
#include <algorithm>
#include <charconv>
#include <string>

#include "core/duration.hpp"
#include "store/redis_store.hpp"

namespace runq {
namespace {

// The URL as shown in messages: a password never appears in logs.
std::string redacted(std::string_view url) {
  std::size_t start = url.find("://");
  std::size_t at = url.rfind('@');
  if (start == std::string_view::npos || at == std::string_view::npos || at < start) {
    return std::string(url);
  }
  return std::string(url.substr(0, start + 3)) + "***" + std::string(url.substr(at));
}

Status url_error(std::string_view url, std::string_view why) {
  return invalid_argument_error("parsing redis URL '" + redacted(url) + "': " + std::string(why));
}

std::optional<int> parse_number(std::string_view s, int max) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < 0 || v > max) {
    return std::nullopt;
  }
  return v;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = hex_digit(s[i + 1]);
    int lo = hex_digit(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

Status parse_userinfo(std::string_view url, std::string_view info, RedisStoreOptions* opts) {
  std::size_t colon = info.find(':');
  if (colon == std::string_view::npos) {
    return url_error(url, "expected ':password@' or 'user:password@' before the host");
  }
  auto user = percent_decode(info.substr(0, colon));
  auto password = percent_decode(info.substr(colon + 1));
  if (!user || !password) return url_error(url, "bad percent-encoding in the password");
  opts->username = *user;
  opts->password = *password;
  return ok_status();
}

Status parse_host_port(std::string_view url, std::string_view hp, RedisStoreOptions* opts) {
  std::string_view port;
  if (hp.starts_with('[')) {  // [IPv6]:port
    std::size_t close = hp.find(']');
    if (close == std::string_view::npos) return url_error(url, "unclosed '[' in the host");
    opts->host = std::string(hp.substr(1, close - 1));
    std::string_view rest = hp.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return url_error(url, "junk after ']'");
    if (!rest.empty()) port = rest.substr(1);
    if (rest.empty()) port = "6379";
  } else {
    std::size_t colon = hp.find(':');
    opts->host = std::string(hp.substr(0, colon));
    port = colon == std::string_view::npos ? "6379" : hp.substr(colon + 1);
  }
  if (opts->host.empty()) return url_error(url, "the host is empty");
  auto p = parse_number(port, 65535);
  if (!p || *p == 0) return url_error(url, "the port must be a number in 1..65535");
  opts->port = *p;
  return ok_status();
}

// "retry=30s": when the server is unreachable, calls wait and retry for up to 30 s instead of
// failing at once (RedisStoreOptions::block_and_retry). "timeout=5s": io_timeout_ms.
// "prefix=P": key_prefix (percent-encoded; never empty), so several stores share one database.
Status parse_parameter(std::string_view url, std::string_view k, std::string_view v,
                       RedisStoreOptions* opts) {
  if (k == "prefix") {
    std::optional<std::string> prefix = percent_decode(v);
    if (!prefix) return url_error(url, "bad percent-encoding in the prefix");
    if (prefix->empty()) return url_error(url, "the prefix must not be empty");
    opts->key_prefix = *prefix;
    return ok_status();
  }
  if (k != "retry" && k != "timeout") {
    return url_error(url,
                     "unknown parameter '" + std::string(k) + "' (known: retry, timeout, prefix)");
  }
  Result<Millis> d = internal::parse_duration(v);
  if (!d.ok()) return url_error(url, d.status().message());
  if (k == "retry") {
    opts->block_and_retry = *d > 0;
    opts->retry_for_ms = *d;
  } else {
    opts->io_timeout_ms = std::max<Millis>(*d, 1);
  }
  return ok_status();
}

Status parse_query(std::string_view url, std::string_view query, RedisStoreOptions* opts) {
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    std::size_t eq = kv.find('=');
    std::string_view v = eq == std::string_view::npos ? std::string_view() : kv.substr(eq + 1);
    RUNQ_RETURN_IF_ERROR(parse_parameter(url, kv.substr(0, eq), v, opts));
  }
  return ok_status();
}

}  // namespace

Result<RedisStoreOptions> parse_redis_url(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (!url.starts_with(kScheme)) return url_error(url, "it must start with redis://");
  std::string_view rest = url.substr(kScheme.size());
  RedisStoreOptions opts;
  if (std::size_t q = rest.find('?'); q != std::string_view::npos) {
    RUNQ_RETURN_IF_ERROR(parse_query(url, rest.substr(q + 1), &opts));
    rest = rest.substr(0, q);
  }
  if (rest.find('#') != std::string_view::npos) return url_error(url, "'#' is not allowed");
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty()) {
      auto n = parse_number(db, 1'000'000);
      if (!n) return url_error(url, "the database after '/' must be a number, e.g. /0");
      opts.db = *n;
    }
  }
  std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    RUNQ_RETURN_IF_ERROR(parse_userinfo(url, authority.substr(0, at), &opts));
    authority = authority.substr(at + 1);
  }
  RUNQ_RETURN_IF_ERROR(parse_host_port(url, authority, &opts));
  return opts;
}

}  // namespace runq
