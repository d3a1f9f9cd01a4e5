// runq/store.hpp — the one interface every storage backend implements.
//
// A Store holds queued tasks, their leases, results, dead letters, worker heartbeats and
// periodic-schedule state. Producers, workers, schedulers and admin tools all talk to it only
// through this interface; `sqlite:`, `redis://` and `memory:` are its implementations (see
// `open_store()`), and `tests/conformance/` checks that each keeps every promise below.
//
// Delivery guarantee: AT LEAST ONCE, by fenced leases. `reserve` hands a task out with a lease
// that lapses at `lease_expires` and a `token` that is larger than every token handed out
// before for the same task. Only the current holder (same id and token, lease not yet taken
// over by another delivery) may `extend`, `settle` or `set_progress`; a stale holder is refused
// and nothing it sent is written. A task whose lease lapsed goes back to its queue on the next
// `reserve` by anyone, with `deliveries + 1`; when `deliveries` reached `max_deliveries` it is
// dead-lettered with a reason instead. A task accepted by `enqueue` is never dropped: it ends
// settled, dead-lettered, or purged by an explicit admin call.
//
// Task bodies and result records are opaque strings to a store (runq's codec writes JSON); a
// store indexes only the fields given next to them (queue, priority, eta...).
//
// Time: every state change that depends on time (due etas, lapsed leases, expired results,
// heartbeats) is decided by the `now` (ms since the Unix epoch) the caller passes, never by a
// clock the store reads. The calls without a `now` (wait_for_work, wait_task) do read clocks:
// a steady clock to bound the wait, and the system clock, corrected by the latest `now` seen,
// to estimate when a scheduled task or a lease comes due. Ordering within a queue: higher
// `priority` first, then earlier enqueue (FIFO). A worker passes its queues in order of preference:
// a task in an earlier queue is handed out before any task of a later one.
//
// Thread safety: every method may be called concurrently from any number of threads and
// processes; each call is atomic (all-or-nothing) with respect to every other call.
// Errors: each method lists the codes it returns. The argument rules (`InvalidArgument`,
// `TooLarge`) are the same on every backend: they are checked once, before the call
// reaches the backend, and a refused call changes nothing. `Unavailable` means a transient
// fault (database busy, connection lost) after which nothing was changed, and the call may be
// retried. Every call may also return `Internal` on an unexpected backend reply.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runq/clock.hpp"
#include "runq/status.hpp"

namespace runq {

// The lifecycle of a task (VISION §4). Stored as the fixed lowercase names of
// `task_state_name` ("pending", "scheduled", ...), never as integers.
enum class TaskState {
  kPending,    // in its queue, ready to run
  kScheduled,  // waiting for its eta (countdown, eta, or a retry's next run)
  kReserved,   // handed to a worker under a lease (running or about to run)
  kStarted,    // the task body is running (reported in result records; stores report kReserved)
  kSuccess,    // finished; the result holds the value
  kFailure,    // finished with an error and no retries left
  kRetry,      // failed and waits (as kScheduled) for another attempt
  kRevoked,    // cancelled before or while running
  kExpired,    // its `expires` passed before it started; it never ran
  kDead,       // in the dead-letter list, with a reason
  kWaiting,    // waits for its dependencies (WorkflowLinks::depends_on) before it is queued
  kCanceled,   // final: will never run because a dependency (or a chain step) failed
};

// "pending", "scheduled", "reserved", "started", "success", "failure", "retry", "revoked",
// "expired", "dead", "waiting", "canceled".
std::string_view task_state_name(TaskState state);
// Parses a name produced by task_state_name (case-insensitive). nullopt for anything else.
std::optional<TaskState> parse_task_state(std::string_view name);
// True for SUCCESS, FAILURE, REVOKED, EXPIRED, DEAD and CANCELED: no further transition will happen
// unless an admin requeues the task.
bool is_final(TaskState state);

// Task priorities: 0 (lowest, the default) to 9 (highest). Higher runs first within a queue.
inline constexpr int kMinPriority = 0;
inline constexpr int kMaxPriority = 9;
inline constexpr int kDefaultPriority = 0;
inline constexpr std::string_view kDefaultQueue = "default";

// ---- flow control: rate limits and per-key concurrency (NewTask::limits) -----------------

// Longest rate or concurrency key a store accepts (InvalidArgument above it).
inline constexpr std::size_t kMaxLimitKeyBytes = 512;

// What a store enforces on `reserve` for one task, carried with the task. A task whose keys
// are both empty has no limits and costs nothing extra on reserve.
struct TaskLimits {
  // Global rate limit: the tasks sharing `rate_key` are handed out at most `rate_count` times
  // per `rate_period_ms`, counted by every worker together (GCRA in the store; see
  // docs/flow-control.md). A task whose bucket is empty is not handed out: reserve moves it
  // aside (SCHEDULED until the bucket allows it) and hands out the tasks behind it.
  std::string rate_key;
  std::int64_t rate_count = 0;  // >= 1 when rate_key is set
  Millis rate_period_ms = 0;    // >= 1 when rate_key is set
  // Per-key concurrency: at most `max_concurrency` tasks sharing `concurrency_key` are
  // RESERVED at once. The others wait in the store (SCHEDULED, parked) and go back to their
  // queue when a slot frees: on any settlement, a revoke, or a lapsed lease.
  std::string concurrency_key;
  int max_concurrency = 0;  // >= 1 when concurrency_key is set

