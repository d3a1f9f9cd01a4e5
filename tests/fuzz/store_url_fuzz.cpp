// Store URL parsing, without opening anything: the scheme lookup of open_store() and each
// backend's URL parser. Bad input is an InvalidArgument error; what parses is usable.
#include "fuzz/fuzz_target.hpp"
#include "store/backend.hpp"
#include "store/memory_store.hpp"
#include "store/sqlite_store.hpp"
#if RUNQ_WITH_REDIS
#include "store/redis_store.hpp"
#endif

namespace {

void check_redis(std::string_view url) {
#if RUNQ_WITH_REDIS
  runq::Result<runq::RedisStoreOptions> opts = runq::parse_redis_url(url);
  if (!opts.ok()) {
    RUNQ_FUZZ_CHECK(runq::is_invalid_argument(opts.status()));
    return;
  }
  RUNQ_FUZZ_CHECK(!opts->host.empty());
  RUNQ_FUZZ_CHECK(opts->port >= 1 && opts->port <= 65535);
  RUNQ_FUZZ_CHECK(opts->db >= 0);
  RUNQ_FUZZ_CHECK(!opts->key_prefix.empty());
  RUNQ_FUZZ_CHECK(opts->io_timeout_ms >= 1);
  RUNQ_FUZZ_CHECK(opts->retry_for_ms >= 0);
#else
  (void)url;
#endif
}

void check_sqlite(std::string_view url) {
  runq::Result<runq::SqliteStoreOptions> opts = runq::parse_sqlite_url(url);
  if (!opts.ok()) {
    RUNQ_FUZZ_CHECK(runq::is_invalid_argument(opts.status()));
    return;
  }
  RUNQ_FUZZ_CHECK(!opts->path.empty());
}

}  // namespace

RUNQ_FUZZ_TARGET(store_url) {
  std::string_view url = runq::fuzz::as_text(data, size);
  const runq::StoreBackendInfo* backend = runq::find_store_backend(url);
  if (backend == nullptr) return 0;
  RUNQ_FUZZ_CHECK(url.starts_with(backend->scheme));
  if (backend->scheme == "redis") check_redis(url);
  if (backend->scheme == "sqlite") check_sqlite(url);
  if (backend->scheme == "memory") {
    runq::Status s = runq::check_memory_url(url);
    RUNQ_FUZZ_CHECK(s.ok() || runq::is_invalid_argument(s));
  }
  return 0;
}
