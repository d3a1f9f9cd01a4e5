#include "store/postgres/connection.hpp"

#include <endian.h>

#include <cstring>
#include <type_traits>

#include "core/fork_generation.hpp"

namespace runq::pg {
namespace {

std::string trimmed(const char* text) {
  std::string s = text ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// What to tell the user for some SQLSTATEs, after the server's message.
const char* hint_for(std::string_view state) {
  if (state == "53300") {
    return "the server's connection limit (max_connections) is reached: close other clients, "
           "raise max_connections, or put a pooler in front";
  }
  if (state == "25006") {
    return "the server is read-only (a hot standby replica?): point runq at the primary";
  }
  if (state == "57014") {
    return "the statement was cancelled (statement_timeout set on the server or role?); "
           "runq's statements are short, so a timeout under 1 s is too tight";
  }
  if (state == "42501") return "the database user lacks a privilege runq needs";
  return nullptr;
}

}  // namespace

Status pg_error(const PGresult* res, PGconn* conn, std::string_view context) {
  const char* state_c = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const std::string_view state = state_c ? state_c : "";
  std::string message =
      trimmed(res ? PQresultErrorMessage(res) : (conn ? PQerrorMessage(conn) : "no connection"));
  if (message.empty() && conn) message = trimmed(PQerrorMessage(conn));
  if (message.empty()) message = "unexpected reply from the server";
  std::string text = std::string(context) + ": " + message;
  if (const char* hint = hint_for(state)) text += " (" + std::string(hint) + ")";
  if (state == "RQ001" && res != nullptr) {  // a bounded queue without room (0005_flow_control)
    const char* primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    return resource_exhausted_error(primary ? primary : std::move(text));
  }
  const bool lost = conn != nullptr && PQstatus(conn) != CONNECTION_OK;
  if (lost || state.empty() || state.starts_with("08") || state.starts_with("57") ||
      state.starts_with("53") || state.starts_with("40") || state == "55P03") {
    return unavailable_error(std::move(text));
  }
  if (state == "25006" || state == "42501" || state.starts_with("28")) {
    return failed_precondition_error(std::move(text));
  }
  if (state.starts_with("22")) return invalid_argument_error(std::move(text));
  return internal_error(std::move(text));
}

// ---- Params -------------------------------------------------------------------------------

void Params::add(std::string v, int format, bool is_null) {
  values_.push_back(std::move(v));
  formats_.push_back(format);
  nulls_.push_back(is_null ? 1 : 0);
}

Params& Params::text(std::string_view v) {
  add(std::string(v), 0, false);
  return *this;
}

Params& Params::binary(std::string_view v) {
  add(std::string(v), 1, false);
  return *this;
}

Params& Params::real(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return text(buf);
}

Params& Params::null() {
  add("", 0, true);
  return *this;
}

namespace {

void put32(std::string& out, std::uint32_t v) {
  v = htobe32(v);
  out.append(reinterpret_cast<const char*>(&v), 4);
}

// PostgreSQL's binary array format (array_recv): one dimension, lower bound 1, each element
// its length (-1 for NULL) and its bytes. No escaping, nothing for the server to parse.
template <typename Elem>
std::string binary_array(std::uint32_t elem_oid, std::span<const Elem> values) {
  std::size_t total = 20;
  bool has_null = false;
  for (const auto& v : values) {
    if constexpr (std::is_same_v<Elem, std::string_view>) {
      total += 4 + v.size();
    } else {
      total += 4 + (v ? v->size() : 0);
      has_null = has_null || !v;
    }
  }
  std::string out;
  out.reserve(total);
  put32(out, values.empty() ? 0 : 1);  // dimensions
  put32(out, has_null ? 1 : 0);
  put32(out, elem_oid);
  if (values.empty()) return out;
  put32(out, static_cast<std::uint32_t>(values.size()));
  put32(out, 1);  // lower bound
  for (const auto& v : values) {
    if constexpr (std::is_same_v<Elem, std::string_view>) {
      put32(out, static_cast<std::uint32_t>(v.size()));
      out.append(v);
    } else if (!v) {
      put32(out, 0xffffffffu);
    } else {
      put32(out, static_cast<std::uint32_t>(v->size()));
      out.append(*v);
    }
  }
  return out;
}

constexpr std::uint32_t kTextOid = 25;
constexpr std::uint32_t kByteaOid = 17;

}  // namespace

Params& Params::text_array(std::span<const std::string_view> values) {
  add(binary_array(kTextOid, values), 1, false);
  return *this;
}

Params& Params::bytea_array(std::span<const std::optional<std::string_view>> values) {
  add(binary_array(kByteaOid, values), 1, false);
  return *this;
}

Params& Params::int_array(std::span<const std::int64_t> values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(values[i]);
  }
  out += '}';
  return text(out);
}

void Params::finish() {
  ptrs_.clear();
  lengths_.clear();
  for (std::size_t i = 0; i < values_.size(); ++i) {
    ptrs_.push_back(nulls_[i] ? nullptr : values_[i].data());
    lengths_.push_back(static_cast<int>(values_[i].size()));
  }
}

// ---- Rows ---------------------------------------------------------------------------------

std::int64_t Rows::int64(int row, int col) const {
  if (PQgetisnull(res_.get(), row, col)) return 0;
  const char* p = PQgetvalue(res_.get(), row, col);
  switch (PQgetlength(res_.get(), row, col)) {
    case 1:
      return static_cast<unsigned char>(p[0]);
    case 2: {
      std::uint16_t v;
      std::memcpy(&v, p, 2);
      return static_cast<std::int16_t>(be16toh(v));
    }
    case 4: {
      std::uint32_t v;
      std::memcpy(&v, p, 4);
      return static_cast<std::int32_t>(be32toh(v));
    }
    case 8: {
      std::uint64_t v;
      std::memcpy(&v, p, 8);
      return static_cast<std::int64_t>(be64toh(v));
    }
    default:
      return 0;
  }
}

double Rows::real(int row, int col) const {
  if (PQgetisnull(res_.get(), row, col) || PQgetlength(res_.get(), row, col) != 8) return 0;
  std::uint64_t v;
  std::memcpy(&v, PQgetvalue(res_.get(), row, col), 8);
  v = be64toh(v);
  double d;
  std::memcpy(&d, &v, 8);
  return d;
}

std::string_view Rows::view(int row, int col) const {
  if (PQgetisnull(res_.get(), row, col)) return {};
  return {PQgetvalue(res_.get(), row, col),
          static_cast<std::size_t>(PQgetlength(res_.get(), row, col))};
}

std::int64_t Rows::affected() const {
  const char* n = PQcmdTuples(res_.get());
  return n && *n ? std::stoll(n) : 0;
}

// ---- Connection ---------------------------------------------------------------------------

Result<std::unique_ptr<Connection>> Connection::open(const std::string& conninfo) {
  const char* keys[] = {"dbname", "application_name", "connect_timeout", nullptr};
  const char* values[] = {conninfo.c_str(), "runq", "10", nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn == nullptr) return unavailable_error("connecting to PostgreSQL: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    std::string text = "connecting to PostgreSQL: " + message;
    if (message.find("too many c") != std::string::npos ||
        message.find("remaining connection slots") != std::string::npos) {
      text += std::string(" (") + hint_for("53300") + ")";
    }
    return unavailable_error(std::move(text));
  }
  // Notices (e.g. "schema already exists, skipping") are not for the user's terminal.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<Connection>(new Connection(conn));
}

Connection::~Connection() { PQfinish(conn_); }

Result<Rows> Connection::exec(std::string_view sql, Params& params, std::string_view what) {
  params.finish();
  const std::string text(sql);
  PGresult* res = PQexecParams(conn_, text.c_str(), params.size(), nullptr, params.values(),
                               params.lengths(), params.formats(), /*resultFormat=*/1);
  const ExecStatusType st = PQresultStatus(res);
  if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) return Rows(res);
  Status s = pg_error(res, conn_, what);
  PQclear(res);
  return s;
}

