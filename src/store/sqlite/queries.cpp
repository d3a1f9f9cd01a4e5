#include "store/sqlite/queries.hpp"

#include <algorithm>
#include <limits>
#include <map>

#include <nlohmann/json.hpp>

#include "store/rate_bucket.hpp"
#include "store/sqlite/workflows.hpp"

namespace runq::sqlite {
namespace {

Result<TaskState> state_column(const Statement& row, int col) {
  std::optional<TaskState> state = parse_task_state(row.view(col));
  if (!state) return data_loss_error("unknown task state '" + row.str(col) + "' in the database");
  return *state;
}

// Reads the tasks row of `id` into `info`; false when there is none.
Result<bool> read_task_row(Connection& conn, std::string_view id, TaskInfo& info) {
  RUNQ_ASSIGN_OR_RETURN(Statement task, conn.statement(Sql::kGetTask));
  task.bind_text(1, id);
  RUNQ_ASSIGN_OR_RETURN(bool found, task.step());
  if (!found) return false;
  RUNQ_ASSIGN_OR_RETURN(info.state, state_column(task, 0));
  if (info.state == TaskState::kScheduled && task.int32(10) != 0) info.state = TaskState::kRetry;
  // A dead task has left its queue (the queue stays in the row for retry_dead).
  if (info.state != TaskState::kDead) info.queue = task.view(1);
  info.priority = task.int32(2);
  info.eta = task.int64(3);
  if (info.eta == ::runq::internal::kParkedEta) info.eta = 0;  // waits for a slot, not a time
  info.deliveries = task.int32(4);
  if (info.state == TaskState::kReserved) {
    info.worker_id = task.view(5);
    info.lease_expires = task.int64(6);
  }
  info.progress = task.real(7);
  info.dead_reason = task.view(8);
  info.body = task.view(9);
  return true;
}

Result<WorkerInfo> worker_row(const Statement& row) {
  WorkerInfo w;
  w.id = row.view(0);
  w.host = row.view(1);
  w.pid = row.int32(2);
  nlohmann::json queues = nlohmann::json::parse(row.view(3), nullptr, /*allow_exceptions=*/false);
  if (!queues.is_array()) return data_loss_error("worker " + w.id + ": malformed queue list");
  for (const auto& q : queues) {
    if (q.is_string()) w.queues.push_back(q.get<std::string>());
  }
  w.concurrency = row.int32(4);
  w.running = row.int32(5);
  w.processed = static_cast<std::uint64_t>(row.int64(6));
  w.failed = static_cast<std::uint64_t>(row.int64(7));
  w.started = row.int64(8);
  w.last_seen = row.int64(9);
  w.expires = row.int64(10);
  w.activity = row.view(11);
  return w;
}

Status read_queue_counts(Connection& conn, std::vector<QueueStats>& out) {
  std::map<std::string, QueueStats, std::less<>> by_queue;
  RUNQ_ASSIGN_OR_RETURN(Statement stmt, conn.statement(Sql::kQueueCounts));
  for (;;) {
    RUNQ_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    auto it = by_queue.find(stmt.view(1));
    if (it == by_queue.end()) it = by_queue.emplace(stmt.str(1), QueueStats{stmt.str(1)}).first;
    std::int64_t* counts[] = {&it->second.pending, &it->second.scheduled, &it->second.running,
                              &it->second.dead};
    *counts[std::clamp(stmt.int32(0), 0, 3)] = stmt.int64(2);
  }
  for (auto& [name, stats] : by_queue) out.push_back(std::move(stats));
  return ok_status();
}

Status read_counters(Connection& conn, StoreStats& stats) {
  RUNQ_ASSIGN_OR_RETURN(Statement stmt, conn.statement(Sql::kCounters));
  for (;;) {
    RUNQ_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) return ok_status();
    const std::string_view name = stmt.view(0);
    const auto value = static_cast<std::uint64_t>(stmt.int64(1));
    if (name == "completed") stats.completed = value;
    if (name == "failed") stats.failed = value;
    if (name == "duplicates") stats.duplicates = value;
  }
}

}  // namespace

