// Row-level operations of the sqlite store. Each runs inside a transaction the caller opened on
// `conn` (see SqliteStore::transact), so several of them compose into one atomic call.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runq/status.hpp"
#include "runq/store.hpp"
#include "store/sqlite/connection.hpp"
#include "store/task_list.hpp"

namespace runq::sqlite {

// Inserts `task` unless its id is taken by a task or an unexpired result (then does nothing).
// Sets *added (when given) to true when it inserted. REQUIRES: `task` passed validation.
Status insert_task(Connection& conn, const NewTask& task, Millis now, bool* added = nullptr);

// insert_task for a task that may have a unique key: returns the id of the task holding the
// key when `task` was not added for it, else "" (added, or its id is taken), and takes the key
// for `task` when it was added.
Result<std::string> insert_unique_task(Connection& conn, const NewTask& task, Millis now);

// Everything known about `id`; results with expires_at <= now are ignored. NotFound if none.
Result<TaskInfo> query_task(Connection& conn, std::string_view id, Millis now);

// What wait_for_work learns from one look at the database.
struct WorkCheck {
  bool ready = false;                 // a pending task waits in one of the queues
  std::optional<Millis> next_change;  // earliest eta in the queues, or lease end anywhere
};
Result<WorkCheck> query_work(Connection& conn, const std::vector<std::string>& queues);

// One page of list_tasks (see Store::list_tasks and store/task_list.hpp).
Result<TaskPage> query_task_list(Connection& conn, const TaskFilter& filter,
                                 const ::runq::internal::ListCursor& cursor, std::size_t limit,
                                 Millis now);

Result<StoreStats> query_stats(Connection& conn, Millis now);
Result<std::vector<DeadTask>> query_dead(Connection& conn, std::size_t limit);
// Requeues dead tasks (all when `ids` is empty). Their result records stay.
Result<std::int64_t> requeue_dead(Connection& conn, std::span<const std::string> ids, Millis now);
Status put_worker(Connection& conn, const WorkerInfo& info);
Result<std::vector<ScheduleState>> query_schedules(Connection& conn);
// Whether `sql` (a statement without parameters) returns a row.
Result<bool> exists(Connection& conn, Sql sql);

}  // namespace runq::sqlite
