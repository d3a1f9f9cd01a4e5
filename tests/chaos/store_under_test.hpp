// StoreUnderTest: the store a chaos or soak run drives, by kind ("redis", "sqlite"), with the
// faults that kind supports. Adding a kind (e.g. a PostgreSQL server) is one class in
// store_under_test.cpp and one line in make_store_under_test().
//
// Thread safety: none; the driver's main thread owns it.
#pragma once

#include <memory>
#include <string>

namespace runq::chaos {

class StoreUnderTest {
 public:
  virtual ~StoreUnderTest() = default;

  // Starts the server, if the kind has one. False with error() set when it cannot (e.g.
  // redis-server is not installed).
  virtual bool start() = 0;
  // The store URL every process of the run uses.
  virtual std::string url() const = 0;
  // True when the kind has a server process that kill9()/restart() act on. A kind without
  // one (SQLite: the store lives in each process that opens the file) returns false and the
  // driver kills every process holding the store at once instead.
  virtual bool has_server() const = 0;
  // kill -9 of the server; restart() brings it back on the same address and data.
  virtual void kill9() {}
  virtual bool restart() { return true; }
  // The server's pid (0 when there is none or it is down), for RSS and fd samples.
  virtual int server_pid() const { return 0; }
  const std::string& error() const { return error_; }
  const std::string& kind() const { return kind_; }

 protected:
  explicit StoreUnderTest(std::string kind) : kind_(std::move(kind)) {}
  std::string kind_;
  std::string error_;
};

// `kind` is "redis" (a private redis-server on a free loopback port, appendonly yes with
// appendfsync always), "postgres" (a private PostgreSQL on a free loopback port) or "sqlite"
// (the file `dir`/runq.db). nullptr for any other kind.
std::unique_ptr<StoreUnderTest> make_store_under_test(const std::string& kind,
                                                      const std::string& dir);

// make_store_under_test(kind, dir), started. nullptr with `why` set ("<kind> server not
// available: ...") when its server cannot start (e.g. it is not installed).
std::unique_ptr<StoreUnderTest> start_store_under_test(const std::string& kind,
                                                       const std::string& dir, std::string& why);

// "redis, sqlite, postgres": the kinds make_store_under_test() knows, for --help and errors.
std::string store_kinds();

}  // namespace runq::chaos