  bool empty() const { return rate_key.empty() && concurrency_key.empty(); }
  bool operator==(const TaskLimits&) const = default;
};

// The state of one rate-limit bucket, for `runq status` (Store::rate_limits).
struct RateLimitState {
  std::string key;
  std::int64_t count = 0;  // the limit: count per period (as the latest task carried it)
  Millis period_ms = 0;
  std::int64_t started_last_period = 0;  // tasks handed out in the latest full period
  Millis next_free_ms = 0;  // from `now` until the bucket allows another task (0 = now)
};

// ---- unique jobs: the key a task holds (NewTask::unique) ---------------------------------

// Longest unique key, in bytes.
inline constexpr std::size_t kMaxUniqueKeyBytes = 512;

// A task enqueued with a non-empty `key` holds that key from the enqueue until it is released:
// when it is handed out by reserve (`until_start`), else when it ends (SUCCESS, FAILURE,
// EXPIRED, REVOKED, DEAD, or purged), or when `for_ms` passed since the enqueue (when > 0),
// whichever comes first. A lapsed lease returned to its queue, a retry and a release keep the
// key. While the key is held, an enqueue of another task with the same key adds nothing (see
// Store::enqueue_unique). Keys are one namespace per store, shared by every queue.
struct UniqueOptions {
  std::string key;           // empty = the task is not unique; at most kMaxUniqueKeyBytes
  Millis for_ms = 0;         // > 0: the key lapses this long after the enqueue; 0 = no bound
  bool until_start = false;  // release when handed out, not when the task ends
};

// ---- workflows: dependencies and follow-up tasks --------------------------------------------
// (defined before NewTask and Settlement, which hold them by value)

// How a new task depends on others (NewTask::links). Empty = an ordinary task.
//  - depends_on: the task is stored WAITING and is not queued until every id listed has ended.
//    Each id must exist in the store (queued, running, or final with its record kept) or come
//    EARLIER in the same enqueue batch; anything else — an unknown id, the task's own id, an
//    id later in the batch (which is how a cycle would form) — is refused with
//    InvalidArgument and nothing is enqueued. Repeated ids count once.
//    When a dependency ends SUCCESS it counts as done; when it ends any other final way
//    (FAILURE, EXPIRED, REVOKED, DEAD, CANCELED) the waiting task ends CANCELED with
//    TaskInfo::dead_reason "dependency <id> ended <state>" (for a CANCELED dependency, that
//    dependency's own reason: the root cause travels down), unless allow_dependency_failure,
//    which counts it as done too. The last dependency to end makes the task PENDING (or
//    SCHEDULED until its eta). Dependencies already final at enqueue are resolved then.
//    This happens inside the call that ends the dependency (settle, revoke, the reserve that
//    dead-letters a lapsed lease): one counter decrement per dependent, no scan, no poll, and
//    a refused (stale) settlement changes nothing.
//  - canceled: non-empty = the task is added directly as CANCELED, with this reason in
//    TaskInfo::dead_reason (a chain's later steps, when an earlier step failed). Its
//    dependents are resolved as for any failed dependency.
// A CANCELED record is kept for the default result ttl (1 day); it holds no result record.
struct WorkflowLinks {
  std::vector<std::string> depends_on;
  bool allow_dependency_failure = false;
  std::string canceled;

