// Maps a store URL's scheme to its backend. Adding a backend adds one branch here.
#include <cstdlib>
#include <string>

#include "runq/store.hpp"
#include "store/memory_store.hpp"
#include "store/sqlite_store.hpp"
#ifdef RUNQ_WITH_REDIS
#include "store/redis_store.hpp"
#endif

namespace runq {

std::string default_store_url() {
  const char* env = std::getenv("RUNQ_STORE");
  return env && *env ? std::string(env) : std::string("sqlite:runq.db");
}

Result<std::unique_ptr<Store>> open_store(std::string_view url) {
  if (url.starts_with("sqlite:")) {
    SqliteStoreOptions opts;
    opts.path = std::string(url.substr(7));
    if (opts.path.starts_with("//")) opts.path = opts.path.substr(2);  // sqlite://path
    if (opts.path.empty())
      return invalid_argument_error("opening store: 'sqlite:' needs a path, e.g. sqlite:runq.db");
    return new_sqlite_store(opts);
  }
  if (url.starts_with("redis://")) {
#ifdef RUNQ_WITH_REDIS
    RUNQ_ASSIGN_OR_RETURN(RedisStoreOptions opts, parse_redis_url(url));
    return new_redis_store(opts);
#else
    return invalid_argument_error("opening store: this build has no redis:// support");
#endif
  }
  if (url == "memory:" || url == "memory") return new_memory_store();
  return invalid_argument_error(
      "opening store '" + std::string(url) +
      "': unknown scheme (expected sqlite:PATH, redis://host:port/db or memory:)");
}

}  // namespace runq
