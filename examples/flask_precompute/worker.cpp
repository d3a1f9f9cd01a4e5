// flask_precompute worker: the C++ side of examples/flask_precompute (README.md there).
//
//   precompute.refresh()   the slow computation the Flask page shows; writes its value into
//                          the `precomputed` table of $PRECOMPUTE_DB (SQLite). Runs every
//                          $PRECOMPUTE_EVERY seconds (default 60) on the worker's beat.
//   jobs.slow_sum(n)       a background job the Flask app starts with .delay(n): 1 + ... + n.
//
// Run: flask_precompute_worker worker --beat --store
// 'celery+redis://127.0.0.1:6379/0?backend=redis://127.0.0.1:6379/1'
#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

#include "runq/runq.hpp"

namespace {

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

// The "expensive query": the number of primes below 2,000,000 (about a second of work).
std::int64_t count_primes(int below) {
  std::int64_t n = 0;
  for (int i = 2; i < below; ++i) {
    bool prime = true;
    for (int d = 2; d * d <= i; ++d) {
      if (i % d == 0) {
        prime = false;
        break;
      }
    }
    n += prime ? 1 : 0;
  }
  return n;
}

void store_value(const std::string& path, const std::string& name, std::int64_t value) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw std::runtime_error("opening " + path + ": " + why);
  }
  sqlite3_busy_timeout(db, 5000);
  const char* sql =
      "CREATE TABLE IF NOT EXISTS precomputed (name TEXT PRIMARY KEY, value INTEGER NOT NULL,"
      " computed_at REAL NOT NULL);"
      "INSERT INTO precomputed VALUES (?1, ?2, (julianday('now') - 2440587.5) * 86400.0)"
      " ON CONFLICT(name) DO UPDATE SET value = excluded.value,"
      " computed_at = excluded.computed_at;";
  const char* tail = sql;
  int rc = SQLITE_OK;
  while (rc == SQLITE_OK && tail != nullptr && *tail != '\0') {
    sqlite3_stmt* st = nullptr;
    rc = sqlite3_prepare_v2(db, tail, -1, &st, &tail);
    if (rc != SQLITE_OK || st == nullptr) break;
    sqlite3_bind_text(st, 1, name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, value);
    rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    sqlite3_finalize(st);
  }
  std::string why = rc == SQLITE_OK ? "" : sqlite3_errmsg(db);
  sqlite3_close(db);
  if (rc != SQLITE_OK) throw std::runtime_error("writing " + path + ": " + why);
}

}  // namespace

int main(int argc, char** argv) {
  runq::App app;
  const std::string db = env_or("PRECOMPUTE_DB", "precompute.db");
  const int every = std::max(1, std::atoi(env_or("PRECOMPUTE_EVERY", "60").c_str()));

  auto refresh = app.task("precompute.refresh", [db] {
    std::int64_t primes = count_primes(2'000'000);
    store_value(db, "primes_below_2m", primes);
    return primes;
  });
  app.task("jobs.slow_sum", [](int n) {
    std::int64_t sum = 0;
    for (int i = 1; i <= n; ++i) sum += i;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // stands for slow work
    return sum;
  });
  app.periodic("precompute", runq::every(std::chrono::seconds(every)), refresh);
  return app.main(argc, argv);
}
