// PostgresServer: starts a private PostgreSQL for one test binary (initdb into a temp dir, then
// `postgres` on a free 127.0.0.1 port, its socket in that dir) and stops it by pid on
// destruction. Never uses a fixed port or a system cluster. initdb and postgres refuse to run as
// root: when the tests run as root, both run as the `postgres` system user (the Debian
// `postgresql` package creates it), in a data dir that user owns.
//
// The server runs with fsync=off (tests only): a killed server keeps every committed
// transaction (the kernel has the writes), only a machine crash could lose them.
//
// When the binaries are missing: start() returns false and RUNQ_START_POSTGRES_OR_SKIP makes
// the test GTEST_SKIP() outside CI, or fail when CI=true.
#pragma once

#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace runq::testing {

struct PostgresServerOptions {
  // Extra server settings, "name=value" each (passed as -c name=value).
  std::vector<std::string> settings;
};

class PostgresServer {
 public:
  explicit PostgresServer(PostgresServerOptions opts = {});
  ~PostgresServer();  // stops the server (SIGINT, then SIGKILL to its process group)
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // initdb (first call only), starts the server and waits until it accepts connections. False
  // if the binaries are missing or it did not come up (error() says why).
  bool start();
  // kill -9 the server and all its backends (its process group). Committed data survives.
  void kill9();
  // Starts it again on the same port and data dir.
  bool restart();
  void stop();
  bool running() const { return pid_ > 0; }

  int port() const { return port_; }
  // "postgresql://runq@127.0.0.1:PORT/postgres" plus `query` ("?schema=x") when given.
  std::string url(const std::string& query = "") const;
  const std::string& error() const { return error_; }

  // Runs `sql` as the superuser on a fresh connection. Returns the first column of the first
  // row ("" when there is none), or "-ERROR message" when it failed. For tests that inspect
  // or change the database by hand.
  std::string query(const std::string& sql) const;

 private:
  bool init_db();
  bool launch();
  bool wait_ready();
  void reap(int signal, int grace_ms);

  PostgresServerOptions opts_;
  TempDir dir_;
  std::string bin_dir_;
  bool initialized_ = false;
  int port_ = 0;
  int pid_ = -1;
  std::string error_;
};

// The binary's one shared server (started on first use, stopped at exit); its port, or 0 with
// `why` set when it cannot run here.
int shared_postgres_port(std::string* why);

}  // namespace runq::testing

// Use at the top of a test body: starts `server` or skips (fails under CI).
#define RUNQ_START_POSTGRES_OR_SKIP(server)                                \
  do {                                                                     \
    if (!(server).start()) {                                               \
      if (::runq::testing::running_under_ci()) {                           \
        FAIL() << "PostgreSQL is required under CI: " << (server).error(); \
      } else {                                                             \
        GTEST_SKIP() << "PostgreSQL not available: " << (server).error();  \
      }                                                                    \
    }                                                                      \
  } while (0)
