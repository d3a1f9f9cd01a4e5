// Thin RAII layer over libpq for the postgres store: one error-mapping helper, query
// parameters, results read in binary format, a connection, and a pool of connections.
//
// Thread safety: a Connection is used by one thread at a time; ConnectionPool is thread-safe.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runq/status.hpp"

namespace runq::pg {

// The one place libpq errors become a Status, by SQLSTATE: connection failures (class 08, a
// server shutting down, too many connections, a cancelled statement or statement_timeout,
// serialization failures and deadlocks) -> Unavailable; a read-only transaction (a replica)
// or missing privileges -> FailedPrecondition; data exceptions -> InvalidArgument; anything
// else -> Internal. The message is "context: server's message (hint)".
Status pg_error(const PGresult* res, PGconn* conn, std::string_view context);

// Parameters of one statement ($1, $2...), sent in text format except binary() ones (bytea).
class Params {
 public:
  Params& text(std::string_view v);
  Params& binary(std::string_view v);
  Params& num(std::int64_t v) { return text(std::to_string(v)); }
  Params& real(double v);
  Params& boolean(bool v) { return text(v ? "t" : "f"); }
  Params& null();
  // A text[] and a bytea[] (an empty optional is NULL), sent in binary format: the SQL must
  // name the type ($1::text[], $1::bytea[]). An integer array in text format ("{1,2}").
  Params& text_array(std::span<const std::string_view> values);
  Params& bytea_array(std::span<const std::optional<std::string_view>> values);
  Params& int_array(std::span<const std::int64_t> values);

  int size() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return ptrs_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }
  void finish();  // fills the pointer array (called by Connection::exec)

 private:
  void add(std::string v, int format, bool is_null);
  std::vector<std::string> values_;
  std::vector<const char*> ptrs_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::vector<char> nulls_;
};

// A statement's result, columns in binary format.
class Rows {
 public:
  explicit Rows(PGresult* res) : res_(res, &PQclear) {}
  int size() const { return PQntuples(res_.get()); }
  bool is_null(int row, int col) const { return PQgetisnull(res_.get(), row, col) != 0; }
  // int2/int4/int8/bool columns; 0 for NULL.
  std::int64_t int64(int row, int col) const;
  int int32(int row, int col) const { return static_cast<int>(int64(row, col)); }
  double real(int row, int col) const;  // float8
  bool boolean(int row, int col) const { return int64(row, col) != 0; }
  // text/bytea columns: the raw bytes, valid while this Rows lives.
  std::string_view view(int row, int col) const;
  std::string str(int row, int col) const { return std::string(view(row, col)); }
  // Rows changed by an INSERT/UPDATE/DELETE.
  std::int64_t affected() const;

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> res_;
};

// One open connection. A failed call leaves it usable unless broken() says otherwise.
class Connection {
 public:
  // Errors: Unavailable (cannot connect, with libpq's message; a full server says so).
  static Result<std::unique_ptr<Connection>> open(const std::string& conninfo);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one statement with `params`; `what` is the error context.
  Result<Rows> exec(std::string_view sql, Params& params, std::string_view what);
  Result<Rows> exec(std::string_view sql, std::string_view what);
  // Runs statements without parameters (several allowed, separated by ';').
  Status exec_script(const std::string& sql, std::string_view what);
  // True after the connection to the server was lost: it must not be reused.
  bool broken() const { return PQstatus(conn_) != CONNECTION_OK; }
  PGconn* raw() const { return conn_; }

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  PGconn* conn_;
};

inline Status status_of(const Status& s) { return s; }
template <typename T>
Status status_of(const Result<T>& r) {
  return r.status();
}

// Runs `fn(Connection&)` between BEGIN and COMMIT (ROLLBACK on error).
template <typename Fn>
auto in_transaction(Connection& c, std::string_view what, Fn&& fn) -> decltype(fn(c)) {
  using R = decltype(fn(c));
  Result<Rows> begin = c.exec("BEGIN", what);
  if (!begin.ok()) return R(begin.status());
  R r = fn(c);
  Status s = status_of(r);
  if (!s.ok()) {
    if (!c.broken()) (void)c.exec("ROLLBACK", what);
    return r;
  }
  Result<Rows> commit = c.exec("COMMIT", what);
  if (!commit.ok()) return R(commit.status());
  return r;
}

// Open connections, reused by calls; a broken one is dropped, and the next call opens anew.
class ConnectionPool {
 public:
  explicit ConnectionPool(std::string conninfo);

  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> c, std::uint32_t forks)
        : pool_(pool), c_(std::move(c)), forks_(forks) {}
    Lease(Lease&&) = default;
    ~Lease();
    Connection& operator*() const { return *c_; }
    Connection* operator->() const { return c_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> c_;
    std::uint32_t forks_;  // fork_generation() when the connection left the pool
  };

  // A pooled connection opened by this process, or a new one. Errors: those of
  // Connection::open. In a forked child (the process pool's children) the connections opened
  // before the fork are the parent's sessions: using them would mix the two processes'
  // traffic and closing them would end the parent's sessions, so they are abandoned and the
  // child opens its own.
  Result<Lease> acquire();
  void add(std::unique_ptr<Connection> c);
  const std::string& conninfo() const { return conninfo_; }

 private:
  const std::string conninfo_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  std::uint32_t forks_;                            // guarded by mu_: idle_ was opened then
};

}  // namespace runq::pg
