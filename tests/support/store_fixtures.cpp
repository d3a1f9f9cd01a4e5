// One fixture per registered store backend. Adding a backend adds one line to fixtures().
#include "support/store_fixtures.hpp"

#include <algorithm>
#include <atomic>

#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"
#ifdef RUNQ_WITH_REDIS
#include "store/redis_store.hpp"
#endif

namespace runq::testing {
namespace {

using Stores = std::vector<std::shared_ptr<Store>>;

// A store object that keeps alive what its backend needs (a temp dir...) until it is gone.
class Holding final : public StoreWrapper {
 public:
  Holding(std::shared_ptr<void> resource, std::shared_ptr<Store> store)
      : StoreWrapper(store.get()), resource_(std::move(resource)), store_(std::move(store)) {}

 private:
  std::shared_ptr<void> resource_;  // declared first: outlives store_
  std::shared_ptr<Store> store_;
};

// `n` objects opened from `url`, each holding `resource`.
Result<Stores> open_url(const std::string& url, int n, std::shared_ptr<void> resource = nullptr) {
  Stores out;
  for (int i = 0; i < n; ++i) {
    RUNQ_ASSIGN_OR_RETURN(std::unique_ptr<Store> s, open_store(url));
    out.push_back(std::make_shared<Holding>(resource, std::move(s)));
  }
  return out;
}

// One object shared n times: for in-process stores, whose objects never share data.
Result<Stores> one_object(const std::string& url, int n) {
  RUNQ_ASSIGN_OR_RETURN(Stores one, open_url(url, 1));
  return Stores(static_cast<std::size_t>(n), one.front());
}

// Each call: a new database file in its own temp directory.
Result<Stores> sqlite_stores(int n) {
  auto dir = std::make_shared<TempDir>();
  return open_url("sqlite:" + dir->file("runq.db"), n, dir);
}

#ifdef RUNQ_WITH_REDIS
// One private redis-server for the whole binary; each call gets its own key prefix, so tests
// never see each other's keys.
RedisServer& shared_redis() {
  static RedisServer server;  // stopped when the binary exits
  static const bool started = server.start();
  (void)started;
  return server;
}

std::string redis_unavailable() {
  RedisServer& server = shared_redis();
  return server.running() ? "" : "cannot start redis-server: " + server.error();
}

Result<Stores> redis_stores(int n) {
  static std::atomic<int> next{0};
  RedisStoreOptions opts;
  opts.port = shared_redis().port();
  opts.key_prefix = "fixture" + std::to_string(++next) + ":";
  Stores out;
  for (int i = 0; i < n; ++i) {
    RUNQ_ASSIGN_OR_RETURN(std::unique_ptr<Store> s, new_redis_store(opts));
    out.push_back(std::move(s));
  }
  return out;
}
#endif

// One line per backend of src/store/store_registry.cpp.
const std::vector<StoreFixture>& fixtures() {
  static const std::vector<StoreFixture> all{
      {"memory", nullptr, [](int n) { return one_object("memory:", n); }},
      {"sqlite", nullptr, sqlite_stores},
#ifdef RUNQ_WITH_REDIS
      {"redis", redis_unavailable, redis_stores},
#endif
  };
  return all;
}

}  // namespace

const StoreFixture* store_fixture(std::string_view scheme) {
  const std::vector<StoreFixture>& all = fixtures();
  auto it = std::find_if(all.begin(), all.end(),
                         [&](const StoreFixture& f) { return f.scheme == scheme; });
  return it == all.end() ? nullptr : &*it;
}

Result<std::unique_ptr<Store>> fresh_store(std::string_view scheme) {
  const StoreFixture* fixture = store_fixture(scheme);
  if (fixture == nullptr) {
    return failed_precondition_error("making a test store: no fixture for scheme '" +
                                     std::string(scheme) + "' in tests/support/store_fixtures.cpp");
  }
  RUNQ_ASSIGN_OR_RETURN(Stores stores, fixture->open(1));
  return std::unique_ptr<Store>(std::make_unique<Holding>(nullptr, std::move(stores.front())));
}

}  // namespace runq::testing