  // Whether there is any link (an ordinary task has none).
  bool any() const { return !depends_on.empty() || !canceled.empty(); }
};

// A task to add. All fields are copied into the store.
struct NewTask {
  std::string id;  // unique; an id already present makes enqueue skip that task
  std::string queue{kDefaultQueue};
  int priority = kDefaultPriority;  // kMinPriority..kMaxPriority
  Millis eta = 0;                   // run at or after this time; <= now means ready at once
  int max_deliveries = 5;  // lease lapses tolerated before the task is dead-lettered (>= 1)
  std::string body;        // the encoded task message (opaque to the store)
  std::string task;        // the task name, indexed for list_tasks (may be empty)
  TaskLimits limits;       // flow control enforced on reserve (empty: none, costs nothing)
  UniqueOptions unique;    // unique jobs: key empty = not unique (see UniqueOptions)
  WorkflowLinks links;     // workflows: dependencies (see WorkflowLinks)
};

// One task handed out by `reserve`.
struct Delivery {
  std::string id;
  std::string queue;
  std::string body;
  std::uint64_t token = 0;  // fencing token of this delivery
  int deliveries = 0;       // 1 for the first delivery of the current attempt
  Millis lease_expires = 0;
};

// What to reserve.
struct ReserveRequest {
  std::vector<std::string> queues;  // in order of preference; must not be empty
  std::string worker_id;            // recorded on the task (diagnostics, `status`)
  int max = 1;                      // hand out at most this many (>= 1)
  Millis lease_ms = 30'000;         // each lease lasts this long from `now`
  Millis now = 0;
};

// The current holder of a task: (id, token) as received in a Delivery.
struct LeaseRef {
  std::string id;
  std::uint64_t token = 0;
};

// How a delivery ends. A batch of these is applied by `settle`.
enum class Outcome {
  kAck,         // final: state is SUCCESS, FAILURE, EXPIRED or REVOKED; the task leaves the queue
  kRetry,       // run again at `retry_at` (state RETRY); `body` replaces the stored body if set
  kDeadLetter,  // move to the dead-letter list with `reason` (state DEAD)
  kRelease,     // give back unstarted (shutdown): ready again at once, deliveries not counted
};

// Tasks a settlement adds (Settlement::then): the next step of a chain, a link callback. They
// are enqueued in the same atomic step as the settlement if, and only if, the settlement is
// accepted (a stale holder's follow-ups are dropped with it), with the rules of enqueue
// (ids that exist are skipped; dependencies as in WorkflowLinks).
struct FollowUps {
  std::vector<NewTask> tasks;
};

struct Settlement {
  Outcome outcome = Outcome::kAck;
  std::string id;
  std::uint64_t token = 0;
  TaskState state = TaskState::kSuccess;  // the state recorded in the result (see Outcome)
  std::string result;                     // encoded result record to store; empty stores no result
  Millis result_ttl = 86'400'000;         // how long the result is kept
  Millis retry_at = 0;                    // kRetry only
  std::string body;    // kRetry only: new task body (attempt + 1); empty keeps the old
  std::string reason;  // kDeadLetter only
  FollowUps then;      // workflows: tasks added iff this settlement is accepted
};

// A pending request to revoke a task that was RESERVED when Store::revoke was called.
struct RevokeRequest {
  std::string id;
  bool terminate = false;  // stop it if it already runs (else it only must not start)
};

// What Store::revoke is asked to do.
struct Revocation {
  std::string id;
  bool terminate = false;  // if the task is running, stop it (else it is only kept from starting)
  std::string result;      // encoded result record stored when the task ends REVOKED here
  Millis result_ttl = 86'400'000;
};

// Everything a store knows about one task id.
struct TaskInfo {
  std::string id;
  TaskState state = TaskState::kPending;
  std::string queue;  // empty once the task left its queue
  int priority = 0;
  Millis eta = 0;  // scheduled/retry: when it becomes ready
  int deliveries = 0;
  std::string worker_id;     // reserved: the holder
  Millis lease_expires = 0;  // reserved: when the lease lapses
  double progress = 0;       // last value passed to set_progress (0..1)
  std::string result;        // the stored result record, if any
  std::string dead_reason;   // dead: why; canceled: why (which dependency or step failed)
  std::string body;          // the task body while the task is queued, reserved or dead
};

// A dead-lettered task.
struct DeadTask {
  std::string id;
  std::string queue;
  std::string reason;
  Millis died_at = 0;
  std::string body;
};

// A worker's heartbeat. Workers whose `expires` passed are not listed as alive.
struct WorkerInfo {
  std::string id;
  std::string host;
  int pid = 0;
  std::vector<std::string> queues;
  int concurrency = 0;
  int running = 0;
  std::uint64_t processed = 0;  // tasks settled since start
  std::uint64_t failed = 0;
  Millis started = 0;
  Millis last_seen = 0;
  Millis expires = 0;
  // What the worker did, as it reports it (opaque JSON, at most a few KiB; "" = nothing): its
  // running tasks with their start times, per-task-name outcome counters and per-minute
  // histograms of queue wait and run time (src/worker/internal/activity.hpp writes it, the
  // HTTP server aggregates it). Every store keeps it as given, like the other fields.
  std::string activity;
};

struct QueueStats {
  std::string queue;
  std::int64_t pending = 0;
  std::int64_t scheduled = 0;  // includes RETRY
  std::int64_t running = 0;    // reserved
  std::int64_t dead = 0;
};

struct StoreStats {
  std::vector<QueueStats> queues;   // every queue that has tasks or dead letters
  std::vector<WorkerInfo> workers;  // alive workers only
  std::uint64_t completed = 0;      // settled with kAck since the store was created
  std::uint64_t failed = 0;         // of which FAILURE
  std::uint64_t duplicates = 0;     // settlements refused because the lease was stale
};

// Which tasks list_tasks returns; every field left empty matches everything.
struct TaskFilter {
  std::string queue;               // the queue the task was enqueued to
  std::optional<TaskState> state;  // as get_task reports it (kRetry, never kStarted)
  std::string task;                // NewTask::task
  Millis enqueued_from = 0;        // enqueued (the `now` of enqueue) at or after this
  Millis enqueued_before = 0;      // ... and before this; 0 = no bound
};

// One task of a list_tasks page.
struct TaskSummary {
  std::string id;
  std::string queue;  // the queue it was enqueued to (kept after it finished)
  std::string task;   // NewTask::task
  TaskState state = TaskState::kPending;
  Millis enqueued = 0;  // the `now` of the enqueue that added it
};

struct TaskPage {
  std::vector<TaskSummary> tasks;  // newest enqueue first; ties by id, descending
  std::string next_cursor;         // pass to the next call; empty = nothing more to list
};

// Largest `limit` of list_tasks.
inline constexpr std::size_t kMaxListLimit = 1000;
// Index entries one list_tasks call examines at most, for a page of `limit` tasks.
constexpr std::size_t list_tasks_budget(std::size_t limit) { return 8 * limit + 64; }

// Persistent state of one periodic schedule.
struct ScheduleState {
  std::string name;
  Millis last_tick = 0;  // the latest tick claimed (0 = never)
  bool paused = false;
  std::string info;  // opaque JSON written by the scheduler (expression, zone, next...)
};

// ---- flow control: queue pause and length limits -----------------------------------------

// The persisted flow controls of one queue (Store::set_queue_paused, Store::set_queue_limit).
struct QueueControl {
  std::string queue;
  bool paused = false;          // reserve hands out nothing from it; enqueue still adds to it
  std::int64_t max_length = 0;  // most PENDING + SCHEDULED tasks enqueue lets in; 0 = no limit

