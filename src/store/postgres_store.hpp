// The PostgreSQL store: runq's tables in one schema of an application's database, so tasks can
// be enqueued inside the application's own transactions (include/runq/postgres.hpp).
// See docs/postgres.md.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "runq/status.hpp"
#include "runq/store.hpp"

namespace runq {

struct PostgresStoreOptions {
  // What libpq connects with: a URI ("postgresql://user:pass@host:port/db?sslmode=...") or a
  // keyword string ("host=... dbname=..."), without runq's own parameters below.
  std::string conninfo;
  // The schema holding runq's tables and functions: letters, digits and '_' ([default runq]).
  std::string schema = "runq";
  // Create and upgrade the schema when the store is opened [true]. When false, opening a
  // database whose schema is missing or older fails with FailedPrecondition naming
  // `runq migrate`.
  bool migrate = true;
  // Idle workers wake on LISTEN/NOTIFY [true]. Turn it off behind PgBouncer in transaction
  // mode, which breaks LISTEN: workers then look for work every `poll_ms`.
  bool listen = true;
  // How often an idle worker looks for work when no notification comes: the fallback of
  // LISTEN (lost connection, listen=false). Default 1 s.
  Millis poll_ms = 1000;
  // Largest task body accepted by enqueue (TooLarge above it). Default 1 MiB.
  std::size_t max_body_bytes = 1 << 20;
  // How long dead letters are kept before cleanup() removes them. Default 7 days.
  Millis dead_retention_ms = 7LL * 24 * 3600 * 1000;
};

// Parses "postgres://...", "postgresql://..." (a libpq URI) or "postgres:KEYWORDS" (a libpq
// keyword string, e.g. "postgres:host=/run/postgresql dbname=app"). runq's parameters are
// taken out of it: `schema=NAME`, `migrate=true|false`, `listen=true|false`, `poll=DURATION`
// (query parameters of a URI, keywords of a keyword string); everything else goes to libpq.
// Errors: InvalidArgument naming the bad part.
Result<PostgresStoreOptions> parse_postgres_url(std::string_view url);

// Connects, checks the server is writable, and creates or upgrades the schema (options.migrate).
// Errors: Unavailable (cannot connect, with libpq's reason); FailedPrecondition (a read-only
// server, a schema newer than this runq, or an old schema with migrate=false).
Result<std::unique_ptr<Store>> new_postgres_store(const PostgresStoreOptions& options);

}  // namespace runq
