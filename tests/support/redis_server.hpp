// RedisServer: starts a private redis-server for one test (binary, free 127.0.0.1 port, temp
// dir) and stops it on destruction. Never uses a fixed port or an already running server.
//
// When redis-server is missing: start() returns false and skip_or_fail() makes the test
// GTEST_SKIP() outside CI, or fail when CI=true.
#pragma once

#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace runq::testing {

struct RedisServerOptions {
  bool appendonly = false;  // appendonly yes + appendfsync always
  std::string requirepass;  // empty = no password
};

class RedisServer {
 public:
  explicit RedisServer(RedisServerOptions opts = {});
  ~RedisServer();  // stops the server (SIGTERM, then SIGKILL)
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts the server and waits until it answers PING. False if redis-server is not installed
  // or did not come up (error() says why).
  bool start();
  // kill -9 the server (data survives only if appendonly).
  void kill9();
  // Starts it again on the same port and data dir. May be called from any thread (a server
  // started from the main thread also dies if the test binary crashes).
  bool restart();
  void stop();
  bool running() const { return pid_ > 0; }

  int port() const { return port_; }
  // The server's pid while running (for RSS and fd samples), else -1.
  int pid() const { return pid_; }
  // "redis://127.0.0.1:PORT/0" (with ":password@" when requirepass is set).
  std::string url() const;
  const std::string& error() const { return error_; }
  const std::string& dir() const { return dir_.path(); }

  // Runs one command on a fresh connection (authenticating first when a password is set) and
  // returns the reply as text: simple strings, bulk strings and integers as they are, nil as
  // "(nil)", errors as "-MESSAGE", arrays as their elements joined by '\n'. Connection
  // failures return "-CONNECTION ...". For tests that inspect or damage keys by hand.
  std::string command(const std::vector<std::string>& args) const;

 private:
  bool launch();
  bool wait_ready();
  void write_config() const;
  void reap(int signal, int grace_ms);

  RedisServerOptions opts_;
  TempDir dir_;
  std::string binary_;
  int port_ = 0;
  int pid_ = -1;
  std::string error_;
};

// True when the environment variable CI is "true" or "1".
bool running_under_ci();

}  // namespace runq::testing

// Use at the top of a test body: starts `server` or skips (fails under CI).
#define RUNQ_START_REDIS_OR_SKIP(server)                                     \
  do {                                                                       \
    if (!(server).start()) {                                                 \
      if (::runq::testing::running_under_ci()) {                             \
        FAIL() << "redis-server is required under CI: " << (server).error(); \
      } else {                                                               \
        GTEST_SKIP() << "redis-server not available: " << (server).error();  \
      }                                                                      \
    }                                                                        \
  } while (0)
