#include "store/sqlite/connection.hpp"

#include <algorithm>
#include <thread>
#include <utility>
#include <vector>

#include "core/fork_generation.hpp"

namespace runq::sqlite {
namespace {

std::string_view hint(int primary) {
  switch (primary) {
    case SQLITE_CANTOPEN:
      return " (does the directory exist and is it writable?)";
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return " (are the database file, its directory and its -wal/-shm files writable?)";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return " (another process held the database longer than busy_timeout_ms)";
    case SQLITE_NOTADB:
      return " (is this a runq database?)";
    default:
      return "";
  }
}

StatusCode code_for(int primary) {
  switch (primary) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return StatusCode::kUnavailable;
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return StatusCode::kFailedPrecondition;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return StatusCode::kDataLoss;
    case SQLITE_FULL:
      return StatusCode::kResourceExhausted;
    case SQLITE_TOOBIG:
      return StatusCode::kTooLarge;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
      return StatusCode::kInvalidArgument;
    default:
      return StatusCode::kInternal;
  }
}

}  // namespace

Status sqlite_error(int rc, sqlite3* db, std::string_view context) {
  const int primary = rc & 0xff;
  // sqlite3_errmsg describes the most recent failure on `db`, which may be an older one when
  // `rc` came from elsewhere (a bind): only trust it when its code matches.
  const char* message = db != nullptr && (sqlite3_errcode(db) & 0xff) == primary
                            ? sqlite3_errmsg(db)
                            : sqlite3_errstr(rc);
  std::string text(context);
  if (!text.empty()) text += ": ";
  text += message;
  text += hint(primary);
  return Status(code_for(primary), std::move(text));
}

// ---- Statement --------------------------------------------------------------------------

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), db_(other.db_), bind_rc_(other.bind_rc_) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void Statement::note_bind(int rc) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