  bool operator==(const QueueControl&) const = default;
};

class Store {
 public:
  virtual ~Store() = default;

  // ---- producers ----------------------------------------------------------------------

  // Adds `tasks` atomically: all of them or none. A task whose id already exists in the
  // store (queued, scheduled, running, finished with a result, or dead) is skipped silently,
  // which makes enqueue idempotent per id. eta <= now → PENDING, else SCHEDULED.
  // Errors: InvalidArgument (empty id or queue name, priority outside 0..9,
  // max_deliveries < 1); TooLarge (a body longer than the backend's max_body_bytes, 1 MiB by
  // default); ResourceExhausted (a bounded queue without room, see set_queue_limit, or the
  // store out of space); Unavailable. On error nothing was added.
  virtual Status enqueue(std::span<const NewTask> tasks, Millis now) = 0;

  // ---- workers ------------------------------------------------------------------------

  // First makes due SCHEDULED tasks PENDING and returns lapsed leases to their queues (or
  // dead-letters them past max_deliveries, reason "lease lapsed N times..."), then hands out
  // up to `req.max` PENDING tasks from `req.queues` under fresh leases. Returns an empty
  // vector when nothing is ready. A task is never handed to two holders at once.
  // Errors: InvalidArgument (no queues, an empty queue name, max < 1, lease_ms < 1);
  // Unavailable. On error nothing was handed out or reclaimed.
  virtual Result<std::vector<Delivery>> reserve(const ReserveRequest& req) = 0;

