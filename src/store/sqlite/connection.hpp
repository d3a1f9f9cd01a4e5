// Thin RAII layer over the SQLite C API for the sqlite store: one error-mapping helper, a
// connection with a cache of prepared statements, borrowed statements that reset themselves,
// and write transactions that roll back unless committed.
//
// Thread safety: a Connection (and every Statement borrowed from it) is used by one thread at a
// time; connections are opened with SQLITE_OPEN_NOMUTEX. ConnectionPool is thread-safe.
#pragma once

#include <sqlite3.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "runq/status.hpp"
#include "store/sqlite/schema.hpp"

namespace runq::sqlite {

// The one place SQLite result codes become a Status: BUSY/LOCKED -> Unavailable,
// CANTOPEN/READONLY/PERM/AUTH -> FailedPrecondition, CORRUPT/NOTADB -> DataLoss,
// FULL -> ResourceExhausted, TOOBIG -> TooLarge, CONSTRAINT/MISMATCH/RANGE -> InvalidArgument,
// anything else -> Internal. The message is "context: sqlite's message (hint)". `db` may be null.
Status sqlite_error(int rc, sqlite3* db, std::string_view context);

// A cached prepared statement borrowed for one use. Binding is by 1-based index, as in SQL
// (?1, ?2...). Text and blobs are bound without copying: they must outlive the Statement.
// The destructor resets the statement and clears its bindings, so no dangling pointer is kept.
class Statement {
 public:
  Statement(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, double value);
  Statement& bind_text(int index, std::string_view value);
  Statement& bind_blob(int index, std::string_view value);
  Statement& bind_null(int index);

  // Advances one row: true when a row is available, false when the statement is done.
  Result<bool> step();
  // Runs a statement that returns no rows (INSERT/UPDATE/DELETE).
  Status run();
  // Rows changed by the last run() on this connection.
  int changes() const { return sqlite3_changes(db_); }

  std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  int int32(int col) const { return sqlite3_column_int(stmt_, col); }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  // Bytes of a TEXT or BLOB column, valid until the next step() or the Statement's end.
  std::string_view view(int col) const;
  std::string str(int col) const { return std::string(view(col)); }

 private:
  void note_bind(int rc);

  sqlite3_stmt* stmt_;
  sqlite3* db_;
  int bind_rc_ = SQLITE_OK;
};

struct ConnectionOptions {
  std::string path;
  std::chrono::milliseconds busy_timeout{5000};
};

// One open database handle with its prepared statements.
class Connection {
 public:
  // Opens (creating if missing) and configures the database: WAL, synchronous=NORMAL, busy
  // handler. Errors carry the context "opening sqlite database 'PATH'".
  static Result<std::unique_ptr<Connection>> open(const ConnectionOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Borrows the cached statement for `sql`, preparing it on first use.
  Result<Statement> statement(Sql sql);
  // Runs SQL text without caching (setup, pragmas).
  Status exec(const char* sql);
  sqlite3* db() const { return db_; }

 private:
  Connection(sqlite3* db, const ConnectionOptions& options)
      : db_(db), busy_timeout_(options.busy_timeout) {}
  static int on_busy(void* self, int attempt);

  sqlite3* db_;
  std::chrono::milliseconds busy_timeout_;
  std::chrono::steady_clock::time_point busy_since_{};
  std::array<sqlite3_stmt*, kSqlCount> cache_{};
};

// Connections handed out one per concurrent call and returned when the call ends. A pool
// rather than one connection per thread: callers may be short-lived threads (executor pools),
// and a pool bounds the open handles by the peak number of concurrent calls while needing no
// thread-exit hooks. Never blocks: when every connection is busy, a new one is opened.
class ConnectionPool {
 public:
  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> conn, std::uint32_t forks)
        : pool_(pool), conn_(std::move(conn)), forks_(forks) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> conn_;
    std::uint32_t forks_;  // fork_generation() when the connection left the pool
  };

  explicit ConnectionPool(ConnectionOptions options);
  // Adds an already open connection (the one that created the schema).
  void add(std::unique_ptr<Connection> conn);
  // An idle connection opened by this process, or a new one. In a forked child (the process
  // pool's children) the connections opened before the fork are the parent's: SQLite must not
  // use them across a fork, nor close them (closing may checkpoint the parent's WAL), so they
  // are abandoned, and the child opens its own.
  Result<Lease> acquire();

 private:
  ConnectionOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  std::uint32_t forks_;                            // guarded by mu_: idle_ was opened then
};

// BEGIN ... COMMIT; rolls back in the destructor unless committed. A write transaction is
// BEGIN IMMEDIATE: it takes the write lock up front, so it never fails half-way on a lock
// upgrade (SQLITE_BUSY_SNAPSHOT) after reading. A read transaction gives several SELECTs one
// consistent snapshot.
class Transaction {
 public:
  explicit Transaction(Connection& conn) : conn_(conn) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Status begin(bool write);
  Status commit();

 private:
  Connection& conn_;
  bool open_ = false;
};

namespace internal {
inline void bind_all(Statement&, int) {}
template <typename First, typename... Rest>
void bind_all(Statement& stmt, int index, const First& first, const Rest&... rest) {
  if constexpr (std::is_convertible_v<const First&, std::string_view>) {
    stmt.bind_text(index, std::string_view(first));
  } else {
    stmt.bind(index, static_cast<std::int64_t>(first));
  }
  bind_all(stmt, index + 1, rest...);
}
}  // namespace internal

// Runs `sql` with `args` bound to ?1, ?2... (strings as text, integers as INTEGER) and returns
// the number of rows it changed.
template <typename... Args>
Result<std::int64_t> run_change(Connection& conn, Sql sql, const Args&... args) {
  RUNQ_ASSIGN_OR_RETURN(Statement stmt, conn.statement(sql));
  internal::bind_all(stmt, 1, args...);
  RUNQ_RETURN_IF_ERROR(stmt.run());
  return static_cast<std::int64_t>(stmt.changes());
}

}  // namespace runq::sqlite
