// The postgres store's schema: versioned migrations (src/store/postgres/migrations/*.sql,
// embedded at build time), applied in order inside one transaction under an advisory lock, and
// recorded in <schema>.migrations.
#pragma once

#include <string>

#include "runq/status.hpp"
#include "store/postgres/connection.hpp"

namespace runq::pg {

// The newest migration this runq knows.
int latest_schema_version();

// The LISTEN/NOTIFY channel of a schema.
std::string notify_channel(const std::string& schema);

struct MigrationReport {
  int from = 0;  // version found (0 = no schema yet)
  int to = 0;    // version now
};

// Refuses a read-only server (a hot standby, default_transaction_read_only): FailedPrecondition.
Status check_writable(Connection& c);

// Creates or upgrades `schema` to latest_schema_version(). Several processes may call it at
// once: they take turns on an advisory lock. Errors: FailedPrecondition (the schema is newer
// than this runq); those of the statements.
Result<MigrationReport> migrate(Connection& c, const std::string& schema);

// The version of `schema` (0 when it has no runq tables). Changes nothing.
Result<int> schema_version(Connection& c, const std::string& schema);

}  // namespace runq::pg