  // Blocks until work may be ready on one of `queues` (a task enqueued, released or retried,
  // or a scheduled task becoming due) or until `timeout_ms` passed. Spurious returns are
  // allowed; callers loop on reserve(). Idle waiting must not burn CPU. Returns OK when the
  // time ran out as well. Errors: InvalidArgument (no queues, an empty queue name);
  // Unavailable (then the caller backs off).
  virtual Status wait_for_work(const std::vector<std::string>& queues, Millis timeout_ms) = 0;

  // wait_for_work(req.queues, timeout_ms), then reserve(req) with req.now = clock.now_ms():
  // what an idle worker does. A store may do both in one round trip (Redis sends the reserve
  // behind its blocking pop, so it runs the moment work arrives); leases it hands out may then
  // count from the start of the wait, which such a store keeps under a quarter of
  // req.lease_ms. Returns an empty vector when nothing came. Errors: those of reserve (checked
  // before waiting) and Unavailable.
  virtual Result<std::vector<Delivery>> wait_and_reserve(const ReserveRequest& req,
                                                         Millis timeout_ms, const Clock& clock);

  // Moves the lease of each current holder in `leases` to now + lease_ms. Returns one flag per
  // input: false when that holder is stale (its lease was taken over, or the task settled).
  // Errors: InvalidArgument (lease_ms < 1); Unavailable. On error no lease moved.
  virtual Result<std::vector<bool>> extend(std::span<const LeaseRef> leases, Millis lease_ms,
                                           Millis now) = 0;

  // Applies each settlement if its (id, token) is the current holder, atomically per batch.
  // Returns one flag per input: false = refused as stale (counted in StoreStats::duplicates,
  // and its result is NOT written). Errors: InvalidArgument (an empty id, a kAck whose state is
  // not SUCCESS, FAILURE, EXPIRED or REVOKED, a negative result_ttl); TooLarge (a kRetry
  // body longer than max_body_bytes); ResourceExhausted (out of space); Unavailable. On error
  // nothing was applied.
  virtual Result<std::vector<bool>> settle(std::span<const Settlement> settlements, Millis now) = 0;

  // Records progress (0..1) of a running task for its current holder. A value outside 0..1 is
  // clamped to it (a done/total ratio may overshoot by rounding).
  // Errors: InvalidArgument (NaN); FailedPrecondition (stale holder); NotFound (unknown id);
  // Unavailable.
  virtual Status set_progress(const LeaseRef& lease, double fraction) = 0;

  // Writes a heartbeat; the worker is listed as alive until `info.expires`.
  // Errors: InvalidArgument (empty worker id); Unavailable.
  virtual Status heartbeat(const WorkerInfo& info) = 0;
  // Removes a worker from the registry (clean shutdown).
  // Errors: NotFound (no such worker); Unavailable.
  virtual Status remove_worker(std::string_view worker_id) = 0;

  // ---- results and inspection ---------------------------------------------------------

  // Everything known about `id`.
  // Errors: NotFound (never enqueued, or its result expired); Unavailable.
  virtual Result<TaskInfo> get_task(std::string_view id, Millis now) = 0;

  // Blocks until `id` is in a final state (is_final: success, failure, expired, revoked,
  // dead) or `timeout_ms` passed, and returns get_task(id). A RETRY record is not final: the
  // wait goes on through retries. Errors: DeadlineExceeded (not final in time); NotFound
  // (unknown id, or settled without a stored result); Unavailable. Implementations wait on a
  // notification, not a sleep loop, where the backend allows.
  virtual Result<TaskInfo> wait_task(std::string_view id, Millis timeout_ms) = 0;

  // Lists the tasks the store holds — queued, scheduled, retrying, reserved, dead, and
  // finished ones whose record is kept (result_ttl) — that match `filter`, newest enqueue
  // first (ties: id descending). `cursor` is "" for the first page, else the next_cursor of
  // the previous page with the same filter. Each call reads at most
  // list_tasks_budget(limit) entries of an index ordered by enqueue time (one per queue and
  // one per task name, chosen by the filter), so a page costs the same with 10 or 10,000,000
  // tasks in the store; it may therefore hold fewer than `limit` tasks, even none, while
  // next_cursor is not empty: keep following it. The enqueue-time bounds narrow the index
  // range (they cost nothing); the state filter, and the queue when a task name is given,
  // are checked on the entries read. Tasks enqueued, settled or removed between two pages
  // may or may not be seen; none is listed twice. `now` decides which results have expired.
  // Errors: InvalidArgument (limit outside 1..kMaxListLimit, a cursor that no list_tasks
  // returned, enqueued_before <= enqueued_from when both are set); Unavailable.
  virtual Result<TaskPage> list_tasks(const TaskFilter& filter, std::string_view cursor,
                                      std::size_t limit, Millis now) = 0;

