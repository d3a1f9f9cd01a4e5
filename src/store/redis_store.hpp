// The distributed store: one Redis server shared by producers and workers on any number of
// machines. Multi-key changes are Lua functions (src/store/redis/*.lua), loaded as one
// library and called by FCALL.
#pragma once

#include <memory>
#include <string>

#include "runq/status.hpp"
#include "runq/store.hpp"

namespace runq {
namespace internal {
struct RedisEndpoint;  // store/redis/connection.hpp
}

struct RedisStoreOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string username;  // empty = the default user (AUTH password)
  std::string password;  // empty = no AUTH
  // Prefix of every key this store writes; stores with different prefixes on one database do
  // not see each other's data. Default "runq:" (URL: `?prefix=P`).
  std::string key_prefix = "runq:";
  // Connect/command timeout for non-blocking commands. Default 5 s.
  Millis io_timeout_ms = 5000;
  // When the server is unreachable: false (default) = calls return Unavailable at once;
  // true = calls retry with backoff for up to `retry_for_ms` before returning Unavailable.
  bool block_and_retry = false;
  Millis retry_for_ms = 30'000;
  // Largest task body accepted by enqueue (TooLarge above it). Default 1 MiB.
  std::size_t max_body_bytes = 1 << 20;
  // How long dead letters are kept before cleanup() removes them. Default 7 days.
  Millis dead_retention_ms = 7LL * 24 * 3600 * 1000;
};

// Parses "redis://[[user]:password@]host[:port][/db][?PARAMS]" into options (other fields
// default). The password may be percent-encoded; an IPv6 host is written in brackets. PARAMS
// are `&`-separated: retry=DURATION (block_and_retry, retry_for_ms), timeout=DURATION
// (io_timeout_ms), prefix=P (key_prefix; percent-encoded, not empty). Any other parameter is
// an InvalidArgument error.
// Errors: InvalidArgument naming what is wrong.
Result<RedisStoreOptions> parse_redis_url(std::string_view url);

Result<std::unique_ptr<Store>> new_redis_store(const RedisStoreOptions& options);

// The connection settings in `options` (what a RedisPool connects with).
internal::RedisEndpoint redis_endpoint(const RedisStoreOptions& options);

}  // namespace runq
