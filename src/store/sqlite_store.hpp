// The embedded store: one SQLite file in WAL mode, shared by any number of processes on one
// machine. See sqlite_store.cpp for the schema.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "runq/status.hpp"
#include "runq/store.hpp"

namespace runq {

struct SqliteStoreOptions {
  // Database file; created with its directory's permissions if missing.
  std::string path = "runq.db";
  // How long a call waits for another process's write lock before returning Unavailable.
  // Default 5 s; raise it for many processes on a slow disk.
  Millis busy_timeout_ms = 5000;
  // Largest task body accepted by enqueue (TooLarge above it). Default 1 MiB.
  std::size_t max_body_bytes = 1 << 20;
  // How long dead letters are kept before cleanup() removes them. Default 7 days.
  Millis dead_retention_ms = 7LL * 24 * 3600 * 1000;
};

// Parses "sqlite:PATH" or "sqlite://PATH" into options (other fields default). Opens nothing.
// Errors: InvalidArgument when the path is empty.
Result<SqliteStoreOptions> parse_sqlite_url(std::string_view url);

Result<std::unique_ptr<Store>> new_sqlite_store(const SqliteStoreOptions& options);

}  // namespace runq