Statement& Statement::bind(int index, std::int64_t value) {
  note_bind(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Statement& Statement::bind(int index, double value) {
  note_bind(sqlite3_bind_double(stmt_, index, value));
  return *this;
}

Statement& Statement::bind_text(int index, std::string_view value) {
  note_bind(
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_STATIC, SQLITE_UTF8));
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view value) {
  // A zero-length blob with a null pointer would bind NULL; "" keeps it an empty blob.
  const char* data = value.empty() ? "" : value.data();
  note_bind(sqlite3_bind_blob64(stmt_, index, data, value.size(), SQLITE_STATIC));
  return *this;
}

Statement& Statement::bind_null(int index) {
  note_bind(sqlite3_bind_null(stmt_, index));
  return *this;
}

Result<bool> Statement::step() {
  if (bind_rc_ != SQLITE_OK) return sqlite_error(bind_rc_, db_, "binding a parameter");
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(rc, db_, "");
}

Status Statement::run() {
  Result<bool> row = step();
  if (!row.ok()) return row.status();
  return ok_status();
}

std::string_view Statement::view(int col) const {
  const void* data = sqlite3_column_blob(stmt_, col);
  const int size = sqlite3_column_bytes(stmt_, col);
  if (data == nullptr) return {};
  return {static_cast<const char*>(data), static_cast<std::size_t>(size)};
}

// ---- Connection -------------------------------------------------------------------------

Result<std::unique_ptr<Connection>> Connection::open(const ConnectionOptions& options) {
  const std::string context = "opening sqlite database '" + options.path + "'";
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(options.path.c_str(), &db, flags, nullptr);
  std::unique_ptr<Connection> conn(new Connection(db, options));
  if (rc != SQLITE_OK) return sqlite_error(rc, db, context);
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_handler(db, &Connection::on_busy, conn.get());
  // journal_mode=WAL is persistent in the file; the others are per connection. NORMAL skips the
  // fsync per commit but a committed transaction still survives a kill -9 of any process; the
  // fsyncs happen in the automatic checkpoint every 1000 WAL pages. (Checkpointing on a
  // background thread instead lets the WAL grow without bound under a steady write load: it
  // only restarts from the top when a writer finds it fully checkpointed.)
  Status s = conn->exec(
      "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY; "
      "PRAGMA cache_size = -8192; PRAGMA journal_size_limit = 67108864");
  if (!s.ok()) return Status(s.code(), context + ": " + s.message());
  return conn;
}

Connection::~Connection() {
  for (sqlite3_stmt* stmt : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

// SQLite's own busy handler sleeps 1, 2, 5, 10... ms between attempts to take a lock held by
// another process. A write transaction here lasts well under a millisecond, so short sleeps
// that grow slowly keep several processes close to the single-process throughput.
int Connection::on_busy(void* self, int attempt) {
  auto* conn = static_cast<Connection*>(self);
  const auto now = std::chrono::steady_clock::now();
  if (attempt == 0) conn->busy_since_ = now;
  if (now - conn->busy_since_ >= conn->busy_timeout_) return 0;
  const auto pause = std::chrono::microseconds(50 << std::min(attempt, 5));
  std::this_thread::sleep_for(std::min<std::chrono::microseconds>(pause, conn->busy_timeout_));
  return 1;
}

Result<Statement> Connection::statement(Sql sql) {
  sqlite3_stmt*& slot = cache_[static_cast<std::size_t>(sql)];
  if (slot == nullptr) {
    const int rc =
        sqlite3_prepare_v3(db_, sql_text(sql), -1, SQLITE_PREPARE_PERSISTENT, &slot, nullptr);
    if (rc != SQLITE_OK) return sqlite_error(rc, db_, "preparing a statement");
  }
  return Statement(slot, db_);
}

Status Connection::exec(const char* sql) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return sqlite_error(rc, db_, "");
  return ok_status();
}

// ---- ConnectionPool ---------------------------------------------------------------------

namespace {

// Connections a forked child inherited: never used nor closed in the child (see acquire()).
// Kept reachable from a static, so that a leak checker does not report them (an exit code
// changed by LeakSanitizer would hide the child's own).
void abandon(std::unique_ptr<Connection> conn) {
  static std::mutex mu;
  static auto* const abandoned = new std::vector<std::unique_ptr<Connection>>();
  std::lock_guard<std::mutex> lock(mu);
  abandoned->push_back(std::move(conn));
}

}  // namespace

ConnectionPool::ConnectionPool(ConnectionOptions options)
    : options_(std::move(options)), forks_(runq::internal::fork_generation()) {}

ConnectionPool::Lease::~Lease() {
  if (conn_ == nullptr) return;
  if (forks_ != runq::internal::fork_generation()) {
    abandon(std::move(conn_));
    return;
  }
  std::lock_guard<std::mutex> lock(pool_->mu_);
  pool_->idle_.push_back(std::move(conn_));
}

void ConnectionPool::add(std::unique_ptr<Connection> conn) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(std::move(conn));
}

Result<ConnectionPool::Lease> ConnectionPool::acquire() {
  const std::uint32_t forks = runq::internal::fork_generation();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (forks_ != forks) {
      for (auto& conn : idle_) abandon(std::move(conn));
      idle_.clear();
      forks_ = forks;
    }
    if (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn), forks);
    }
  }
  RUNQ_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::open(options_));
  return Lease(this, std::move(conn), forks);
}

// ---- Transaction ------------------------------------------------------------------------

Transaction::~Transaction() {
  // After some errors (SQLITE_FULL, IOERR) SQLite has already rolled back by itself.
  if (!open_ || sqlite3_get_autocommit(conn_.db()) != 0) return;
  Result<Statement> rollback = conn_.statement(Sql::kRollback);
  if (rollback.ok()) rollback->run().ignore_error();
}

Status Transaction::begin(bool write) {
  RUNQ_ASSIGN_OR_RETURN(Statement stmt,
                        conn_.statement(write ? Sql::kBeginImmediate : Sql::kBeginRead));
  RUNQ_RETURN_IF_ERROR(stmt.run());
  open_ = true;
  return ok_status();
}

Status Transaction::commit() {
  RUNQ_ASSIGN_OR_RETURN(Statement stmt, conn_.statement(Sql::kCommit));
  RUNQ_RETURN_IF_ERROR(stmt.run());
  open_ = false;
  return ok_status();
}

}  // namespace runq::sqlite
