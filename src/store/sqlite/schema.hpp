// The sqlite store's schema and every SQL statement it runs, named so that each connection can
// prepare a statement once and reuse it (see Connection::statement).
//
// Layout (one row per live task; finished tasks leave only a result row):
//   tasks(seq rowid = FIFO order, id UNIQUE, queue, priority, state, eta, retry, token, deliveries,
//         max_deliveries, worker_id, lease_expires, progress, body, dead_reason, died_at)
//     state is a task_state_name(): 'pending', 'scheduled', 'reserved' or 'dead'; a scheduled
//     task with retry = 1 waits for another attempt (reported as RETRY). Partial indexes cover
//     each state's access path (queries name the state literally so that the planner uses
//     them): ready tasks by (queue, priority DESC, seq), scheduled by (queue, eta), leases by
//     lease_expires, dead letters by died_at.
//   results(id, state, record, expires_at): the result record of a task, and the final state
//     of a finished one (then with no tasks row), kept until expires_at.
//   listing(id, enqueued, queue, task): every task the store holds, in any state, for
//     list_tasks: indexed by (enqueued, id), (queue, enqueued, id) and (task, enqueued, id).
//     A row is added by enqueue and removed with the task's last row (cleanup, purges); its
//     state is read from tasks / results when listed. Older files gain the table empty.
//   revokes(id, terminate, record, ttl): revoke requests of reserved tasks.
//   queue_controls(queue, paused, max_length): flow controls of the queues that have one;
//     a row whose controls are all back to their defaults is deleted.
//   unique_keys(key, id, expires, until_start): the unique key each task holds (unique jobs),
//     expires = 0 for no time bound; deleted by id when the holder ends (or starts, with
//     until_start), and by cleanup once expired.
//   task_limits(id, rate_key, rate_count, rate_period, conc_key, conc_max, parked),
//   concurrency_slots(key, held), rate_buckets(key, ...): rate limits and per-key
//     concurrency (flow control).
//   counters(name, value)
//   workers(id, ..., expires)                schedules(name, last_tick, paused, info)
//
// Versions: 1 = the tables above without `revokes` and `listing`; 2 adds `revokes`; 3 adds
// `listing`; 5 adds `queue_controls`; 7 the workflow tables; 8 adds `unique_keys`; 9 adds
// `task_limits`, `concurrency_slots` and `rate_buckets`. Every statement of kCreateSchema is
// idempotent, so running it on an older file is the migration.
#pragma once

#include <cstddef>

namespace runq::sqlite {

inline constexpr int kSchemaVersion = 9;

// Creates every table and index if missing and sets user_version. Runs inside a write
// transaction opened by the caller. Also upgrades a file of an older version.
extern const char* const kCreateSchema;

enum class Sql {
  kBeginImmediate,
  kBeginRead,
  kCommit,
  kRollback,
  kUserVersion,
  kJournalMode,
  // producers
  kInsertTask,
  kResultLive,
  kInsertListing,
  // unique jobs
  kUniqueAny,
  kUniqueHolder,
  kUniqueTake,
  kUniqueRelease,
  kUniqueReleaseStarted,
  kUniqueReleaseLapsedDead,
  kUniqueReleaseQueued,
  kUniqueCleanLapsed,
  // workers
  kPromoteDue,
  kDeadLapsed,
  kRequeueLapsed,
  kSelectReady,
  kMarkReserved,
  kGetCounter,
  kAddCounter,
  kExtend,
  kAckTask,
  kRetryTask,
  kDeadLetterTask,
  kReleaseTask,
  kPutResult,
  kFinishTask,
  kResultExists,
  kSetProgress,
  kTaskState,
  kPutWorker,
  kDeleteWorker,
  kPutWorkerActivity,
  kDeleteWorkerActivity,
  kCleanWorkerActivity,
  kHasPending,
  kNextEta,
  kNextLapse,
  // inspection and admin
  kGetTask,
  kGetResult,
  kQueueCounts,
  kAliveWorkers,
  kCounters,
  kListDead,
  kListAll,
  kListQueue,
  kListTask,
  kUnlistExpired,
  kUnlistDead,
  kUnlistQueued,
  kDeleteDeadResults,
  kDeleteQueuedResults,
  kRetryAllDead,
  kRetryDead,
  kPurgeDead,
  kPurgePending,
  kPurgeScheduled,
  kCleanResults,
  kCleanDead,
  kCleanWorkers,
  // revoke
  kAnyRevoke,
  kPutRevoke,
  kGetRevoke,
  kDeleteRevoke,
  kLapsedRevoked,
  kDeleteTask,
  kResultState,
  // periodic schedules
  kEnsureSchedule,
  kGetSchedule,
  kSetLastTick,
  kListSchedules,
  kPutScheduleInfo,
  kSetPaused,
  // flow control: queue pause and limits
  kSetQueuePaused,
  kSetQueueLimit,
  kDropQueueControl,
  kListQueueControls,
  kLimitedQueues,
  kQueuedLength,
  // flow control: rate limits and per-key concurrency
  kInsertLimits,
  kGetRateBucket,
  kPutRateBucket,
  kListRateBuckets,
  kSlotsHeld,
  kTakeSlot,
  kMoveAside,
  kParkLimits,
  kAnyLimits,
  kTaskConcurrency,
  kLapsedLimited,
  kFreeSlot,
  kFirstParked,
  kUnparkTask,
  kDeleteLimits,
  kCleanLimits,
  kDropQueuedLimits,
  // workflows (store/sqlite/workflows.cpp)
  kAnyDependents,
  kDependentsOf,
  kDeleteDependentsOf,
  kPutDependency,
  kPutWait,
  kGetWait,
  kCountDownWait,
  kDeleteWait,
  kReleaseWaiting,
  kPutCanceled,
  kGetCanceled,
  kCleanCanceled,
  kDeadLapsedWithDependents,
  kCount_,
};

inline constexpr std::size_t kSqlCount = static_cast<std::size_t>(Sql::kCount_);

// The SQL text of `sql`.
const char* sql_text(Sql sql);

}  // namespace runq::sqlite