Status insert_task(Connection& conn, const NewTask& t, Millis now, bool* added) {
  if (t.links.any()) {
    return insert_linked_task(conn, t, now);
  }
  {
    // An id that lives on only as an unexpired result record is taken too.
    RUNQ_ASSIGN_OR_RETURN(Statement result, conn.statement(Sql::kResultLive));
    result.bind_text(1, t.id).bind(2, now);
    RUNQ_ASSIGN_OR_RETURN(bool taken, result.step());
    if (taken) return ok_status();
  }
  RUNQ_ASSIGN_OR_RETURN(Statement stmt, conn.statement(Sql::kInsertTask));
  stmt.bind_text(1, t.id).bind_text(2, t.queue).bind(3, t.priority);
  stmt.bind_text(4, t.eta > now ? "scheduled" : "pending").bind(5, t.eta);
  stmt.bind(6, t.max_deliveries).bind_blob(7, t.body);
  RUNQ_RETURN_IF_ERROR(stmt.run());
  if (stmt.changes() != 1) return ok_status();  // the id is queued already
  if (!t.limits.empty()) {
    RUNQ_ASSIGN_OR_RETURN(Statement limits, conn.statement(Sql::kInsertLimits));
    limits.bind_text(1, t.id).bind_text(2, t.limits.rate_key).bind(3, t.limits.rate_count);
    limits.bind(4, t.limits.rate_period_ms).bind_text(5, t.limits.concurrency_key);
    limits.bind(6, t.limits.max_concurrency);
    RUNQ_RETURN_IF_ERROR(limits.run());
  }
  if (added != nullptr) *added = true;
  return run_change(conn, Sql::kInsertListing, t.id, now, t.queue, t.task).status();
}

Result<std::string> insert_unique_task(Connection& conn, const NewTask& t, Millis now) {
  if (t.unique.key.empty()) {
    RUNQ_RETURN_IF_ERROR(insert_task(conn, t, now));
    return std::string();
  }
  {
    RUNQ_ASSIGN_OR_RETURN(Statement holder, conn.statement(Sql::kUniqueHolder));
    holder.bind_text(1, t.unique.key);
    RUNQ_ASSIGN_OR_RETURN(bool row, holder.step());
    if (row && holder.view(0) != t.id && (holder.int64(1) == 0 || holder.int64(1) > now)) {
      return holder.str(0);
    }
  }
  bool added = false;
  RUNQ_RETURN_IF_ERROR(insert_task(conn, t, now, &added));
  if (!added) return std::string();  // the id is taken
  RUNQ_ASSIGN_OR_RETURN(Statement take, conn.statement(Sql::kUniqueTake));
  take.bind_text(1, t.unique.key).bind_text(2, t.id);
  take.bind(3, t.unique.for_ms > 0 ? now + t.unique.for_ms : Millis{0});
  take.bind(4, std::int64_t{t.unique.until_start ? 1 : 0});
  RUNQ_RETURN_IF_ERROR(take.run());
  return std::string();
}

namespace {

// The state get_task reports for a listing row: from its live row, else its unexpired result.
std::optional<TaskState> listed_state(Statement& row, Millis now) {
  if (!row.is_null(4)) {
    if (row.view(4) == "scheduled" && row.int32(5) != 0) return TaskState::kRetry;
    return parse_task_state(row.view(4));
  }
  if (!row.is_null(6) && row.int64(7) > now) return parse_task_state(row.view(6));
  return std::nullopt;
}

}  // namespace

Result<TaskPage> query_task_list(Connection& conn, const TaskFilter& filter,
                                 const ::runq::internal::ListCursor& cursor, std::size_t limit,
                                 Millis now) {
  const ::runq::internal::ListBound bound = ::runq::internal::list_upper_bound(filter, cursor);
  const std::size_t budget = list_tasks_budget(limit);
  Sql sql = !filter.task.empty()    ? Sql::kListTask
            : !filter.queue.empty() ? Sql::kListQueue
                                    : Sql::kListAll;
  RUNQ_ASSIGN_OR_RETURN(Statement row, conn.statement(sql));
  row.bind(1, filter.enqueued_from).bind(2, bound.enqueued).bind_text(3, bound.id);
  row.bind(4, static_cast<std::int64_t>(budget));
  if (sql == Sql::kListTask) row.bind_text(5, filter.task);
  if (sql == Sql::kListQueue) row.bind_text(5, filter.queue);
  ::runq::internal::PageBuilder page(filter, limit);
  for (;;) {
    RUNQ_ASSIGN_OR_RETURN(bool more, row.step());
    if (!more) return page.finish(true);
    std::optional<TaskState> state = listed_state(row, now);
    std::optional<TaskSummary> t;
    if (state) t = TaskSummary{row.str(0), row.str(2), row.str(3), *state, row.int64(1)};
    if (!page.add(row.int64(1), row.view(0), t)) return page.finish(false);
  }
}

Result<TaskInfo> query_task(Connection& conn, std::string_view id, Millis now) {
  TaskInfo info;
  info.id = id;
  RUNQ_ASSIGN_OR_RETURN(bool queued, read_task_row(conn, id, info));
  RUNQ_ASSIGN_OR_RETURN(Statement result, conn.statement(Sql::kGetResult));
  result.bind_text(1, id).bind(2, now);
  RUNQ_ASSIGN_OR_RETURN(bool has_result, result.step());
  if (!queued && !has_result) return not_found_error("no task with id '" + info.id + "'");
  if (!has_result) return info;
  info.result = result.view(1);
  if (!queued) {
    RUNQ_ASSIGN_OR_RETURN(info.state, state_column(result, 0));
    if (info.state == TaskState::kCanceled) {
      RUNQ_ASSIGN_OR_RETURN(info.dead_reason, canceled_reason(conn, id));
    }
  }
  return info;
}

