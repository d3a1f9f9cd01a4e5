// Runs the StoreConformance suite against every backend. Adding a backend adds one factory
// and one INSTANTIATE_TEST_SUITE_P line here.
#include <atomic>
#include <memory>
#include <string>

#include "conformance/store_conformance.hpp"
#include "store/memory_store.hpp"
#include "support/temp_dir.hpp"
#ifdef RUNQ_WITH_REDIS
#include "store/redis_store.hpp"
#include "support/redis_server.hpp"
#endif

namespace runq::conformance {
namespace {

// A store that owns what its backend needs to live (a temp directory...), destroyed after it.
template <typename Resource>
class OwningStore : public StoreWrapper {
 public:
  OwningStore(std::unique_ptr<Resource> resource, std::unique_ptr<Store> store)
      : StoreWrapper(store.get()), resource_(std::move(resource)), store_(std::move(store)) {}

 private:
  std::unique_ptr<Resource> resource_;  // declared first: outlives store_
  std::unique_ptr<Store> store_;
};

StoreBackend memory_backend() {
  return {"memory", [] { return Result<std::unique_ptr<Store>>(new_memory_store()); }, nullptr};
}

// Each test gets a new database file in its own temp directory.
StoreBackend sqlite_backend() {
  auto factory = []() -> Result<std::unique_ptr<Store>> {
    auto dir = std::make_unique<::runq::testing::TempDir>();
    RUNQ_ASSIGN_OR_RETURN(auto store, open_store("sqlite:" + dir->file("runq.db")));
    return std::unique_ptr<Store>(
        new OwningStore<::runq::testing::TempDir>(std::move(dir), std::move(store)));
  };
  return {"sqlite", factory, nullptr};
}

#ifdef RUNQ_WITH_REDIS
// One private redis-server for the whole binary; each store gets its own key prefix, so tests
// never see each other's keys.
::runq::testing::RedisServer& shared_redis() {
  static ::runq::testing::RedisServer server;  // stopped when the binary exits
  static const bool started = server.start();
  (void)started;
  return server;
}

StoreBackend redis_backend() {
  auto unavailable = []() -> std::string {
    auto& server = shared_redis();
    return server.running() ? "" : "cannot start redis-server: " + server.error();
  };
  auto factory = []() -> Result<std::unique_ptr<Store>> {
    static std::atomic<int> next{0};
    RedisStoreOptions opts;
    opts.port = shared_redis().port();
    opts.key_prefix = "conformance" + std::to_string(++next) + ":";
    return new_redis_store(opts);
  };
  return {"redis", factory, unavailable};
}
#endif

INSTANTIATE_TEST_SUITE_P(Memory, StoreConformance, ::testing::Values(memory_backend()),
                         backend_name);
INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformance, ::testing::Values(sqlite_backend()),
                         backend_name);
#ifdef RUNQ_WITH_REDIS
INSTANTIATE_TEST_SUITE_P(Redis, StoreConformance, ::testing::Values(redis_backend()), backend_name);
#endif

}  // namespace
}  // namespace runq::conformance
