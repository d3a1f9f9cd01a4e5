// Tests that run one body per (store, worker pool) pair: the case type, its gtest name, and
// the store servers such a test starts on demand (a SQLite file, a real redis-server, a real
// PostgreSQL on free 127.0.0.1 ports).
#pragma once

#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "runq/worker.hpp"
#include "support/redis_server.hpp"
#ifdef RUNQ_WITH_POSTGRES
#include "support/postgres_server.hpp"
#endif
#include "support/temp_dir.hpp"

namespace runq::testing {

struct PoolCase {
  const char* store;  // "sqlite", "redis" or "postgres"
  WorkerPool pool;
};

void PrintTo(const PoolCase& c, std::ostream* os);
// "sqlite_threads", "redis_processes", ...: the parameterised test's name suffix.
std::string pool_case_name(const ::testing::TestParamInfo<PoolCase>& info);

// The servers of one test: each starts the first time its URL is asked for, stops with this
// object.
class StoreServers {
 public:
  // The URL of a new store of kind `store` ("sqlite", "redis" or "postgres"), or empty when its
  // server cannot start (after ADD_FAILURE under CI, where a missing server is a failure).
  std::string url(const std::string& store);
  // A file path inside this test's temp dir.
  std::string file(const std::string& name) { return dir_.file(name); }

 private:
  TempDir dir_;
  RedisServer redis_;
#ifdef RUNQ_WITH_POSTGRES
  PostgresServer postgres_;
#endif
};

}  // namespace runq::testing
