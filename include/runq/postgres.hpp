// runq/postgres.hpp — the PostgreSQL store's extras: enqueue inside the application's own
// transaction, and schema migration.
//
// With the store at `postgres://…` (or `postgresql://…`), runq's tables live in one schema of
// the application's database (`?schema=NAME`, default `runq`). A task enqueued with
// `enqueue_in` on the application's connection, inside its open transaction, becomes visible
// to workers exactly when that transaction commits, and never exists if it rolls back or the
// application dies before COMMIT. This is what Celery's `transaction.on_commit` cannot give:
// there the task is published after the commit, and lost if the process dies in between.
// Other languages get the same from SQL: `SELECT runq.enqueue('send_email', '["ada@x.org"]')`
// (docs/postgres.md lists its parameters).
//
// Thread safety: the functions use only the connection they are given, which libpq allows one
// thread at a time. Available when runq is built with the postgres store (RUNQ_WITH_POSTGRES,
// on by default); the application links libpq itself for its own PGconn.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>

#include "runq/options.hpp"
#include "runq/status.hpp"
#include "runq/task.hpp"

struct pg_conn;  // libpq's PGconn (libpq-fe.h: typedef struct pg_conn PGconn)

namespace runq::postgres {

// Enqueues task `task` with the JSON argument array `args_json` through <schema>.enqueue() on
// `conn`, inside whatever transaction is open there (autocommit when none). Honours the
// queue, priority, countdown, eta, expires and id of `opts` (queue "default" and priority 0
// when unset). Returns the task id (the given id when `opts.id()` is set; a task already
// known under that id is left as it is).
// Errors: InvalidArgument (empty name, args not a JSON array, bad queue/priority/id, a bad
// schema name; nothing was enqueued, but the application's transaction is aborted as after
// any failed statement); FailedPrecondition (the schema has no runq functions: open the store
// once or run `runq migrate`; a read-only server); Unavailable (connection lost).
Result<std::string> enqueue_in(pg_conn* conn, std::string_view task, std::string_view args_json,
                               const EnqueueOptions& opts = {}, std::string_view schema = "runq");

// Typed: enqueues `task(args...)` in the transaction open on `conn`, with the task's queue and
// priority. `add.delay(2, 3)` becomes `runq::postgres::delay_in(conn, add, 2, 3)`.
template <typename R, typename... A>
Result<std::string> delay_in(pg_conn* conn, const TaskHandle<R, A...>& task,
                             std::type_identity_t<std::decay_t<A>>... args) {
  EnqueueOptions opts;
  opts.queue(task.options().queue()).priority(task.options().priority());
  return enqueue_in(conn, task.name(), TaskHandle<R, A...>::encode(args...), opts);
}

// As delay_in, with per-call options and the schema of the store.
template <typename R, typename... A>
Result<std::string> apply_in(pg_conn* conn, const TaskHandle<R, A...>& task,
                             const EnqueueOptions& opts, std::string_view schema,
                             std::type_identity_t<std::decay_t<A>>... args) {
  EnqueueOptions o = opts;
  if (!o.queue()) o.queue(task.options().queue());
  if (!o.priority()) o.priority(task.options().priority());
  return enqueue_in(conn, task.name(), TaskHandle<R, A...>::encode(args...), o, schema);
}

struct MigrationReport {
  std::string schema;
  int from = 0;  // the version found (0: no runq schema yet)
  int to = 0;    // the version now (the newest this runq knows)
};

// Creates or upgrades the runq schema of the store at `url` (postgres://, postgresql:// or
// postgres:KEYWORDS, with its ?schema=), what `runq migrate` does. Safe to run while workers
// use the store and from several processes at once (they take turns on an advisory lock).
// Errors: InvalidArgument (not a PostgreSQL URL, or malformed); Unavailable (cannot connect);
// FailedPrecondition (a read-only server, or a schema newer than this runq).
Result<MigrationReport> migrate(std::string_view url);

// The newest schema version this runq knows.
int latest_schema_version();

}  // namespace runq::postgres
