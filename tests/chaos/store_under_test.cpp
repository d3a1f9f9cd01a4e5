#include "chaos/store_under_test.hpp"

#include "support/postgres_server.hpp"
#include "support/redis_server.hpp"

namespace runq::chaos {
namespace {

class RedisUnderTest : public StoreUnderTest {
 public:
  RedisUnderTest() : StoreUnderTest("redis"), server_({.appendonly = true}) {}

  bool start() override {
    if (server_.start()) return true;
    error_ = server_.error();
    return false;
  }
  // Producers wait through a restart instead of failing at once.
  std::string url() const override { return server_.url() + "?retry=30s"; }
  bool has_server() const override { return true; }
  void kill9() override { server_.kill9(); }
  bool restart() override {
    if (server_.restart()) return true;
    error_ = server_.error();
    return false;
  }
  int server_pid() const override { return server_.running() ? server_.pid() : 0; }

 private:
  testing::RedisServer server_;
};

// PostgreSQL runs with fsync=off (the test server's setting): a kill -9 of the server keeps
// every committed transaction, only a machine crash could lose them.
class PostgresUnderTest : public StoreUnderTest {
 public:
  PostgresUnderTest() : StoreUnderTest("postgres") {}

  bool start() override {
    if (server_.start()) return true;
    error_ = server_.error();
    return false;
  }
  std::string url() const override { return server_.url(); }
  bool has_server() const override { return true; }
  void kill9() override { server_.kill9(); }
  bool restart() override {
    if (server_.restart()) return true;
    error_ = server_.error();
    return false;
  }

 private:
  testing::PostgresServer server_;
};

class SqliteUnderTest : public StoreUnderTest {
 public:
  explicit SqliteUnderTest(const std::string& dir)
      : StoreUnderTest("sqlite"), url_("sqlite:" + dir + "/runq.db") {}
  bool start() override { return true; }
  std::string url() const override { return url_; }
  bool has_server() const override { return false; }

 private:
  std::string url_;
};

}  // namespace

std::unique_ptr<StoreUnderTest> make_store_under_test(const std::string& kind,
                                                      const std::string& dir) {
  if (kind == "redis") return std::make_unique<RedisUnderTest>();
  if (kind == "sqlite") return std::make_unique<SqliteUnderTest>(dir);
  if (kind == "postgres") return std::make_unique<PostgresUnderTest>();
  return nullptr;
}

std::unique_ptr<StoreUnderTest> start_store_under_test(const std::string& kind,
                                                       const std::string& dir, std::string& why) {
  std::unique_ptr<StoreUnderTest> store = make_store_under_test(kind, dir);
  if (store && store->start()) return store;
  why = kind + " server not available: " + (store ? store->error() : "unknown store kind");
  return nullptr;
}

std::string store_kinds() { return "redis, sqlite, postgres"; }

}  // namespace runq::chaos
