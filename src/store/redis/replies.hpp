// Reading hiredis replies of the runq scripts: checked accessors that turn an unexpected shape
// into an Internal error instead of a crash.
#pragma once

#include <hiredis/hiredis.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runq/status.hpp"

namespace runq::internal {

inline std::string_view reply_text(const redisReply* r) {
  if (r == nullptr) return {};
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) {
    return std::string_view(r->str, r->len);
  }
  return {};
}

inline bool is_nil(const redisReply* r) { return r == nullptr || r->type == REDIS_REPLY_NIL; }

// An integer reply, or a string holding an integer (hash fields). nullopt otherwise.
inline std::optional<std::int64_t> reply_int(const redisReply* r) {
  if (r == nullptr) return std::nullopt;
  if (r->type == REDIS_REPLY_INTEGER) return r->integer;
  std::string_view s = reply_text(r);
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

inline std::int64_t reply_int_or(const redisReply* r, std::int64_t fallback) {
  return reply_int(r).value_or(fallback);
}

inline double parse_double_or(std::string_view s, double fallback) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty() ? v : fallback;
}

// Checks that `r` is an array whose size is a multiple of `group` (and at least `min`).
inline Status expect_array(const redisReply* r, std::size_t group, std::string_view doing,
                           std::size_t min = 0) {
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements % group != 0 ||
      r->elements < min) {
    return internal_error(std::string(doing) + ": unexpected reply from redis");
  }
  return ok_status();
}

inline Status expect_int(const redisReply* r, std::string_view doing) {
  if (r == nullptr || r->type != REDIS_REPLY_INTEGER) {
    return internal_error(std::string(doing) + ": unexpected reply from redis");
  }
  return ok_status();
}

}  // namespace runq::internal
