#include "store/sqlite/schema.hpp"

#include "store/sqlite/workflows.hpp"

namespace runq::sqlite {

// The partial indexes hold only the rows of one state, so a task costs index writes only for
// the state it is in, and each query below names the state literally so that the planner can
// use them. The ready index ends with the implicit rowid (seq), which gives FIFO order within a
// priority without a sort.
const char* const kCreateSchema = R"sql(
CREATE TABLE IF NOT EXISTS tasks (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  queue TEXT NOT NULL,
  priority INTEGER NOT NULL,
  state TEXT NOT NULL,
  eta INTEGER NOT NULL,
  retry INTEGER NOT NULL DEFAULT 0,
  token INTEGER NOT NULL DEFAULT 0,
  deliveries INTEGER NOT NULL DEFAULT 0,
  max_deliveries INTEGER NOT NULL,
  worker_id TEXT NOT NULL DEFAULT '',
  lease_expires INTEGER NOT NULL DEFAULT 0,
  progress REAL NOT NULL DEFAULT 0,
  body BLOB NOT NULL,
  dead_reason TEXT NOT NULL DEFAULT '',
  died_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS tasks_ready ON tasks(queue, priority DESC) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS tasks_scheduled ON tasks(queue, eta) WHERE state = 'scheduled';
CREATE INDEX IF NOT EXISTS tasks_leased ON tasks(lease_expires) WHERE state = 'reserved';
CREATE INDEX IF NOT EXISTS tasks_dead ON tasks(died_at) WHERE state = 'dead';
CREATE TABLE IF NOT EXISTS results (
  id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  record BLOB NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS results_expiry ON results(expires_at);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO counters(name, value)
  VALUES ('completed', 0), ('failed', 0), ('duplicates', 0), ('token', 0);
CREATE TABLE IF NOT EXISTS workers (
  id TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  queues TEXT NOT NULL,
  concurrency INTEGER NOT NULL,
  running INTEGER NOT NULL,
  processed INTEGER NOT NULL,
  failed INTEGER NOT NULL,
  started INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  expires INTEGER NOT NULL
) WITHOUT ROWID;
-- WorkerInfo::activity, one row per worker row (a table of its own: no column is added to
-- workers, so no schema version step is needed).
CREATE TABLE IF NOT EXISTS worker_activity (
  id TEXT PRIMARY KEY,
  activity TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS schedules (
  name TEXT PRIMARY KEY,
  last_tick INTEGER NOT NULL,
  paused INTEGER NOT NULL,
  info TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS listing (
  id TEXT PRIMARY KEY,
  enqueued INTEGER NOT NULL,
  queue TEXT NOT NULL,
  task TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS listing_time ON listing(enqueued, id);
CREATE INDEX IF NOT EXISTS listing_queue ON listing(queue, enqueued, id);
CREATE INDEX IF NOT EXISTS listing_task ON listing(task, enqueued, id);
CREATE TABLE IF NOT EXISTS revokes (
  id TEXT PRIMARY KEY,
  terminate INTEGER NOT NULL,
  record BLOB NOT NULL,
  ttl INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS queue_controls (
  queue TEXT PRIMARY KEY,
  paused INTEGER NOT NULL DEFAULT 0,
  max_length INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
-- workflows: dependency edges, the counters of WAITING tasks, why tasks were CANCELED
CREATE TABLE IF NOT EXISTS deps (
  dep TEXT NOT NULL,
  waiter TEXT NOT NULL,
  PRIMARY KEY (dep, waiter)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS waits (
  id TEXT PRIMARY KEY,
  remaining INTEGER NOT NULL,
  allow_failure INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS canceled (id TEXT PRIMARY KEY, reason TEXT NOT NULL) WITHOUT ROWID;
-- Unique jobs (NewTask::unique; version 8): the key each task holds.
CREATE TABLE IF NOT EXISTS unique_keys (
  key TEXT PRIMARY KEY,
  id TEXT NOT NULL,
  expires INTEGER NOT NULL,
  until_start INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS unique_keys_id ON unique_keys(id);
-- Flow control: rate limits and per-key concurrency (NewTask::limits; version 9). A task with
-- limits has a task_limits row (tasks without limits have none, and pay one probe of this
-- table on reserve). `parked` is the task's seq while it waits for a concurrency slot
-- (SCHEDULED with the parked eta), else 0. concurrency_slots counts the RESERVED tasks of a
-- key: reserve takes a slot, and every way out of RESERVED (settle, lapsed lease) frees it and
-- brings back the longest-parked task of the key (sqlite_store.cpp, free_slot). No triggers:
-- they would cost every task a copy of its row on each change of state.
CREATE TABLE IF NOT EXISTS task_limits (
  id TEXT PRIMARY KEY,
  rate_key TEXT NOT NULL,
  rate_count INTEGER NOT NULL,
  rate_period INTEGER NOT NULL,
  conc_key TEXT NOT NULL,
  conc_max INTEGER NOT NULL,
  parked INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS task_limits_parked ON task_limits(conc_key, parked) WHERE parked > 0;
CREATE TABLE IF NOT EXISTS concurrency_slots (
  key TEXT PRIMARY KEY,
  held INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rate_buckets (
  key TEXT PRIMARY KEY,
  count INTEGER NOT NULL,
  period INTEGER NOT NULL,
  tat_us INTEGER NOT NULL,
  park_next_us INTEGER NOT NULL,
  window_start INTEGER NOT NULL,
  window_n INTEGER NOT NULL,
  previous_n INTEGER NOT NULL
) WITHOUT ROWID;
PRAGMA user_version = 9;
)sql";

namespace {

// Statements reading or changing one task by its lease: the caller must be the current holder.
#define RUNQ_HOLDER "WHERE id = ?1 AND state = 'reserved' AND token = ?2"

const char* worker_sql(Sql sql) {
  switch (sql) {
    case Sql::kPromoteDue:
      return "UPDATE tasks SET state = 'pending' "
             "WHERE queue = ?1 AND state = 'scheduled' AND eta <= ?2";
    case Sql::kDeadLapsed:
      return "UPDATE tasks SET state = 'dead', died_at = ?1, dead_reason = 'lease lapsed ' || "
             "deliveries || ' times; last worker ' || worker_id || ' stopped heartbeating' "
             "WHERE state = 'reserved' AND lease_expires <= ?1 AND deliveries >= max_deliveries";
    case Sql::kRequeueLapsed:
      return "UPDATE tasks SET state = 'pending' WHERE state = 'reserved' AND lease_expires <= ?1";
    case Sql::kSelectReady:
      // A paused queue hands out nothing (flow control): one primary-key probe per queue. The
      // task's limits, if any, come along (one primary-key probe per task).
      return "SELECT t.seq, t.id, t.body, t.deliveries, l.rate_key, l.rate_count, "
             "l.rate_period, l.conc_key, l.conc_max FROM tasks t "
             "LEFT JOIN task_limits l ON l.id = t.id WHERE t.queue = ?1 AND t.state = 'pending' "
             "AND NOT EXISTS (SELECT 1 FROM queue_controls WHERE queue = ?1 AND paused = 1) "
             "ORDER BY t.priority DESC, t.seq LIMIT ?2";
    case Sql::kMarkReserved:
      return "UPDATE tasks SET state = 'reserved', token = ?2, deliveries = deliveries + 1, "
             "worker_id = ?3, lease_expires = ?4, progress = 0 WHERE seq = ?1";
    case Sql::kGetCounter:
      return "SELECT value FROM counters WHERE name = ?1";
    case Sql::kAddCounter:
      return "UPDATE counters SET value = value + ?2 WHERE name = ?1";
    case Sql::kExtend:
      return "UPDATE tasks SET lease_expires = ?3 " RUNQ_HOLDER;
    case Sql::kAckTask:
      return "DELETE FROM tasks " RUNQ_HOLDER;
    case Sql::kRetryTask:
      return "UPDATE tasks SET state = 'scheduled', retry = 1, eta = ?3, "
             "body = coalesce(?4, body), deliveries = 0, progress = 0 " RUNQ_HOLDER;
    case Sql::kDeadLetterTask:
      return "UPDATE tasks SET state = 'dead', dead_reason = ?3, died_at = ?4 " RUNQ_HOLDER;
    case Sql::kReleaseTask:
      return "UPDATE tasks SET state = 'pending', deliveries = max(deliveries - 1, 0), "
             "progress = 0 " RUNQ_HOLDER;
    case Sql::kPutResult:
      return "INSERT INTO results(id, state, record, expires_at) VALUES (?1, ?2, ?3, ?4) "
             "ON CONFLICT(id) DO UPDATE SET state = excluded.state, record = excluded.record, "
             "expires_at = excluded.expires_at";
    case Sql::kFinishTask:
      // An ack without a result keeps an earlier attempt's record, as the reference model does.
      return "INSERT INTO results(id, state, record, expires_at) VALUES (?1, ?2, '', ?3) "
             "ON CONFLICT(id) DO UPDATE SET state = excluded.state, "
             "expires_at = excluded.expires_at";
    case Sql::kResultExists:
      return "SELECT 1 FROM results WHERE id = ?1";
    case Sql::kSetProgress:
      return "UPDATE tasks SET progress = ?3 " RUNQ_HOLDER;
    case Sql::kTaskState:
      return "SELECT state FROM tasks WHERE id = ?1";
    case Sql::kPutWorker:
      return "INSERT OR REPLACE INTO workers(id, host, pid, queues, concurrency, running, "
             "processed, failed, started, last_seen, expires) "
             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
    case Sql::kDeleteWorker:
      return "DELETE FROM workers WHERE id = ?1";
    case Sql::kPutWorkerActivity:
      return "INSERT OR REPLACE INTO worker_activity(id, activity) VALUES (?1, ?2)";
    case Sql::kDeleteWorkerActivity:
      return "DELETE FROM worker_activity WHERE id = ?1";
    case Sql::kHasPending:
      return "SELECT 1 FROM tasks WHERE queue = ?1 AND state = 'pending' "
             "AND NOT EXISTS (SELECT 1 FROM queue_controls WHERE queue = ?1 AND paused = 1) "
             "LIMIT 1";
    case Sql::kNextEta:
      return "SELECT min(eta) FROM tasks WHERE queue = ?1 AND state = 'scheduled'";
    case Sql::kNextLapse:
      return "SELECT min(lease_expires) FROM tasks WHERE state = 'reserved'";
    default:
      return nullptr;
  }
}

// list_tasks walks one listing index backwards from (?2, ?3), at most ?4 rows, and reads each
// row's state from tasks (live) or results (finished).
#define RUNQ_LIST(cond)                                                                 \
  "SELECT l.id, l.enqueued, l.queue, l.task, t.state, t.retry, r.state, r.expires_at "  \
  "FROM listing l LEFT JOIN tasks t ON t.id = l.id LEFT JOIN results r ON r.id = l.id " \
  "WHERE " cond                                                                         \
  " AND l.enqueued >= ?1 AND (l.enqueued, l.id) < (?2, ?3) "                            \
  "ORDER BY l.enqueued DESC, l.id DESC LIMIT ?4"

// Unique jobs: a task's key is deleted by its id when the task ends (or starts).
const char* unique_sql(Sql sql) {
  switch (sql) {
    case Sql::kUniqueAny:
      return "SELECT 1 FROM unique_keys LIMIT 1";
    case Sql::kUniqueHolder:
      return "SELECT id, expires FROM unique_keys WHERE key = ?1";
    case Sql::kUniqueTake:
      return "INSERT OR REPLACE INTO unique_keys(key, id, expires, until_start) "
             "VALUES (?1, ?2, ?3, ?4)";
    case Sql::kUniqueRelease:
      return "DELETE FROM unique_keys WHERE id = ?1";
    case Sql::kUniqueReleaseStarted:
      return "DELETE FROM unique_keys WHERE id = ?1 AND until_start = 1";
    case Sql::kUniqueReleaseLapsedDead:
      return "DELETE FROM unique_keys WHERE id IN (SELECT id FROM tasks WHERE state = 'reserved' "
             "AND lease_expires <= ?1 AND deliveries >= max_deliveries)";
    case Sql::kUniqueReleaseQueued:
      return "DELETE FROM unique_keys WHERE id IN (SELECT id FROM tasks WHERE queue = ?1 "
             "AND state IN ('pending', 'scheduled'))";
    case Sql::kUniqueCleanLapsed:
      return "DELETE FROM unique_keys WHERE expires > 0 AND expires <= ?1";
    default:
      return nullptr;
  }
}

const char* list_sql(Sql sql) {
  switch (sql) {
    case Sql::kInsertListing:
      return "INSERT OR REPLACE INTO listing(id, enqueued, queue, task) VALUES (?1, ?2, ?3, ?4)";
    case Sql::kListAll:
      return RUNQ_LIST("1");
    case Sql::kListQueue:
      return RUNQ_LIST("l.queue = ?5");
    case Sql::kListTask:
      return RUNQ_LIST("l.task = ?5");
    case Sql::kUnlistExpired:
      // A result that expires while its task is queued again (a retry's record) leaves the
      // task listed.
      return "DELETE FROM listing WHERE id IN (SELECT id FROM results WHERE expires_at <= ?1) "
             "AND id NOT IN (SELECT id FROM tasks)";
    case Sql::kUnlistDead:
      return "DELETE FROM listing WHERE id IN (SELECT id FROM tasks WHERE state = 'dead' "
             "AND died_at <= ?1)";
    case Sql::kUnlistQueued:
      return "DELETE FROM listing WHERE id IN (SELECT id FROM tasks WHERE queue = ?1 AND "
             "state = 'pending' UNION ALL SELECT id FROM tasks WHERE queue = ?1 AND "
             "state = 'scheduled')";
    default:
      return nullptr;
  }
}

#undef RUNQ_LIST

const char* admin_sql(Sql sql) {
  switch (sql) {
    case Sql::kGetTask:
      return "SELECT state, queue, priority, eta, deliveries, worker_id, lease_expires, "
             "progress, dead_reason, body, retry FROM tasks WHERE id = ?1";
    case Sql::kGetResult:
      return "SELECT state, record FROM results WHERE id = ?1 AND expires_at > ?2";
    case Sql::kQueueCounts:
      return "SELECT 0, queue, count(*) FROM tasks WHERE state = 'pending' GROUP BY queue "
             "UNION ALL SELECT 1, queue, count(*) FROM tasks WHERE state = 'scheduled' "
             "GROUP BY queue UNION ALL SELECT 2, queue, count(*) FROM tasks WHERE state = "
             "'reserved' "
             "GROUP BY queue UNION ALL SELECT 3, queue, count(*) FROM tasks WHERE state = 'dead' "
             "GROUP BY queue";
    case Sql::kAliveWorkers:
      return "SELECT w.id, host, pid, queues, concurrency, running, processed, failed, started, "
             "last_seen, expires, coalesce(a.activity, '') FROM workers w "
             "LEFT JOIN worker_activity a ON a.id = w.id WHERE expires > ?1 ORDER BY w.id";
    case Sql::kCounters:
      return "SELECT name, value FROM counters";
    case Sql::kListDead:
      return "SELECT id, queue, dead_reason, died_at, body FROM tasks WHERE state = 'dead' "
             "ORDER BY died_at, seq LIMIT ?1";
    case Sql::kDeleteDeadResults:
      return "DELETE FROM results WHERE id IN (SELECT id FROM tasks WHERE state = 'dead' "
             "AND died_at <= ?1)";
    case Sql::kDeleteQueuedResults:
      return "DELETE FROM results WHERE id IN (SELECT id FROM tasks WHERE queue = ?1 AND "
             "state = 'pending' UNION ALL SELECT id FROM tasks WHERE queue = ?1 AND "
             "state = 'scheduled')";
    case Sql::kRetryAllDead:
      return "UPDATE tasks SET state = 'pending', deliveries = 0, dead_reason = '', died_at = 0, "
             "eta = ?1, progress = 0 WHERE state = 'dead'";
    case Sql::kRetryDead:
      return "UPDATE tasks SET state = 'pending', deliveries = 0, dead_reason = '', died_at = 0, "
             "eta = ?2, progress = 0 WHERE id = ?1 AND state = 'dead'";
    case Sql::kPurgeDead:
      return "DELETE FROM tasks WHERE state = 'dead'";
    case Sql::kPurgePending:
      return "DELETE FROM tasks WHERE queue = ?1 AND state = 'pending'";
    case Sql::kPurgeScheduled:
      return "DELETE FROM tasks WHERE queue = ?1 AND state = 'scheduled'";
    case Sql::kCleanResults:
      return "DELETE FROM results WHERE expires_at <= ?1";
    case Sql::kCleanDead:
      return "DELETE FROM tasks WHERE state = 'dead' AND died_at <= ?1";
    case Sql::kCleanWorkers:
      return "DELETE FROM workers WHERE expires <= ?1";
    case Sql::kCleanWorkerActivity:
      return "DELETE FROM worker_activity WHERE id NOT IN (SELECT id FROM workers)";
    case Sql::kAnyRevoke:
      return "SELECT 1 FROM revokes LIMIT 1";
    case Sql::kPutRevoke:
      return "INSERT INTO revokes(id, terminate, record, ttl) VALUES (?1, ?2, ?3, ?4) "
             "ON CONFLICT(id) DO UPDATE SET terminate = max(terminate, excluded.terminate), "
             "record = excluded.record, ttl = excluded.ttl";
    case Sql::kGetRevoke:
      return "SELECT terminate FROM revokes WHERE id = ?1";
    case Sql::kDeleteRevoke:
      return "DELETE FROM revokes WHERE id = ?1";
    case Sql::kLapsedRevoked:
      return "SELECT t.id, r.record, r.ttl FROM tasks t JOIN revokes r ON r.id = t.id "
             "WHERE t.state = 'reserved' AND t.lease_expires <= ?1";
    case Sql::kDeleteTask:
      return "DELETE FROM tasks WHERE id = ?1";
    case Sql::kResultState:
      return "SELECT state FROM results WHERE id = ?1 AND expires_at > ?2";
    case Sql::kEnsureSchedule:
      return "INSERT OR IGNORE INTO schedules(name, last_tick, paused, info) "
             "VALUES (?1, 0, 0, '')";
    case Sql::kGetSchedule:
      return "SELECT last_tick, paused FROM schedules WHERE name = ?1";
    case Sql::kSetLastTick:
      return "UPDATE schedules SET last_tick = ?2 WHERE name = ?1";
    case Sql::kListSchedules:
      return "SELECT name, last_tick, paused, info FROM schedules ORDER BY name";
    case Sql::kPutScheduleInfo:
      return "INSERT INTO schedules(name, last_tick, paused, info) VALUES (?1, 0, 0, ?2) "
             "ON CONFLICT(name) DO UPDATE SET info = excluded.info";
    case Sql::kSetPaused:
      return "UPDATE schedules SET paused = ?2 WHERE name = ?1";
    default:
      return nullptr;
  }
}

#undef RUNQ_HOLDER

// Flow control: queue pause and length limits.
const char* flow_sql(Sql sql) {
  switch (sql) {
    case Sql::kSetQueuePaused:
      return "INSERT INTO queue_controls(queue, paused) VALUES (?1, ?2) "
             "ON CONFLICT(queue) DO UPDATE SET paused = excluded.paused";
    case Sql::kSetQueueLimit:
      return "INSERT INTO queue_controls(queue, max_length) VALUES (?1, ?2) "
             "ON CONFLICT(queue) DO UPDATE SET max_length = excluded.max_length";
    case Sql::kDropQueueControl:
      return "DELETE FROM queue_controls WHERE queue = ?1 AND paused = 0 AND max_length = 0";
    case Sql::kListQueueControls:
      return "SELECT queue, paused, max_length FROM queue_controls ORDER BY queue";
    case Sql::kLimitedQueues:
      return "SELECT queue, max_length FROM queue_controls WHERE max_length > 0";
    case Sql::kQueuedLength:
      // Counts at most ?2 rows of each state: enough to tell whether the queue has room.
      return "SELECT (SELECT count(*) FROM (SELECT 1 FROM tasks WHERE queue = ?1 AND "
             "state = 'pending' LIMIT ?2)) + (SELECT count(*) FROM (SELECT 1 FROM tasks "
             "WHERE queue = ?1 AND state = 'scheduled' LIMIT ?2))";
    default:
      return nullptr;
  }
}

// Flow control: rate limits and per-key concurrency (TaskLimits).
const char* limits_sql(Sql sql) {
  switch (sql) {
    case Sql::kInsertLimits:
      return "INSERT OR REPLACE INTO task_limits(id, rate_key, rate_count, rate_period, "
             "conc_key, conc_max, parked) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)";
    case Sql::kGetRateBucket:
      return "SELECT tat_us, park_next_us, window_start, window_n, previous_n FROM rate_buckets "
             "WHERE key = ?1";
    case Sql::kPutRateBucket:
      return "INSERT OR REPLACE INTO rate_buckets(key, count, period, tat_us, park_next_us, "
             "window_start, window_n, previous_n) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
    case Sql::kListRateBuckets:
      return "SELECT key, count, period, tat_us, park_next_us, window_start, window_n, "
             "previous_n FROM rate_buckets ORDER BY key";
    case Sql::kSlotsHeld:
      return "SELECT held FROM concurrency_slots WHERE key = ?1";
    case Sql::kTakeSlot:
      return "INSERT INTO concurrency_slots(key, held) VALUES (?1, 1) "
             "ON CONFLICT(key) DO UPDATE SET held = held + 1";
    case Sql::kMoveAside:
      return "UPDATE tasks SET state = 'scheduled', eta = ?2 WHERE seq = ?1";
    case Sql::kParkLimits:
      return "UPDATE task_limits SET parked = ?2 WHERE id = ?1";
    case Sql::kAnyLimits:
      return "SELECT 1 FROM task_limits LIMIT 1";
    case Sql::kTaskConcurrency:
      return "SELECT conc_key, conc_max FROM task_limits WHERE id = ?1 AND conc_key <> ''";
    case Sql::kLapsedLimited:
      return "SELECT l.conc_key, l.conc_max FROM tasks t JOIN task_limits l ON l.id = t.id "
             "WHERE t.state = 'reserved' AND t.lease_expires <= ?1 AND l.conc_key <> ''";
    case Sql::kFreeSlot:
      return "UPDATE concurrency_slots SET held = held - 1 WHERE key = ?1 AND held > 0";
    case Sql::kFirstParked:
      return "SELECT id, parked FROM task_limits WHERE conc_key = ?1 AND parked > 0 "
             "ORDER BY parked LIMIT 1";
    case Sql::kUnparkTask:
      return "UPDATE tasks SET state = 'pending', eta = 0 WHERE seq = ?1 AND "
             "state = 'scheduled' AND eta = ?2";
    case Sql::kDeleteLimits:
      return "DELETE FROM task_limits WHERE id = ?1";
    case Sql::kCleanLimits:
      return "DELETE FROM task_limits WHERE id NOT IN (SELECT id FROM tasks)";
    case Sql::kDropQueuedLimits:
      return "DELETE FROM task_limits WHERE id IN (SELECT id FROM tasks WHERE queue = ?1 AND "
             "state = 'pending' UNION ALL SELECT id FROM tasks WHERE queue = ?1 AND "
             "state = 'scheduled')";
    default:
      return nullptr;
  }
}

}  // namespace

const char* sql_text(Sql sql) {
  switch (sql) {
    case Sql::kBeginImmediate:
      return "BEGIN IMMEDIATE";
    case Sql::kBeginRead:
      return "BEGIN";
    case Sql::kCommit:
      return "COMMIT";
    case Sql::kRollback:
      return "ROLLBACK";
    case Sql::kUserVersion:
      return "PRAGMA user_version";
    case Sql::kJournalMode:
      return "PRAGMA journal_mode";
    case Sql::kInsertTask:
      // A plain VALUES insert: INSERT ... SELECT ... WHERE NOT EXISTS (results) runs at two
      // thirds of the speed, so the result check is the separate kResultLive.
      return "INSERT INTO tasks(id, queue, priority, state, eta, max_deliveries, body) "
             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(id) DO NOTHING";
    case Sql::kResultLive:
      return "SELECT 1 FROM results WHERE id = ?1 AND expires_at > ?2";
    default:
      break;
  }
  if (const char* text = worker_sql(sql)) return text;
  if (const char* text = list_sql(sql)) return text;
  if (const char* text = unique_sql(sql)) return text;
  if (const char* text = flow_sql(sql)) return text;
  if (const char* text = limits_sql(sql)) return text;
  if (const char* text = workflow_sql(sql)) return text;
  return admin_sql(sql);
}

}  // namespace runq::sqlite
