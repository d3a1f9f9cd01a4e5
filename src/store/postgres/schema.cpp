#include "store/postgres/schema.hpp"

#include <string_view>

#include "runq_embedded_postgres_sql.hpp"

namespace runq::pg {
namespace {

struct Migration {
  int version;
  const char* name;
  std::string_view sql;
};

// Append only: a released migration never changes; a new one gets the next number.
constexpr Migration kMigrations[] = {
    {1, "tables", embedded::postgres_sql_0001_tables},
    {2, "functions", embedded::postgres_sql_0002_functions},
    {3, "revoke", embedded::postgres_sql_0003_revoke},
    {5, "flow_control", embedded::postgres_sql_0005_flow_control},
    {6, "worker_activity", embedded::postgres_sql_0006_worker_activity},
    {7, "workflows", embedded::postgres_sql_0007_workflows},
    {8, "unique", embedded::postgres_sql_0008_unique},
    {9, "limits", embedded::postgres_sql_0009_limits},
};

std::string replace_all(std::string text, std::string_view from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

std::string migration_sql(const Migration& m, const std::string& schema) {
  std::string sql = replace_all(std::string(m.sql), "@schema@", schema);
  return replace_all(std::move(sql), "@channel@", "'" + notify_channel(schema) + "'");
}

Status newer_error(const std::string& schema, int version) {
  return failed_precondition_error("schema '" + schema + "' is at version " +
                                   std::to_string(version) +
                                   ", newer than this runq understands (" +
                                   std::to_string(latest_schema_version()) + "): upgrade runq");
}

}  // namespace

int latest_schema_version() { return std::end(kMigrations)[-1].version; }

std::string notify_channel(const std::string& schema) { return "runq_" + schema; }

Status check_writable(Connection& c) {
  RUNQ_ASSIGN_OR_RETURN(Rows rows, c.exec("SELECT pg_is_in_recovery(), "
                                          "current_setting('default_transaction_read_only') = 'on'",
                                          "checking the server"));
  if (rows.size() == 1 && rows.boolean(0, 0)) {
    return failed_precondition_error(
        "the PostgreSQL server is a read-only replica (in recovery): point the store URL at "
        "the primary");
  }
  if (rows.size() == 1 && rows.boolean(0, 1)) {
    return failed_precondition_error(
        "the PostgreSQL session is read-only (default_transaction_read_only is on): point the "
        "store URL at a writable primary, or use a role that may write");
  }
  return ok_status();
}

Result<int> schema_version(Connection& c, const std::string& schema) {
  Params p;
  p.text(schema + ".migrations");
  RUNQ_ASSIGN_OR_RETURN(
      Rows exists, c.exec("SELECT to_regclass($1) IS NOT NULL", p, "reading the schema version"));
  if (exists.size() != 1 || !exists.boolean(0, 0)) return 0;
  RUNQ_ASSIGN_OR_RETURN(
      Rows rows, c.exec("SELECT coalesce(max(version), 0)::bigint FROM " + schema + ".migrations",
                        "reading the schema version"));
  return rows.size() == 1 ? rows.int32(0, 0) : 0;
}

Result<MigrationReport> migrate(Connection& c, const std::string& schema) {
  MigrationReport report;
  RUNQ_ASSIGN_OR_RETURN(report.from, schema_version(c, schema));
  report.to = report.from;
  if (report.from == latest_schema_version()) return report;
  if (report.from > latest_schema_version()) return newer_error(schema, report.from);
  const std::string what = "migrating schema '" + schema + "'";
  return in_transaction(c, what, [&](Connection& tx) -> Result<MigrationReport> {
    Params lock;
    lock.text("runq migrate " + schema);
    RUNQ_RETURN_IF_ERROR(
        tx.exec("SELECT pg_advisory_xact_lock(hashtext($1))", lock, what).status());
    RUNQ_RETURN_IF_ERROR(tx.exec_script(
        "CREATE SCHEMA IF NOT EXISTS " + schema + "; CREATE TABLE IF NOT EXISTS " + schema +
            ".migrations (version integer PRIMARY KEY, name text NOT NULL, "
            "applied_at timestamptz NOT NULL DEFAULT now())",
        what));
    // Read again under the lock: another process may have migrated meanwhile.
    RUNQ_ASSIGN_OR_RETURN(int version, schema_version(tx, schema));
    if (version > latest_schema_version()) return newer_error(schema, version);
    report.from = version;
    for (const Migration& m : kMigrations) {
      if (m.version <= version) continue;
      const std::string step =
          what + " to version " + std::to_string(m.version) + " (" + m.name + ")";
      RUNQ_RETURN_IF_ERROR(tx.exec_script(migration_sql(m, schema), step));
      Params row;
      row.num(m.version).text(m.name);
      RUNQ_RETURN_IF_ERROR(
          tx.exec("INSERT INTO " + schema + ".migrations (version, name) VALUES ($1, $2)", row,
                  step)
              .status());
    }
    report.to = latest_schema_version();
    return report;
  });
}

}  // namespace runq::pg
