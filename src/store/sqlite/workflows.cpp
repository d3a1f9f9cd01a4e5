#include "store/sqlite/workflows.hpp"

#include <set>
#include <utility>
#include <vector>

#include "store/sqlite/queries.hpp"

namespace runq::sqlite {
namespace {

// How long a CANCELED record is kept (the default result ttl).
constexpr Millis kCanceledTtlMs = 86'400'000;

// The state of `id` as a dependency sees it: a live row's state, else an unexpired result's.
Result<std::optional<TaskState>> dependency_state(Connection& conn, std::string_view id,
                                                  Millis now) {
  {
    RUNQ_ASSIGN_OR_RETURN(Statement stmt, conn.statement(Sql::kTaskState));
    stmt.bind_text(1, id);
    RUNQ_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (row) return parse_task_state(stmt.view(0));
  }
  RUNQ_ASSIGN_OR_RETURN(Statement stmt, conn.statement(Sql::kResultState));
  stmt.bind_text(1, id).bind(2, now);
  RUNQ_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return std::optional<TaskState>{};
  return parse_task_state(stmt.view(0));
}

Result<std::string> failure_reason(Connection& conn, std::string_view dep, TaskState state) {
  if (state == TaskState::kCanceled) return canceled_reason(conn, dep);
  return "dependency " + std::string(dep) + " ended " + std::string(task_state_name(state));
}

// Ends `id` CANCELED with `reason`: a results row (state, expiry) and a canceled row.
Status mark_canceled(Connection& conn, std::string_view id, std::string_view reason, Millis now) {
  RUNQ_RETURN_IF_ERROR(
      run_change(conn, Sql::kFinishTask, id, "canceled", now + kCanceledTtlMs).status());
  return run_change(conn, Sql::kPutCanceled, id, reason).status();
}

}  // namespace

const char* workflow_sql(Sql sql) {
  switch (sql) {
    case Sql::kAnyDependents:
      return "SELECT 1 FROM deps LIMIT 1";
    case Sql::kDependentsOf:
      return "SELECT waiter FROM deps WHERE dep = ?1";
    case Sql::kDeleteDependentsOf:
      return "DELETE FROM deps WHERE dep = ?1";
    case Sql::kPutDependency:
      return "INSERT OR IGNORE INTO deps(dep, waiter) VALUES (?1, ?2)";
    case Sql::kPutWait:
      return "INSERT OR REPLACE INTO waits(id, remaining, allow_failure) VALUES (?1, ?2, ?3)";
    case Sql::kGetWait:
      return "SELECT remaining, allow_failure FROM waits WHERE id = ?1";
    case Sql::kCountDownWait:
      return "UPDATE waits SET remaining = remaining - 1 WHERE id = ?1";
    case Sql::kDeleteWait:
      return "DELETE FROM waits WHERE id = ?1";
    case Sql::kReleaseWaiting:
      return "UPDATE tasks SET state = CASE WHEN eta <= ?2 THEN 'pending' ELSE 'scheduled' END "
             "WHERE id = ?1 AND state = 'waiting'";
    case Sql::kPutCanceled:
      return "INSERT OR REPLACE INTO canceled(id, reason) VALUES (?1, ?2)";
    case Sql::kGetCanceled:
      return "SELECT reason FROM canceled WHERE id = ?1";
    case Sql::kCleanCanceled:
      return "DELETE FROM canceled WHERE id NOT IN (SELECT id FROM results)";
    case Sql::kDeadLapsedWithDependents:
      return "SELECT id FROM tasks WHERE state = 'reserved' AND lease_expires <= ?1 AND "
             "deliveries >= max_deliveries AND id IN (SELECT dep FROM deps)";
    default:
      return nullptr;
  }
}

Status check_dependencies(Connection& conn, std::span<const NewTask> tasks, Millis now) {
  std::set<std::string_view> batch;
  for (const NewTask& t : tasks) {
    for (const std::string& dep : t.links.depends_on) {
      if (batch.count(dep) != 0) continue;
      RUNQ_ASSIGN_OR_RETURN(std::optional<TaskState> state, dependency_state(conn, dep, now));
      if (!state) {
        return invalid_argument_error("enqueueing task '" + t.id + "': dependency '" + dep +
                                      "' does not exist (never enqueued, or its record expired)");
      }
    }
    batch.insert(t.id);
  }
  return ok_status();
}

Status insert_linked_task(Connection& conn, const NewTask& t, Millis now) {
  RUNQ_ASSIGN_OR_RETURN(std::optional<TaskState> existing, dependency_state(conn, t.id, now));
  if (existing) return ok_status();  // the id is taken
  std::string cancel = t.links.canceled;
  std::vector<std::string_view> open;
  std::set<std::string_view> seen;
  for (const std::string& dep : t.links.depends_on) {
    if (!cancel.empty()) break;
    if (!seen.insert(dep).second) continue;
    RUNQ_ASSIGN_OR_RETURN(std::optional<TaskState> state, dependency_state(conn, dep, now));
    if (!state || !is_final(*state)) {
      open.push_back(dep);
    } else if (*state != TaskState::kSuccess && !t.links.allow_dependency_failure) {
      RUNQ_ASSIGN_OR_RETURN(cancel, failure_reason(conn, dep, *state));
    }
  }
  if (!cancel.empty()) {
    RUNQ_RETURN_IF_ERROR(mark_canceled(conn, t.id, cancel, now));
    return run_change(conn, Sql::kInsertListing, t.id, now, t.queue, t.task).status();
  }
  if (open.empty()) {
    NewTask plain = t;
    plain.links = {};
    return insert_task(conn, plain, now);
  }
  {
    RUNQ_ASSIGN_OR_RETURN(Statement stmt, conn.statement(Sql::kInsertTask));
    stmt.bind_text(1, t.id).bind_text(2, t.queue).bind(3, t.priority);
    stmt.bind_text(4, "waiting").bind(5, t.eta);
    stmt.bind(6, t.max_deliveries).bind_blob(7, t.body);
    RUNQ_RETURN_IF_ERROR(stmt.run());
  }
  for (std::string_view dep : open) {
    RUNQ_RETURN_IF_ERROR(run_change(conn, Sql::kPutDependency, dep, t.id).status());
  }
  RUNQ_RETURN_IF_ERROR(run_change(conn, Sql::kPutWait, t.id, static_cast<std::int64_t>(open.size()),
                                  std::int64_t{t.links.allow_dependency_failure ? 1 : 0})
                           .status());
  return run_change(conn, Sql::kInsertListing, t.id, now, t.queue, t.task).status();
}

Status resolve_dependents(Connection& conn, std::string_view id, TaskState state, Millis now) {
  std::vector<std::pair<std::string, TaskState>> ended{{std::string(id), state}};
  while (!ended.empty()) {
    auto [dep, dep_state] = std::move(ended.back());
    ended.pop_back();
    std::vector<std::string> waiters;
    {
      RUNQ_ASSIGN_OR_RETURN(Statement stmt, conn.statement(Sql::kDependentsOf));
      stmt.bind_text(1, dep);
      for (;;) {
        RUNQ_ASSIGN_OR_RETURN(bool row, stmt.step());
        if (!row) break;
        waiters.push_back(stmt.str(0));
      }
    }
    if (waiters.empty()) continue;
    RUNQ_RETURN_IF_ERROR(run_change(conn, Sql::kDeleteDependentsOf, dep).status());
    for (const std::string& w : waiters) {
      std::int64_t remaining = 0;
      bool allow = false;
      {
        RUNQ_ASSIGN_OR_RETURN(Statement stmt, conn.statement(Sql::kGetWait));
        stmt.bind_text(1, w);
        RUNQ_ASSIGN_OR_RETURN(bool row, stmt.step());
        if (!row) continue;  // canceled already
        remaining = stmt.int64(0);
        allow = stmt.int64(1) != 0;
      }
      if (dep_state == TaskState::kSuccess || allow) {
        if (remaining > 1) {
          RUNQ_RETURN_IF_ERROR(run_change(conn, Sql::kCountDownWait, w).status());
          continue;
        }
        RUNQ_RETURN_IF_ERROR(run_change(conn, Sql::kDeleteWait, w).status());
        RUNQ_RETURN_IF_ERROR(run_change(conn, Sql::kReleaseWaiting, w, now).status());
        continue;
      }
      RUNQ_ASSIGN_OR_RETURN(std::string reason, failure_reason(conn, dep, dep_state));
      RUNQ_RETURN_IF_ERROR(run_change(conn, Sql::kDeleteWait, w).status());
      RUNQ_RETURN_IF_ERROR(run_change(conn, Sql::kDeleteTask, w).status());
      RUNQ_RETURN_IF_ERROR(mark_canceled(conn, w, reason, now));
      ended.emplace_back(w, TaskState::kCanceled);
    }
  }
  return ok_status();
}

Result<bool> any_dependents(Connection& conn) { return exists(conn, Sql::kAnyDependents); }

Result<std::string> canceled_reason(Connection& conn, std::string_view id) {
  RUNQ_ASSIGN_OR_RETURN(Statement stmt, conn.statement(Sql::kGetCanceled));
  stmt.bind_text(1, id);
  RUNQ_ASSIGN_OR_RETURN(bool row, stmt.step());
  return row ? stmt.str(0) : std::string();
}

}  // namespace runq::sqlite