Result<WorkCheck> query_work(Connection& conn, const std::vector<std::string>& queues) {
  WorkCheck check;
  auto take_min = [&check](const Statement& stmt) {
    if (stmt.is_null(0)) return;
    const Millis t = stmt.int64(0);
    check.next_change = check.next_change ? std::min(*check.next_change, t) : t;
  };
  for (const std::string& queue : queues) {
    RUNQ_ASSIGN_OR_RETURN(Statement pending, conn.statement(Sql::kHasPending));
    pending.bind_text(1, queue);
    RUNQ_ASSIGN_OR_RETURN(check.ready, pending.step());
    if (check.ready) return check;
    RUNQ_ASSIGN_OR_RETURN(Statement eta, conn.statement(Sql::kNextEta));
    eta.bind_text(1, queue);
    RUNQ_ASSIGN_OR_RETURN(bool row, eta.step());
    if (row) take_min(eta);
  }
  RUNQ_ASSIGN_OR_RETURN(Statement lapse, conn.statement(Sql::kNextLapse));
  RUNQ_ASSIGN_OR_RETURN(bool row, lapse.step());
  if (row) take_min(lapse);
  return check;
}

Result<StoreStats> query_stats(Connection& conn, Millis now) {
  StoreStats stats;
  RUNQ_RETURN_IF_ERROR(read_queue_counts(conn, stats.queues));
  RUNQ_RETURN_IF_ERROR(read_counters(conn, stats));
  RUNQ_ASSIGN_OR_RETURN(Statement stmt, conn.statement(Sql::kAliveWorkers));
  stmt.bind(1, now);
  for (;;) {
    RUNQ_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) return stats;
    RUNQ_ASSIGN_OR_RETURN(WorkerInfo w, worker_row(stmt));
    stats.workers.push_back(std::move(w));
  }
}

Result<std::vector<DeadTask>> query_dead(Connection& conn, std::size_t limit) {
  std::vector<DeadTask> dead;
  RUNQ_ASSIGN_OR_RETURN(Statement stmt, conn.statement(Sql::kListDead));
  const auto max = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  stmt.bind(1, static_cast<std::int64_t>(std::min(limit, max)));
  for (;;) {
    RUNQ_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) return dead;
    dead.push_back(DeadTask{stmt.str(0), stmt.str(1), stmt.str(2), stmt.int64(3), stmt.str(4)});
  }
}

Result<std::int64_t> requeue_dead(Connection& conn, std::span<const std::string> ids, Millis now) {
  if (ids.empty()) return run_change(conn, Sql::kRetryAllDead, now);
  std::int64_t requeued = 0;
  for (const std::string& id : ids) {
    RUNQ_ASSIGN_OR_RETURN(std::int64_t n, run_change(conn, Sql::kRetryDead, id, now));
    requeued += n;
  }
  return requeued;
}

Status put_worker(Connection& conn, const WorkerInfo& info) {
  const std::string queues = nlohmann::json(info.queues).dump();
  RUNQ_ASSIGN_OR_RETURN(Statement stmt, conn.statement(Sql::kPutWorker));
  stmt.bind_text(1, info.id).bind_text(2, info.host).bind(3, info.pid).bind_text(4, queues);
  stmt.bind(5, info.concurrency).bind(6, info.running);
  stmt.bind(7, static_cast<std::int64_t>(info.processed));
  stmt.bind(8, static_cast<std::int64_t>(info.failed));
  stmt.bind(9, info.started).bind(10, info.last_seen).bind(11, info.expires);
  RUNQ_RETURN_IF_ERROR(stmt.run());
  RUNQ_ASSIGN_OR_RETURN(Statement activity, conn.statement(Sql::kPutWorkerActivity));
  activity.bind_text(1, info.id).bind_text(2, info.activity);
  return activity.run();
}

Result<std::vector<ScheduleState>> query_schedules(Connection& conn) {
  std::vector<ScheduleState> out;
  RUNQ_ASSIGN_OR_RETURN(Statement stmt, conn.statement(Sql::kListSchedules));
  for (;;) {
    RUNQ_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) return out;
    out.push_back(ScheduleState{stmt.str(0), stmt.int64(1), stmt.int32(2) != 0, stmt.str(3)});
  }
}

Result<bool> exists(Connection& conn, Sql sql) {
  RUNQ_ASSIGN_OR_RETURN(Statement stmt, conn.statement(sql));
  return stmt.step();
}

}  // namespace runq::sqlite
