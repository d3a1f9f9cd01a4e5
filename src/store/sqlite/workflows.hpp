// Workflows in the sqlite store (Store WorkflowLinks / FollowUps, include/runq/store.hpp).
//
// Tables (schema.cpp): `deps` (dependency id, waiting id) — one row per edge, looked up by the
// dependency when it ends; `waits` (waiting id, remaining count, allow_failure) — the counter
// of a WAITING task; `canceled` (id, reason) — why a task ended CANCELED (its state and expiry
// are a `results` row, as for every finished task). A WAITING task is a `tasks` row in state
// 'waiting', outside every index. Everything runs inside the caller's write transaction, so a
// dependency's end and the release or cancellation of its dependents are one atomic step.
//
// Thread safety: as Connection (one thread at a time).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "runq/store.hpp"
#include "store/sqlite/connection.hpp"

namespace runq::sqlite {

// The SQL text of the workflow statements; nullptr for any other.
const char* workflow_sql(Sql sql);

// InvalidArgument unless every dependency of `tasks` exists (in the store, or earlier in
// `tasks`).
Status check_dependencies(Connection& conn, std::span<const NewTask> tasks, Millis now);

// Inserts a task that has WorkflowLinks (see Store): CANCELED at once, WAITING on its
// unfinished dependencies, or as a plain task when they all succeeded already. Skips an id
// that is taken. REQUIRES: check_dependencies passed.
Status insert_linked_task(Connection& conn, const NewTask& task, Millis now);

// Task `id` just ended in final `state`: counts it for the tasks waiting on it, releasing those
// it was the last for and cancelling (transitively) those it fails.
Status resolve_dependents(Connection& conn, std::string_view id, TaskState state, Millis now);

// Whether any task waits on a dependency (a cheap check before per-task work).
Result<bool> any_dependents(Connection& conn);

// The reason a CANCELED task was canceled ("" when unknown).
Result<std::string> canceled_reason(Connection& conn, std::string_view id);

}  // namespace runq::sqlite