  // ---- admin --------------------------------------------------------------------------

  // Counts per queue, alive workers and totals. Errors: Unavailable.
  virtual Result<StoreStats> stats(Millis now) = 0;
  // Dead letters, oldest first, at most `limit`. Errors: Unavailable.
  virtual Result<std::vector<DeadTask>> list_dead(std::size_t limit) = 0;
  // Puts dead tasks back in their queues as PENDING with deliveries reset. `ids` empty = all.
  // Returns how many were requeued. Errors: Unavailable.
  virtual Result<std::int64_t> retry_dead(std::span<const std::string> ids, Millis now) = 0;
  // Deletes dead letters. Returns how many. Errors: Unavailable.
  virtual Result<std::int64_t> purge_dead() = 0;
  // Deletes PENDING and SCHEDULED tasks of `queue` (not running ones). Returns how many.
  // Errors: InvalidArgument (empty queue name); Unavailable.
  virtual Result<std::int64_t> purge_queue(std::string_view queue) = 0;
  // Deletes expired results and trims finished history / dead letters beyond retention.
  // Called periodically by workers. Returns how many records were removed. One call may stop
  // after a bounded amount of work so that it never holds the store for long (Redis: 10,000
  // expired results and 1,000 dead letters); workers call it once a minute, and again at
  // their next tick while it keeps removing 1,000 or more. Errors: Unavailable.
  virtual Result<std::int64_t> cleanup(Millis now) = 0;

  // ---- revoke ------------------------------------------------------------------------

  // Revokes task `r.id` from any process. The revocation lives in the store, so it holds
  // across worker restarts:
  //  - PENDING, SCHEDULED or RETRY: the task leaves its queue at once and ends REVOKED, as a
  //    kAck settlement would end it (r.result stored for r.result_ttl; counted completed, not
  //    failed). It never runs. Returns kRevoked.
  //  - RESERVED: records a revoke request {id, terminate} (a later revoke may add terminate,
  //    never remove it) for the holder to read with revoke_requests(), and returns kReserved.
  //    The holder settles the task (REVOKED, or as it ended when it could not be stopped); any
  //    settlement of the task removes the request. A lease that lapses with a request pending
  //    ends the task REVOKED (r.result stored) on the next reserve, instead of returning it
  //    to its queue.
  //  - already final (SUCCESS, FAILURE, EXPIRED, REVOKED, DEAD): changes nothing; returns the
  //    state.
  // Errors: InvalidArgument (empty id, negative result_ttl); NotFound (unknown id, or its
  // record expired); Unavailable. The default returns FailedPrecondition (not supported).
  virtual Result<TaskState> revoke(const Revocation& r, Millis now);

  // The pending revoke requests of the tasks among `ids` (a worker passes the ids it holds),
  // in no particular order. Errors: Unavailable. The default returns FailedPrecondition.
  virtual Result<std::vector<RevokeRequest>> revoke_requests(std::span<const std::string> ids);

  // ---- periodic schedules -------------------------------------------------------------

  // Atomically: if the schedule's last_tick < `tick` and it is not paused, sets last_tick =
  // `tick` and enqueues `task` (skipped if its id exists), and returns true; otherwise changes
  // nothing and returns false. Creates the schedule state on first use. This is what makes a
  // tick fire exactly once however many schedulers race.
  // Errors: InvalidArgument (empty schedule name, or `task` breaks a rule of enqueue);
  // TooLarge (its body is too long); ResourceExhausted (its queue is bounded and full);
  // Unavailable. On error no tick was claimed.
  virtual Result<bool> claim_tick(std::string_view schedule, Millis tick, const NewTask& task,
                                  Millis now) = 0;
  // All known schedules, by name. Errors: Unavailable.
  virtual Result<std::vector<ScheduleState>> list_schedules() = 0;
  // Creates the schedule if absent; replaces its `info`. Leaves last_tick and paused alone.
  // Errors: InvalidArgument (empty schedule name); Unavailable.
  virtual Status put_schedule_info(std::string_view schedule, std::string_view info) = 0;
  // Pauses or resumes a schedule.
  // Errors: NotFound (never registered); Unavailable.
  virtual Status set_schedule_paused(std::string_view schedule, bool paused) = 0;

  // ---- flow control: pause and bounded queues -----------------------------------------
  // A queue's controls live in the store, so they hold for every worker and producer on every
  // machine at once, and across restarts. A queue needs no creation: controls may be set on a
  // queue that has no task yet.