Result<Rows> Connection::exec(std::string_view sql, std::string_view what) {
  Params none;
  return exec(sql, none, what);
}

Status Connection::exec_script(const std::string& sql, std::string_view what) {
  PGresult* res = PQexec(conn_, sql.c_str());
  const ExecStatusType st = PQresultStatus(res);
  Status s =
      st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK ? Status() : pg_error(res, conn_, what);
  PQclear(res);
  return s;
}

// ---- ConnectionPool -----------------------------------------------------------------------

namespace {

// Connections a forked child inherited: never used nor closed in the child (see acquire()).
// Kept reachable from a static, so that a leak checker does not report them.
void abandon(std::unique_ptr<Connection> c) {
  static std::mutex mu;
  static auto* const abandoned = new std::vector<std::unique_ptr<Connection>>();
  std::lock_guard<std::mutex> lock(mu);
  abandoned->push_back(std::move(c));
}

}  // namespace

ConnectionPool::ConnectionPool(std::string conninfo)
    : conninfo_(std::move(conninfo)), forks_(runq::internal::fork_generation()) {}

ConnectionPool::Lease::~Lease() {
  if (c_ && forks_ != runq::internal::fork_generation()) {
    abandon(std::move(c_));
    return;
  }
  if (c_ && pool_ && !c_->broken()) pool_->add(std::move(c_));
}

Result<ConnectionPool::Lease> ConnectionPool::acquire() {
  const std::uint32_t forks = runq::internal::fork_generation();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (forks_ != forks) {
      for (auto& c : idle_) abandon(std::move(c));
      idle_.clear();
      forks_ = forks;
    }
    if (!idle_.empty()) {
      std::unique_ptr<Connection> c = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(c), forks);
    }
  }
  RUNQ_ASSIGN_OR_RETURN(std::unique_ptr<Connection> c, Connection::open(conninfo_));
  return Lease(this, std::move(c), forks);
}

void ConnectionPool::add(std::unique_ptr<Connection> c) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(std::move(c));
}

}  // namespace runq::pg
