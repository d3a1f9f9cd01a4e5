// include/runq/postgres.hpp: transactional enqueue on the application's connection, and
// migration by URL.
#include <chrono>

#include "runq/postgres.hpp"
#include "store/postgres/connection.hpp"
#include "store/postgres/schema.hpp"
#include "store/postgres_store.hpp"

namespace runq::postgres {
namespace {

bool valid_schema(std::string_view s) {
  if (s.empty() || s.size() > 63 || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

}  // namespace

Result<std::string> enqueue_in(pg_conn* conn, std::string_view task, std::string_view args_json,
                               const EnqueueOptions& opts, std::string_view schema) {
  const std::string what = "enqueueing task '" + std::string(task) + "' in a transaction";
  if (conn == nullptr) return invalid_argument_error(what + ": the connection is null");
  if (!valid_schema(schema)) {
    return invalid_argument_error(what + ": schema '" + std::string(schema) +
                                  "' must be lowercase letters, digits and '_'");
  }
  const Millis now = to_millis(std::chrono::system_clock::now().time_since_epoch());
  Millis countdown = opts.countdown();
  if (opts.eta() > 0) countdown = std::max(countdown, opts.eta() - now);
  pg::Params p;
  p.text(task).text(args_json).text(opts.queue().value_or(std::string(kDefaultQueue)));
  p.num(opts.priority().value_or(kDefaultPriority)).num(std::max<Millis>(countdown, 0));
  if (opts.id().empty()) {
    p.null();
  } else {
    p.text(opts.id());
  }
  p.num(opts.expires_in());
  p.finish();
  const std::string sql = "SELECT " + std::string(schema) +
                          ".enqueue($1, $2::jsonb, $3, $4::integer, $5::bigint, $6, $7::bigint)";
  PGresult* res = PQexecParams(conn, sql.c_str(), p.size(), nullptr, p.values(), p.lengths(),
                               p.formats(), /*resultFormat=*/0);
  if (PQresultStatus(res) != PGRES_TUPLES_OK) {
    const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    Status s = pg::pg_error(res, conn, what);
    PQclear(res);
    if (state && (std::string_view(state) == "42883" || std::string_view(state) == "3F000")) {
      return failed_precondition_error(
          s.message() + " (schema '" + std::string(schema) +
          "' has no runq functions: open the store once or run `runq migrate --store URL`)");
    }
    if (state && std::string_view(state) == "22P02") {
      return invalid_argument_error(s.message() + " (args must be a JSON array)");
    }
    return s;
  }
  std::string id = PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "";
  PQclear(res);
  return id;
}

Result<MigrationReport> migrate(std::string_view url) {
  RUNQ_ASSIGN_OR_RETURN(PostgresStoreOptions opts, parse_postgres_url(url));
  RUNQ_ASSIGN_OR_RETURN(std::unique_ptr<pg::Connection> conn, pg::Connection::open(opts.conninfo));
  const std::string what = "migrating schema '" + opts.schema + "'";
  RUNQ_RETURN_IF_ERROR(pg::check_writable(*conn).with_context(what));
  RUNQ_ASSIGN_OR_RETURN(pg::MigrationReport r, pg::migrate(*conn, opts.schema));
  return MigrationReport{opts.schema, r.from, r.to};
}

int latest_schema_version() { return pg::latest_schema_version(); }

}  // namespace runq::postgres