  // Pauses or resumes `queue`. While it is paused, reserve (and wait_and_reserve) hand out
  // none of its tasks, and wait_for_work does not count its ready tasks as work (a worker
  // does not spin on them); tasks already reserved keep their leases and settle as usual.
  // Enqueue still adds to it, and a scheduled task whose eta passes waits in it too (reported
  // SCHEDULED or PENDING, depending on the store, until the queue resumes). Resuming wakes
  // the workers waiting on the queue.
  // Pausing a paused queue (or resuming a running one) changes nothing and is not an error.
  // Errors: InvalidArgument (empty queue name); Unavailable. The default returns
  // FailedPrecondition (not supported).
  virtual Status set_queue_paused(std::string_view queue, bool paused);

  // Bounds `queue` to `max_length` tasks waiting in it (PENDING + SCHEDULED, RETRY included;
  // reserved ones do not count); 0 removes the bound. From then on an enqueue (or a
  // claim_tick) that would make the queue longer than the bound adds nothing at all, not even
  // the tasks of other queues in the same batch, and returns ResourceExhausted with the
  // message "queue 'NAME' is full (N tasks)" (N = max_length). Every task of the batch counts,
  // including one whose id exists and would be skipped. Tasks already queued stay when the
  // bound is set below the current length; only new ones are refused.
  // Errors: InvalidArgument (empty queue name, negative max_length); Unavailable. The default
  // returns FailedPrecondition (not supported).
  virtual Status set_queue_limit(std::string_view queue, std::int64_t max_length);

  // The controls of every queue that has one set (paused, or max_length > 0), by queue name.
  // Errors: Unavailable. The default returns FailedPrecondition (not supported).
  virtual Result<std::vector<QueueControl>> queue_controls();

  // ---- flow control: rate limits and per-key concurrency ------------------------------
  // The limits travel with each task (NewTask::limits) and are enforced by reserve, in the
  // store, so they hold across every worker on every machine.

  // True when this backend enforces NewTask::limits. An enqueue (or claim_tick) of a task with
  // limits into a store that does not is refused with FailedPrecondition: a limit is never
  // silently ignored. The default is false.
  virtual bool enforces_task_limits() const;

  // The rate-limit buckets that tasks have used, by key, with their current state at `now`.
  // Errors: Unavailable. The default returns FailedPrecondition (not supported).
  virtual Result<std::vector<RateLimitState>> rate_limits(Millis now);

  // ---- unique jobs --------------------------------------------------------------------------

  // enqueue(tasks, now), and also says which tasks were not added because another task holds
  // their unique key (UniqueOptions): returns one string per task, the id of the task holding
  // the key when that task was not added for it, else "" (added, or skipped because its id
  // exists). The key is checked first: a task whose key another task holds gets that id.
  // The check and the insert are one atomic step, so producers racing on one key add exactly
  // one task. Within a batch, tasks are taken in order: a second task with the key of an
  // earlier one returns the earlier one's id. A task refused for its key still counts toward
  // a bounded queue's room (set_queue_limit), as a skipped id does. `enqueue` applies the same
  // rules and only drops the answer.
  // Errors: those of enqueue, and InvalidArgument (a key longer than kMaxUniqueKeyBytes,
  // for_ms < 0). The default (a store without unique jobs) returns FailedPrecondition when a
  // task has a key, else enqueues and returns empty strings.
  virtual Result<std::vector<std::string>> enqueue_unique(std::span<const NewTask> tasks,
                                                          Millis now);

  // ---- workflows ----------------------------------------------------------------------

  // Whether this store keeps WorkflowLinks and FollowUps (see above). A store that does not
  // refuses an enqueue with links and a settlement with follow-ups (FailedPrecondition,
  // through checked_store) instead of dropping them. The default is false.
  virtual bool supports_workflows() const { return false; }

  // get_task for each of `ids`, in order (a chord body reads all its members' results): each
  // element is what get_task(id, now) returns, NotFound included. The call as a whole fails
  // only when the store cannot be read (Unavailable, DataLoss). The default calls get_task
  // once per id; a networked store answers a batch in one round trip.
  virtual Result<std::vector<Result<TaskInfo>>> get_tasks(std::span<const std::string> ids,
                                                          Millis now);
};

// Opens a store by URL. The schemes are those of the registered backends (the
// runq_store_backend() lines of CMakeLists.txt): "sqlite:PATH",
// "redis://[:password@]host[:port][/db]" (when built with Redis) and "memory:"; `runq --help`
// lists them.
// Errors: InvalidArgument (unknown scheme, listing the known ones, or malformed URL);
// Unavailable (cannot connect or open, with the cause); FailedPrecondition (e.g. unwritable
// database path).
Result<std::unique_ptr<Store>> open_store(std::string_view url);

// The store URL from the RUNQ_STORE environment variable, or "sqlite:runq.db".
std::string default_store_url();

// Forwards every call to another store; decorators override only what they need.
class StoreWrapper : public Store {
 public:
  explicit StoreWrapper(Store* target) : target_(target) {}
  Store* target() const { return target_; }

  Status enqueue(std::span<const NewTask> t, Millis now) override {
    return target_->enqueue(t, now);
  }
  Result<std::vector<Delivery>> reserve(const ReserveRequest& r) override {
    return target_->reserve(r);
  }
  Status wait_for_work(const std::vector<std::string>& q, Millis t) override {
    return target_->wait_for_work(q, t);
  }
  Result<std::vector<Delivery>> wait_and_reserve(const ReserveRequest& r, Millis t,
                                                 const Clock& c) override {
    return target_->wait_and_reserve(r, t, c);
  }
  Result<std::vector<bool>> extend(std::span<const LeaseRef> l, Millis ms, Millis now) override {
    return target_->extend(l, ms, now);
  }
  Result<std::vector<bool>> settle(std::span<const Settlement> s, Millis now) override {
    return target_->settle(s, now);
  }
  Status set_progress(const LeaseRef& l, double f) override { return target_->set_progress(l, f); }
  Status heartbeat(const WorkerInfo& i) override { return target_->heartbeat(i); }
  Status remove_worker(std::string_view id) override { return target_->remove_worker(id); }
  Result<TaskInfo> get_task(std::string_view id, Millis now) override {
    return target_->get_task(id, now);
  }
  Result<TaskInfo> wait_task(std::string_view id, Millis t) override {
    return target_->wait_task(id, t);
  }
  Result<TaskPage> list_tasks(const TaskFilter& f, std::string_view c, std::size_t n,
                              Millis now) override {
    return target_->list_tasks(f, c, n, now);
  }
  Result<StoreStats> stats(Millis now) override { return target_->stats(now); }
  Result<std::vector<DeadTask>> list_dead(std::size_t n) override { return target_->list_dead(n); }
  Result<std::int64_t> retry_dead(std::span<const std::string> ids, Millis now) override {
    return target_->retry_dead(ids, now);
  }
  Result<std::int64_t> purge_dead() override { return target_->purge_dead(); }
  Result<std::int64_t> purge_queue(std::string_view q) override { return target_->purge_queue(q); }
  Result<std::int64_t> cleanup(Millis now) override { return target_->cleanup(now); }
  Result<TaskState> revoke(const Revocation& r, Millis now) override {
    return target_->revoke(r, now);
  }
  Result<std::vector<RevokeRequest>> revoke_requests(std::span<const std::string> ids) override {
    return target_->revoke_requests(ids);
  }
  Result<bool> claim_tick(std::string_view s, Millis tick, const NewTask& t, Millis now) override {
    return target_->claim_tick(s, tick, t, now);
  }
  Result<std::vector<ScheduleState>> list_schedules() override { return target_->list_schedules(); }
  Status put_schedule_info(std::string_view s, std::string_view info) override {
    return target_->put_schedule_info(s, info);
  }
  Status set_schedule_paused(std::string_view s, bool p) override {
    return target_->set_schedule_paused(s, p);
  }
  Status set_queue_paused(std::string_view q, bool p) override {
    return target_->set_queue_paused(q, p);
  }
  Status set_queue_limit(std::string_view q, std::int64_t n) override {
    return target_->set_queue_limit(q, n);
  }
  Result<std::vector<QueueControl>> queue_controls() override { return target_->queue_controls(); }
  bool enforces_task_limits() const override { return target_->enforces_task_limits(); }
  Result<std::vector<RateLimitState>> rate_limits(Millis now) override {
    return target_->rate_limits(now);
  }
  Result<std::vector<std::string>> enqueue_unique(std::span<const NewTask> t, Millis now) override {
    return target_->enqueue_unique(t, now);
  }
  bool supports_workflows() const override { return target_->supports_workflows(); }
  Result<std::vector<Result<TaskInfo>>> get_tasks(std::span<const std::string> ids,
                                                  Millis now) override {
    return target_->get_tasks(ids, now);
  }

 private:
  Store* target_;
};

}  // namespace runq
