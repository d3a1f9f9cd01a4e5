// The embedded store. Schema and SQL: store/sqlite/schema.{hpp,cpp}. Each batch call (enqueue,
// reserve, settle, extend...) is one BEGIN IMMEDIATE transaction on a pooled connection.
//
// Concurrency: threads of one process take `write_mu_` around write transactions, so they
// queue on a mutex instead of polling SQLite's file lock; other processes are waited for by the
// connection's busy handler, up to busy_timeout_ms. Reads run in parallel on their own
// connections (WAL readers never block writers).
//
// Fencing tokens come from one counter row, so a token is larger than every token handed out
// before for any task, even one re-enqueued under an id whose earlier record expired.
#include "store/sqlite_store.hpp"

#include "store/backend.hpp"
#include "store/flow.hpp"
#include "store/rate_bucket.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>

#include "store/sqlite/change_watcher.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/queries.hpp"
#include "store/sqlite/schema.hpp"
#include "store/sqlite/workflows.hpp"
#include "store/task_list.hpp"

namespace runq {
namespace {

using sqlite::Connection;
using sqlite::run_change;
using sqlite::Sql;
using sqlite::Statement;
using SteadyClock = std::chrono::steady_clock;

// get_task(id, kNoExpiry) keeps results whose TTL passed but that cleanup has not removed yet.
constexpr Millis kNoExpiry = std::numeric_limits<Millis>::min();
// A commit's -wal write (the inotify event) lands a few microseconds before the commit becomes
// visible to readers. A check that found nothing that soon after an event is repeated, first
// kFirstRecheck after the event and then at doubling intervals until kCommitSlack has passed,
// so that commit is not missed until the next event (and is usually seen within 0.1-0.2 ms).
constexpr auto kCommitSlack = std::chrono::milliseconds(5);
constexpr auto kFirstRecheck = std::chrono::microseconds(100);
// A scheduled task (or lapsed lease) this recently due is work: the caller's reserve() promotes
// it. One due for longer was seen by a reserve() whose `now` is behind the system clock (a
// manual clock in tests): waiting returns every kStaleRecheck instead of spinning.
constexpr Millis kJustDueMs = 50;
constexpr auto kStaleRecheck = std::chrono::milliseconds(100);
// Longer waits are cut to this, so that adding them to the steady clock cannot overflow.
constexpr Millis kLongestWaitMs = 10LL * 365 * 24 * 3600 * 1000;
// One reserve moves at most about this many rate-limited or parked tasks aside before it
// returns what it has, so that it never holds the write lock for long.
constexpr int kMaxMovedAside = 1000;

SteadyClock::time_point deadline_after(Millis timeout_ms) {
  return SteadyClock::now() +
         std::chrono::milliseconds(std::clamp<Millis>(timeout_ms, 0, kLongestWaitMs));
}

Millis system_now_ms() { return to_millis(std::chrono::system_clock::now().time_since_epoch()); }

Status status_of(const Status& s) { return s; }
template <typename T>
Status status_of(const Result<T>& r) {
  return r.status();
}

struct SettleCounts {
  std::int64_t completed = 0;
  std::int64_t failed = 0;
  std::int64_t duplicates = 0;
};

class SqliteStore final : public Store {
 public:
  // `first` is the connection that prepared the database; it was opened with `conn_options`.
  SqliteStore(const SqliteStoreOptions& options, const sqlite::ConnectionOptions& conn_options,
              std::unique_ptr<Connection> first)
      : options_(options), pool_(conn_options), watcher_({options.path + "-wal"}) {
    pool_.add(std::move(first));
  }

  Status enqueue(std::span<const NewTask> tasks, Millis now) override;
  Result<std::vector<Delivery>> reserve(const ReserveRequest& req) override;
  Status wait_for_work(const std::vector<std::string>& queues, Millis timeout_ms) override;
  Result<std::vector<bool>> extend(std::span<const LeaseRef> leases, Millis lease_ms,
                                   Millis now) override;
  Result<std::vector<bool>> settle(std::span<const Settlement> settlements, Millis now) override;
  Status set_progress(const LeaseRef& lease, double fraction) override;
  Status heartbeat(const WorkerInfo& info) override;
  Status remove_worker(std::string_view worker_id) override;
  Result<TaskInfo> get_task(std::string_view id, Millis now) override;
  Result<std::vector<Result<TaskInfo>>> get_tasks(std::span<const std::string> ids,
                                                  Millis now) override;
  Result<TaskInfo> wait_task(std::string_view id, Millis timeout_ms) override;
  Result<TaskPage> list_tasks(const TaskFilter& filter, std::string_view cursor, std::size_t limit,
                              Millis now) override;
  Result<StoreStats> stats(Millis now) override;
  Result<std::vector<DeadTask>> list_dead(std::size_t limit) override;
  Result<std::int64_t> retry_dead(std::span<const std::string> ids, Millis now) override;
  Result<std::int64_t> purge_dead() override;
  Result<std::int64_t> purge_queue(std::string_view queue) override;
  Result<std::int64_t> cleanup(Millis now) override;
  Result<TaskState> revoke(const Revocation& r, Millis now) override;
  Result<std::vector<RevokeRequest>> revoke_requests(std::span<const std::string> ids) override;
  Result<bool> claim_tick(std::string_view schedule, Millis tick, const NewTask& task,
                          Millis now) override;
  Result<std::vector<ScheduleState>> list_schedules() override;
  Status put_schedule_info(std::string_view schedule, std::string_view info) override;
  Status set_schedule_paused(std::string_view schedule, bool paused) override;
  Status set_queue_paused(std::string_view queue, bool paused) override;
  Status set_queue_limit(std::string_view queue, std::int64_t max_length) override;
  Result<std::vector<QueueControl>> queue_controls() override;
  bool enforces_task_limits() const override { return true; }
  Result<std::vector<RateLimitState>> rate_limits(Millis now) override;
  Result<std::vector<std::string>> enqueue_unique(std::span<const NewTask> tasks,
                                                  Millis now) override;
  bool supports_workflows() const override { return true; }

 private:
  // Runs fn(Connection&) in a transaction on a pooled connection; errors get `what` as context.
  template <typename Fn>
  std::invoke_result_t<Fn&, Connection&> transact(bool write, std::string_view what, Fn&& fn);
  template <typename Fn>
  auto write(std::string_view what, Fn&& fn) {
    return transact(true, what, std::forward<Fn>(fn));
  }
  template <typename Fn>
  auto read(std::string_view what, Fn&& fn) {
    return transact(false, what, std::forward<Fn>(fn));
  }

  Status reclaim(Connection& c, const std::vector<std::string>& queues, Millis now);
  Status free_slot(Connection& c, const std::string& key, int max);
  Status limits_settled(Connection& c, const Settlement& s);
  Status end_lapsed_revoked(Connection& c, Millis now);
  Status end_revoked(Connection& c, std::string_view id, std::string_view record, Millis ttl,
                     Millis now);
  Status take_ready(Connection& c, const ReserveRequest& req, std::vector<Delivery>& out);
  Result<int> admit_limited(Connection& c,
                            const std::vector<std::pair<std::int64_t, TaskLimits>>& limited,
                            Millis now, std::vector<std::int64_t>& seqs, std::vector<Delivery>& out,
                            std::size_t first);
  Result<bool> admit_one(Connection& c, std::int64_t seq, const std::string& id,
                         const TaskLimits& l, Millis now);
  Status check_room(Connection& c, std::span<const NewTask> tasks);
  Result<bool> settle_one(Connection& c, const Settlement& s, Millis now, SettleCounts& counts);
  Result<std::int64_t> end_lease(Connection& c, const Settlement& s, Millis now);
  Result<sqlite::WorkCheck> check_work(const std::vector<std::string>& queues);
  SteadyClock::time_point due_time(const sqlite::WorkCheck& check);
  SteadyClock::time_point with_commit_slack(SteadyClock::time_point until);

  const SqliteStoreOptions options_;
  sqlite::ConnectionPool pool_;
  std::mutex write_mu_;  // held for the whole of every write transaction of this process
  sqlite::ChangeWatcher watcher_;
};

// ---- helpers ------------------------------------------------------------------------------

template <typename Fn>
std::invoke_result_t<Fn&, Connection&> SqliteStore::transact(bool write, std::string_view what,
                                                             Fn&& fn) {
  using R = std::invoke_result_t<Fn&, Connection&>;
  Result<sqlite::ConnectionPool::Lease> conn = pool_.acquire();
  if (!conn.ok()) return R(conn.status().with_context(what));
  std::unique_lock<std::mutex> lock(write_mu_, std::defer_lock);
  if (write) lock.lock();
  sqlite::Transaction txn(**conn);
  Status s = txn.begin(write);
  if (!s.ok()) return R(s.with_context(what));
  R r = fn(**conn);
  s = status_of(r);
  if (s.ok()) s = txn.commit();
  if (!s.ok()) return R(s.with_context(what));
  return r;
}

// ---- producers ----------------------------------------------------------------------------

Status SqliteStore::enqueue(std::span<const NewTask> tasks, Millis now) {
  if (tasks.empty()) return ok_status();
  return write("enqueueing tasks", [&](Connection& c) -> Status {
    RUNQ_RETURN_IF_ERROR(check_room(c, tasks));
    RUNQ_RETURN_IF_ERROR(sqlite::check_dependencies(c, tasks, now));
    for (const NewTask& t : tasks) RUNQ_RETURN_IF_ERROR(sqlite::insert_task(c, t, now));
    return ok_status();
  });
}

Result<std::vector<std::string>> SqliteStore::enqueue_unique(std::span<const NewTask> tasks,
                                                             Millis now) {
  return write("enqueueing tasks", [&](Connection& c) -> Result<std::vector<std::string>> {
    RUNQ_RETURN_IF_ERROR(check_room(c, tasks));
    std::vector<std::string> held;
    held.reserve(tasks.size());
    for (const NewTask& t : tasks) {
      RUNQ_ASSIGN_OR_RETURN(std::string holder, sqlite::insert_unique_task(c, t, now));
      held.push_back(std::move(holder));
    }
    return held;
  });
}

// ---- workers ------------------------------------------------------------------------------

Result<std::vector<Delivery>> SqliteStore::reserve(const ReserveRequest& req) {
  return write("reserving tasks", [&](Connection& c) -> Result<std::vector<Delivery>> {
    RUNQ_RETURN_IF_ERROR(reclaim(c, req.queues, req.now));
    std::vector<Delivery> out;
    out.reserve(static_cast<std::size_t>(std::min(req.max, 1024)));
    RUNQ_RETURN_IF_ERROR(take_ready(c, req, out));
    return out;
  });
}

Status SqliteStore::reclaim(Connection& c, const std::vector<std::string>& queues, Millis now) {
  for (const std::string& queue : queues) {
    RUNQ_RETURN_IF_ERROR(status_of(run_change(c, Sql::kPromoteDue, queue, now)));
  }
  // Flow control: the concurrency slots of lapsed leases free once they are requeued.
  std::vector<std::pair<std::string, int>> slots;
  RUNQ_ASSIGN_OR_RETURN(bool any_limits, sqlite::exists(c, Sql::kAnyLimits));
  if (any_limits) {
    RUNQ_ASSIGN_OR_RETURN(Statement stmt, c.statement(Sql::kLapsedLimited));
    stmt.bind(1, now);
    for (;;) {
      RUNQ_ASSIGN_OR_RETURN(bool row, stmt.step());
      if (!row) break;
      slots.emplace_back(stmt.str(0), stmt.int32(1));
    }
  }
  RUNQ_RETURN_IF_ERROR(end_lapsed_revoked(c, now));
  RUNQ_ASSIGN_OR_RETURN(bool any_unique, sqlite::exists(c, Sql::kUniqueAny));
  if (any_unique) {  // a task dead-lettered below gives up its unique key
    RUNQ_RETURN_IF_ERROR(status_of(run_change(c, Sql::kUniqueReleaseLapsedDead, now)));
  }
  // Workflows: lapsed tasks about to be dead-lettered that others wait on.
  std::vector<std::string> dying;
  RUNQ_ASSIGN_OR_RETURN(bool any_dependents, sqlite::any_dependents(c));
  if (any_dependents) {
    RUNQ_ASSIGN_OR_RETURN(Statement stmt, c.statement(Sql::kDeadLapsedWithDependents));
    stmt.bind(1, now);
    for (;;) {
      RUNQ_ASSIGN_OR_RETURN(bool row, stmt.step());
      if (!row) break;
      dying.push_back(stmt.str(0));
    }
  }
  // Dead-lettering first: the requeue below takes every lapsed lease that is left.
  RUNQ_RETURN_IF_ERROR(status_of(run_change(c, Sql::kDeadLapsed, now)));
  for (const std::string& id : dying) {
    RUNQ_RETURN_IF_ERROR(sqlite::resolve_dependents(c, id, TaskState::kDead, now));
  }
  RUNQ_RETURN_IF_ERROR(status_of(run_change(c, Sql::kRequeueLapsed, now)));
  for (const auto& [key, max] : slots) RUNQ_RETURN_IF_ERROR(free_slot(c, key, max));
  return ok_status();
}

// A task of concurrency key `key` left RESERVED: its slot frees, and while a slot is free the
// longest-parked task of the key goes back to its queue (skipping parked entries whose task
// was revoked or purged meanwhile).
Status SqliteStore::free_slot(Connection& c, const std::string& key, int max) {
  RUNQ_RETURN_IF_ERROR(status_of(run_change(c, Sql::kFreeSlot, key)));
  for (int attempt = 0; attempt < 8; ++attempt) {
    {
      RUNQ_ASSIGN_OR_RETURN(Statement held, c.statement(Sql::kSlotsHeld));
      held.bind_text(1, key);
      RUNQ_ASSIGN_OR_RETURN(bool row, held.step());
      if (row && held.int64(0) >= max) return ok_status();
    }
    std::string id;
    std::int64_t seq = 0;
    {
      RUNQ_ASSIGN_OR_RETURN(Statement first, c.statement(Sql::kFirstParked));
      first.bind_text(1, key);
      RUNQ_ASSIGN_OR_RETURN(bool row, first.step());
      if (!row) return ok_status();
      id = first.str(0);
      seq = first.int64(1);
    }
    RUNQ_RETURN_IF_ERROR(status_of(run_change(c, Sql::kParkLimits, id, 0)));
    RUNQ_ASSIGN_OR_RETURN(std::int64_t back,
                          run_change(c, Sql::kUnparkTask, seq, internal::kParkedEta));
    if (back == 1) return ok_status();
  }
  return ok_status();
}

// After settlement `s` was applied: frees the task's concurrency slot, and forgets the limits
// of a task that left the store.
Status SqliteStore::limits_settled(Connection& c, const Settlement& s) {
  std::string key;
  int max = 0;
  {
    RUNQ_ASSIGN_OR_RETURN(Statement stmt, c.statement(Sql::kTaskConcurrency));
    stmt.bind_text(1, s.id);
    RUNQ_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (row) {
      key = stmt.str(0);
      max = stmt.int32(1);
    }
  }
  if (s.outcome == Outcome::kAck) {
    RUNQ_RETURN_IF_ERROR(status_of(run_change(c, Sql::kDeleteLimits, s.id)));
  }
  return key.empty() ? ok_status() : free_slot(c, key, max);
}

Status SqliteStore::take_ready(Connection& c, const ReserveRequest& req,
                               std::vector<Delivery>& out) {
  std::int64_t last_token = 0;
  {
    RUNQ_ASSIGN_OR_RETURN(Statement stmt, c.statement(Sql::kGetCounter));
    stmt.bind_text(1, "token");
    RUNQ_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (row) last_token = stmt.int64(0);
  }
  std::vector<std::int64_t> seqs;
  seqs.reserve(out.capacity());
  const Millis lease_expires = req.now + req.lease_ms;
  int moved_aside = 0;
  for (std::size_t q = 0; q < req.queues.size(); ++q) {
    const std::string& queue = req.queues[q];
    const std::size_t first = out.size();
    if (first >= static_cast<std::size_t>(req.max)) break;
    std::vector<std::pair<std::int64_t, TaskLimits>> limited;  // (seq, limits) read
    {
      RUNQ_ASSIGN_OR_RETURN(Statement stmt, c.statement(Sql::kSelectReady));
      stmt.bind_text(1, queue).bind(2, static_cast<std::int64_t>(req.max - first));
      for (;;) {
        RUNQ_ASSIGN_OR_RETURN(bool row, stmt.step());
        if (!row) break;
        if (!stmt.is_null(4)) {  // a task with limits: admitted below, or moved aside
          TaskLimits& l = limited.emplace_back(stmt.int64(0), TaskLimits{}).second;
          l.rate_key = stmt.view(4);
          l.rate_count = stmt.int64(5);
          l.rate_period_ms = stmt.int64(6);
          l.concurrency_key = stmt.view(7);
          l.max_concurrency = stmt.int32(8);
        }
        seqs.push_back(stmt.int64(0));
        Delivery& d = out.emplace_back();
        d.id = stmt.view(1);
        d.queue = queue;
        d.body = stmt.view(2);
        d.deliveries = stmt.int32(3) + 1;
        d.lease_expires = lease_expires;
      }
    }
    if (!limited.empty()) {
      RUNQ_ASSIGN_OR_RETURN(int refused, admit_limited(c, limited, req.now, seqs, out, first));
      moved_aside += refused;
      // Tasks were moved aside: the queue may hold more behind them (a bounded number of
      // passes, so that one reserve cannot move a whole backlog).
      if (refused > 0 && moved_aside < kMaxMovedAside) --q;
    }
    // Marked before the next queue is read, so a queue listed twice cannot hand a task twice.
    for (std::size_t i = first; i < out.size(); ++i) {
      out[i].token = static_cast<std::uint64_t>(last_token) + i + 1;
      RUNQ_ASSIGN_OR_RETURN(Statement stmt, c.statement(Sql::kMarkReserved));
      stmt.bind(1, seqs[i]).bind(2, static_cast<std::int64_t>(out[i].token));
      stmt.bind_text(3, req.worker_id).bind(4, lease_expires);
      RUNQ_RETURN_IF_ERROR(stmt.run());
    }
  }
  if (out.empty()) return ok_status();
  RUNQ_ASSIGN_OR_RETURN(bool any_unique, sqlite::exists(c, Sql::kUniqueAny));
  for (std::size_t i = 0; any_unique && i < out.size(); ++i) {  // unique_until start
    RUNQ_RETURN_IF_ERROR(status_of(run_change(c, Sql::kUniqueReleaseStarted, out[i].id)));
  }
  return status_of(run_change(c, Sql::kAddCounter, "token", out.size()));
}

// Decides the tasks with limits among the rows read from out[first..]: a task that may start
// takes its rate token and concurrency slot; one that may not is moved aside (SCHEDULED until
// its rate slot, or parked until a concurrency slot frees) and dropped from `out` and `seqs`.
// Returns how many were moved aside.
Result<int> SqliteStore::admit_limited(
    Connection& c, const std::vector<std::pair<std::int64_t, TaskLimits>>& limited, Millis now,
    std::vector<std::int64_t>& seqs, std::vector<Delivery>& out, std::size_t first) {
  int refused = 0;
  std::size_t keep = first;
  std::size_t next_limited = 0;
  for (std::size_t i = first; i < out.size(); ++i) {
    bool admitted = true;
    if (next_limited < limited.size() && limited[next_limited].first == seqs[i]) {
      const TaskLimits& l = limited[next_limited++].second;
      RUNQ_ASSIGN_OR_RETURN(admitted, admit_one(c, seqs[i], out[i].id, l, now));
    }
    if (!admitted) {
      ++refused;
      continue;
    }
    if (keep != i) {
      seqs[keep] = seqs[i];
      out[keep] = std::move(out[i]);
    }
    ++keep;
  }
  seqs.resize(keep);
  out.resize(keep);
  return refused;
}

Result<bool> SqliteStore::admit_one(Connection& c, std::int64_t seq, const std::string& id,
                                    const TaskLimits& l, Millis now) {
  if (!l.concurrency_key.empty()) {
    RUNQ_ASSIGN_OR_RETURN(Statement held, c.statement(Sql::kSlotsHeld));
    held.bind_text(1, l.concurrency_key);
    RUNQ_ASSIGN_OR_RETURN(bool row, held.step());
    if (row && held.int64(0) >= l.max_concurrency) {
      RUNQ_RETURN_IF_ERROR(status_of(run_change(c, Sql::kMoveAside, seq, internal::kParkedEta)));
      RUNQ_RETURN_IF_ERROR(status_of(run_change(c, Sql::kParkLimits, id, seq)));
      return false;
    }
  }
  if (!l.rate_key.empty()) {
    internal::RateBucket b;
    {
      RUNQ_ASSIGN_OR_RETURN(Statement get, c.statement(Sql::kGetRateBucket));
      get.bind_text(1, l.rate_key);
      RUNQ_ASSIGN_OR_RETURN(bool row, get.step());
      if (row) b = {get.int64(0), get.int64(1), get.int64(2), get.int64(3), get.int64(4)};
    }
    const Millis again = internal::rate_take(b, l.rate_count, l.rate_period_ms, now);
    RUNQ_ASSIGN_OR_RETURN(Statement put, c.statement(Sql::kPutRateBucket));
    put.bind_text(1, l.rate_key).bind(2, l.rate_count).bind(3, l.rate_period_ms);
    put.bind(4, b.tat_us).bind(5, b.park_next_us).bind(6, b.window_start);
    put.bind(7, b.window_n).bind(8, b.previous_n);
    RUNQ_RETURN_IF_ERROR(put.run());
    if (again != 0) {
      RUNQ_RETURN_IF_ERROR(status_of(run_change(c, Sql::kMoveAside, seq, again)));
      return false;
    }
  }
  if (!l.concurrency_key.empty()) {
    RUNQ_RETURN_IF_ERROR(status_of(run_change(c, Sql::kTakeSlot, l.concurrency_key)));
  }
  return true;
}

Result<std::vector<bool>> SqliteStore::extend(std::span<const LeaseRef> leases, Millis lease_ms,
                                              Millis now) {
  return write("extending leases", [&](Connection& c) -> Result<std::vector<bool>> {
    std::vector<bool> held;
    held.reserve(leases.size());
    for (const LeaseRef& l : leases) {
      RUNQ_ASSIGN_OR_RETURN(std::int64_t n,
                            run_change(c, Sql::kExtend, l.id, l.token, now + lease_ms));
      held.push_back(n == 1);
    }
    return held;
  });
}

Result<std::vector<bool>> SqliteStore::settle(std::span<const Settlement> settlements, Millis now) {
  return write("settling tasks", [&](Connection& c) -> Result<std::vector<bool>> {
    std::vector<bool> applied;
    applied.reserve(settlements.size());
    SettleCounts counts;
    RUNQ_ASSIGN_OR_RETURN(bool any_limits, sqlite::exists(c, Sql::kAnyLimits));
    for (const Settlement& s : settlements) {
      RUNQ_RETURN_IF_ERROR(sqlite::check_dependencies(c, s.then.tasks, now));
    }
    RUNQ_ASSIGN_OR_RETURN(bool any_dependents, sqlite::any_dependents(c));
    for (const Settlement& s : settlements) {
      RUNQ_ASSIGN_OR_RETURN(bool ok, settle_one(c, s, now, counts));
      applied.push_back(ok);
      if (ok && any_limits) RUNQ_RETURN_IF_ERROR(limits_settled(c, s));
      if (!ok) continue;
      // Workflows: the end of a task releases or cancels its dependents, and its follow-ups
      // are added, in this same transaction.
      if (any_dependents && (s.outcome == Outcome::kAck || s.outcome == Outcome::kDeadLetter)) {
        TaskState end = s.outcome == Outcome::kAck ? s.state : TaskState::kDead;
        RUNQ_RETURN_IF_ERROR(sqlite::resolve_dependents(c, s.id, end, now));
      }
      for (const NewTask& t : s.then.tasks) RUNQ_RETURN_IF_ERROR(sqlite::insert_task(c, t, now));
      if (!s.then.tasks.empty()) any_dependents = true;
    }
    // A task that ended gives up its unique key.
    RUNQ_ASSIGN_OR_RETURN(bool any_unique, sqlite::exists(c, Sql::kUniqueAny));
    for (std::size_t i = 0; any_unique && i < settlements.size(); ++i) {
      const Outcome o = settlements[i].outcome;
      if (applied[i] && (o == Outcome::kAck || o == Outcome::kDeadLetter))
        RUNQ_RETURN_IF_ERROR(status_of(run_change(c, Sql::kUniqueRelease, settlements[i].id)));
    }
    // A settlement ends the revoke request of its task (the table is nearly always empty).
    RUNQ_ASSIGN_OR_RETURN(bool any_revoke, sqlite::exists(c, Sql::kAnyRevoke));
    for (std::size_t i = 0; any_revoke && i < settlements.size(); ++i) {
      if (applied[i])
        RUNQ_RETURN_IF_ERROR(status_of(run_change(c, Sql::kDeleteRevoke, settlements[i].id)));
    }
    const std::pair<const char*, std::int64_t> deltas[] = {{"completed", counts.completed},
                                                           {"failed", counts.failed},
                                                           {"duplicates", counts.duplicates}};
    for (const auto& [name, delta] : deltas) {
      if (delta != 0) RUNQ_RETURN_IF_ERROR(status_of(run_change(c, Sql::kAddCounter, name, delta)));
    }
    return applied;
  });
}

Result<bool> SqliteStore::settle_one(Connection& c, const Settlement& s, Millis now,
                                     SettleCounts& counts) {
  RUNQ_ASSIGN_OR_RETURN(std::int64_t changed, end_lease(c, s, now));
  if (changed != 1) {
    ++counts.duplicates;
    return false;
  }
  if (s.outcome == Outcome::kAck) {
    ++counts.completed;
    if (s.state == TaskState::kFailure) ++counts.failed;
  }
  if (!s.result.empty()) {
    RUNQ_ASSIGN_OR_RETURN(Statement stmt, c.statement(Sql::kPutResult));
    stmt.bind_text(1, s.id).bind_text(2, task_state_name(s.state)).bind_blob(3, s.result);
    stmt.bind(4, now + s.result_ttl);
    RUNQ_RETURN_IF_ERROR(stmt.run());
  } else if (s.outcome == Outcome::kAck) {
    // The finished task's state is kept for result_ttl even without a result value.
    RUNQ_RETURN_IF_ERROR(
        run_change(c, Sql::kFinishTask, s.id, task_state_name(s.state), now + s.result_ttl)
            .status());
  }
  return true;
}

// Applies the outcome to the task row if (id, token) holds the lease. Returns the rows changed:
// 0 when the holder is stale.
Result<std::int64_t> SqliteStore::end_lease(Connection& c, const Settlement& s, Millis now) {
  switch (s.outcome) {
    case Outcome::kAck:
      return run_change(c, Sql::kAckTask, s.id, s.token);
    case Outcome::kRelease:
      return run_change(c, Sql::kReleaseTask, s.id, s.token);
    case Outcome::kDeadLetter:
      return run_change(c, Sql::kDeadLetterTask, s.id, s.token, s.reason, now);
    case Outcome::kRetry:
      break;
  }
  RUNQ_ASSIGN_OR_RETURN(Statement stmt, c.statement(Sql::kRetryTask));
  stmt.bind_text(1, s.id).bind(2, static_cast<std::int64_t>(s.token));
  stmt.bind(3, s.retry_at);
  if (s.body.empty()) {
    stmt.bind_null(4);  // keeps the stored body
  } else {
    stmt.bind_blob(4, s.body);
  }
  RUNQ_RETURN_IF_ERROR(stmt.run());
  return static_cast<std::int64_t>(stmt.changes());
}

Status SqliteStore::set_progress(const LeaseRef& lease, double fraction) {
  return write("recording progress", [&](Connection& c) -> Status {
    RUNQ_ASSIGN_OR_RETURN(Statement stmt, c.statement(Sql::kSetProgress));
    stmt.bind_text(1, lease.id).bind(2, static_cast<std::int64_t>(lease.token)).bind(3, fraction);
    RUNQ_RETURN_IF_ERROR(stmt.run());
    if (stmt.changes() == 1) return ok_status();
    RUNQ_ASSIGN_OR_RETURN(Statement state, c.statement(Sql::kTaskState));
    state.bind_text(1, lease.id);
    RUNQ_ASSIGN_OR_RETURN(bool queued, state.step());
    RUNQ_ASSIGN_OR_RETURN(Statement result, c.statement(Sql::kResultExists));
    result.bind_text(1, lease.id);
    RUNQ_ASSIGN_OR_RETURN(bool finished, result.step());
    if (!queued && !finished) return not_found_error("no task with id '" + lease.id + "'");
    return failed_precondition_error("task " + lease.id + " is not held by token " +
                                     std::to_string(lease.token));
  });
}

Status SqliteStore::heartbeat(const WorkerInfo& info) {
  return write("recording a heartbeat", [&](Connection& c) { return sqlite::put_worker(c, info); });
}

Status SqliteStore::remove_worker(std::string_view worker_id) {
  return write("removing a worker", [&](Connection& c) -> Status {
    RUNQ_ASSIGN_OR_RETURN(std::int64_t n, run_change(c, Sql::kDeleteWorker, worker_id));
    RUNQ_RETURN_IF_ERROR(run_change(c, Sql::kDeleteWorkerActivity, worker_id).status());
    if (n == 0) return not_found_error("no worker '" + std::string(worker_id) + "'");
    return ok_status();
  });
}

// ---- waiting ------------------------------------------------------------------------------

// When wait_for_work must look again even if nothing is written: when the earliest eta (or
// lease end) comes, judged by the system clock; max() when there is none.
SteadyClock::time_point SqliteStore::due_time(const sqlite::WorkCheck& check) {
  if (!check.next_change) return SteadyClock::time_point::max();
  const Millis lag = system_now_ms() - *check.next_change;
  if (lag >= 0 && lag < kJustDueMs) return SteadyClock::now();
  // +1 ms: wake when the eta has passed on the caller's millisecond clock too.
  return lag >= 0 ? SteadyClock::now() + kStaleRecheck : deadline_after(1 - lag);
}

SteadyClock::time_point SqliteStore::with_commit_slack(SteadyClock::time_point until) {
  const auto now = SteadyClock::now();
  const auto changed = watcher_.last_change();
  if (now >= changed + kCommitSlack) return until;
  const auto since = now - changed;
  const auto recheck = now + std::max<SteadyClock::duration>(kFirstRecheck, since);
  return std::min({until, recheck, changed + kCommitSlack});
}

Result<sqlite::WorkCheck> SqliteStore::check_work(const std::vector<std::string>& queues) {
  return read("checking for work", [&](Connection& c) { return sqlite::query_work(c, queues); });
}

Status SqliteStore::wait_for_work(const std::vector<std::string>& queues, Millis timeout_ms) {
  const auto deadline = deadline_after(timeout_ms);
  for (;;) {
    const std::uint64_t seen = watcher_.generation();  // before looking: no change is missed
    RUNQ_ASSIGN_OR_RETURN(sqlite::WorkCheck check, check_work(queues));
    if (check.ready) return ok_status();
    const auto wake = std::min(deadline, due_time(check));
    if (wake <= SteadyClock::now()) return ok_status();
    const auto until = with_commit_slack(wake);
    if (watcher_.wait(seen, until)) continue;  // something was written: look again
    if (until == wake) return ok_status();     // the deadline, or a task may have come due
  }
}

Result<TaskInfo> SqliteStore::wait_task(std::string_view id, Millis timeout_ms) {
  const auto deadline = deadline_after(timeout_ms);
  for (;;) {
    const std::uint64_t seen = watcher_.generation();
    RUNQ_ASSIGN_OR_RETURN(TaskInfo info, get_task(id, kNoExpiry));
    if (is_final(info.state)) return info;
    const auto until = with_commit_slack(deadline);
    if (!watcher_.wait(seen, until) && until == deadline) {
      return deadline_exceeded_error("waiting for task " + std::string(id) + ": still " +
                                     std::string(task_state_name(info.state)) + " after " +
                                     std::to_string(timeout_ms) + " ms");
    }
  }
}

// ---- results and inspection ---------------------------------------------------------------

Result<TaskInfo> SqliteStore::get_task(std::string_view id, Millis now) {
  return read("getting a task", [&](Connection& c) { return sqlite::query_task(c, id, now); });
}

// All in one read transaction, on one connection with its prepared statement: a chord body
// reads its 100,000 members without 100,000 transactions.
Result<std::vector<Result<TaskInfo>>> SqliteStore::get_tasks(std::span<const std::string> ids,
                                                             Millis now) {
  return read("getting tasks", [&](Connection& c) -> Result<std::vector<Result<TaskInfo>>> {
    std::vector<Result<TaskInfo>> out;
    out.reserve(ids.size());
    for (const std::string& id : ids) {
      Result<TaskInfo> info = sqlite::query_task(c, id, now);
      if (!info.ok() && !is_not_found(info.status())) return info.status();
      out.push_back(std::move(info));
    }
    return out;
  });
}

Result<TaskPage> SqliteStore::list_tasks(const TaskFilter& filter, std::string_view cursor,
                                         std::size_t limit, Millis now) {
  RUNQ_ASSIGN_OR_RETURN(internal::ListCursor c, internal::parse_list_cursor(cursor));
  return read("listing tasks", [&](Connection& conn) {
    return sqlite::query_task_list(conn, filter, c, limit, now);
  });
}

Result<StoreStats> SqliteStore::stats(Millis now) {
  return read("reading stats", [&](Connection& c) { return sqlite::query_stats(c, now); });
}

Result<std::vector<DeadTask>> SqliteStore::list_dead(std::size_t limit) {
  return read("listing dead letters", [&](Connection& c) { return sqlite::query_dead(c, limit); });
}

// ---- admin --------------------------------------------------------------------------------

Result<std::int64_t> SqliteStore::retry_dead(std::span<const std::string> ids, Millis now) {
  return write("requeueing dead letters",
               [&](Connection& c) { return sqlite::requeue_dead(c, ids, now); });
}

Result<std::int64_t> SqliteStore::purge_dead() {
  return write("purging dead letters", [&](Connection& c) -> Result<std::int64_t> {
    const Millis any_time = std::numeric_limits<Millis>::max();
    RUNQ_RETURN_IF_ERROR(run_change(c, Sql::kUnlistDead, any_time).status());
    RUNQ_RETURN_IF_ERROR(run_change(c, Sql::kDeleteDeadResults, any_time).status());
    return run_change(c, Sql::kPurgeDead);
  });
}

Result<std::int64_t> SqliteStore::purge_queue(std::string_view queue) {
  return write("purging a queue", [&](Connection& c) -> Result<std::int64_t> {
    RUNQ_RETURN_IF_ERROR(run_change(c, Sql::kUnlistQueued, queue).status());
    RUNQ_RETURN_IF_ERROR(run_change(c, Sql::kDeleteQueuedResults, queue).status());
    RUNQ_RETURN_IF_ERROR(run_change(c, Sql::kUniqueReleaseQueued, queue).status());
    // Parked tasks leave the line for their slot now: free_slot looks at only a few stale
    // entries, so many of them could leave a later parked task waiting with its slot free.
    RUNQ_ASSIGN_OR_RETURN(bool any_limits, sqlite::exists(c, Sql::kAnyLimits));
    if (any_limits) RUNQ_RETURN_IF_ERROR(run_change(c, Sql::kDropQueuedLimits, queue).status());
    RUNQ_ASSIGN_OR_RETURN(std::int64_t pending, run_change(c, Sql::kPurgePending, queue));
    RUNQ_ASSIGN_OR_RETURN(std::int64_t scheduled, run_change(c, Sql::kPurgeScheduled, queue));
    return pending + scheduled;
  });
}

Result<std::int64_t> SqliteStore::cleanup(Millis now) {
  return write("cleaning up", [&](Connection& c) -> Result<std::int64_t> {
    RUNQ_RETURN_IF_ERROR(run_change(c, Sql::kUnlistExpired, now).status());
    RUNQ_ASSIGN_OR_RETURN(std::int64_t results, run_change(c, Sql::kCleanResults, now));
    const Millis died_before = now - options_.dead_retention_ms;
    RUNQ_RETURN_IF_ERROR(run_change(c, Sql::kUnlistDead, died_before).status());
    RUNQ_ASSIGN_OR_RETURN(std::int64_t dead_results,
                          run_change(c, Sql::kDeleteDeadResults, died_before));
    RUNQ_ASSIGN_OR_RETURN(std::int64_t dead, run_change(c, Sql::kCleanDead, died_before));
    RUNQ_ASSIGN_OR_RETURN(std::int64_t workers, run_change(c, Sql::kCleanWorkers, now));
    RUNQ_RETURN_IF_ERROR(run_change(c, Sql::kCleanWorkerActivity).status());
    // Limits of tasks purged or dead-lettered away (acks and revokes drop theirs at once).
    RUNQ_RETURN_IF_ERROR(run_change(c, Sql::kCleanLimits).status());
    RUNQ_RETURN_IF_ERROR(run_change(c, Sql::kUniqueCleanLapsed, now).status());
    RUNQ_RETURN_IF_ERROR(run_change(c, Sql::kCleanCanceled).status());
    return results + dead_results + dead + workers;
  });
}

// ---- revoke -------------------------------------------------------------------------------

Status SqliteStore::end_revoked(Connection& c, std::string_view id, std::string_view record,
                                Millis ttl, Millis now) {
  RUNQ_RETURN_IF_ERROR(status_of(run_change(c, Sql::kDeleteTask, id)));
  RUNQ_RETURN_IF_ERROR(status_of(run_change(c, Sql::kDeleteRevoke, id)));
  RUNQ_RETURN_IF_ERROR(status_of(run_change(c, Sql::kDeleteLimits, id)));
  RUNQ_RETURN_IF_ERROR(status_of(run_change(c, Sql::kUniqueRelease, id)));
  if (record.empty()) {
    RUNQ_RETURN_IF_ERROR(status_of(run_change(c, Sql::kFinishTask, id, "revoked", now + ttl)));
  } else {
    RUNQ_ASSIGN_OR_RETURN(Statement stmt, c.statement(Sql::kPutResult));
    stmt.bind_text(1, id).bind_text(2, "revoked").bind_blob(3, record).bind(4, now + ttl);
    RUNQ_RETURN_IF_ERROR(stmt.run());
  }
  RUNQ_RETURN_IF_ERROR(status_of(run_change(c, Sql::kDeleteWait, id)));  // if it was waiting
  RUNQ_RETURN_IF_ERROR(sqlite::resolve_dependents(c, id, TaskState::kRevoked, now));
  return status_of(run_change(c, Sql::kAddCounter, "completed", 1));
}

// Tasks revoked while reserved whose lease lapsed end REVOKED instead of going back to their
// queue.
Status SqliteStore::end_lapsed_revoked(Connection& c, Millis now) {
  RUNQ_ASSIGN_OR_RETURN(bool any_revoke, sqlite::exists(c, Sql::kAnyRevoke));
  if (!any_revoke) return ok_status();
  struct Lapsed {
    std::string id, record;
    Millis ttl;
  };
  std::vector<Lapsed> lapsed;
  {
    RUNQ_ASSIGN_OR_RETURN(Statement stmt, c.statement(Sql::kLapsedRevoked));
    stmt.bind(1, now);
    for (;;) {
      RUNQ_ASSIGN_OR_RETURN(bool row, stmt.step());
      if (!row) break;
      lapsed.push_back({stmt.str(0), stmt.str(1), stmt.int64(2)});
    }
  }
  for (const Lapsed& l : lapsed) RUNQ_RETURN_IF_ERROR(end_revoked(c, l.id, l.record, l.ttl, now));
  return ok_status();
}

Result<TaskState> SqliteStore::revoke(const Revocation& r, Millis now) {
  return write("revoking task " + r.id, [&](Connection& c) -> Result<TaskState> {
    std::optional<TaskState> queued;
    {
      RUNQ_ASSIGN_OR_RETURN(Statement stmt, c.statement(Sql::kTaskState));
      stmt.bind_text(1, r.id);
      RUNQ_ASSIGN_OR_RETURN(bool row, stmt.step());
      if (row) queued = parse_task_state(stmt.view(0));
    }
    if (!queued) {
      RUNQ_ASSIGN_OR_RETURN(Statement stmt, c.statement(Sql::kResultState));
      stmt.bind_text(1, r.id).bind(2, now);
      RUNQ_ASSIGN_OR_RETURN(bool row, stmt.step());
      std::optional<TaskState> state = row ? parse_task_state(stmt.view(0)) : std::nullopt;
      if (!state || !is_final(*state)) return not_found_error("no task '" + r.id + "'");
      return *state;
    }
    switch (*queued) {
      case TaskState::kDead:
        return TaskState::kDead;
      case TaskState::kReserved: {
        RUNQ_ASSIGN_OR_RETURN(Statement stmt, c.statement(Sql::kPutRevoke));
        stmt.bind_text(1, r.id).bind(2, std::int64_t{r.terminate ? 1 : 0});
        stmt.bind_blob(3, r.result).bind(4, r.result_ttl);
        RUNQ_RETURN_IF_ERROR(stmt.run());
        return TaskState::kReserved;
      }
      default:
        RUNQ_RETURN_IF_ERROR(end_revoked(c, r.id, r.result, r.result_ttl, now));
        return TaskState::kRevoked;
    }
  });
}

Result<std::vector<RevokeRequest>> SqliteStore::revoke_requests(std::span<const std::string> ids) {
  return read("reading revoke requests", [&](Connection& c) -> Result<std::vector<RevokeRequest>> {
    std::vector<RevokeRequest> out;
    RUNQ_ASSIGN_OR_RETURN(bool any_revoke, sqlite::exists(c, Sql::kAnyRevoke));
    if (!any_revoke) return out;
    for (const std::string& id : ids) {
      RUNQ_ASSIGN_OR_RETURN(Statement stmt, c.statement(Sql::kGetRevoke));
      stmt.bind_text(1, id);
      RUNQ_ASSIGN_OR_RETURN(bool row, stmt.step());
      if (row) out.push_back({id, stmt.int64(0) != 0});
    }
    return out;
  });
}

// ---- periodic schedules -------------------------------------------------------------------

Result<bool> SqliteStore::claim_tick(std::string_view schedule, Millis tick, const NewTask& task,
                                     Millis now) {
  return write("claiming a schedule tick", [&](Connection& c) -> Result<bool> {
    RUNQ_RETURN_IF_ERROR(run_change(c, Sql::kEnsureSchedule, schedule).status());
    RUNQ_ASSIGN_OR_RETURN(Statement state, c.statement(Sql::kGetSchedule));
    state.bind_text(1, schedule);
    RUNQ_ASSIGN_OR_RETURN(bool found, state.step());
    if (!found) return internal_error("schedule row vanished inside a transaction");
    if (state.int32(1) != 0 || state.int64(0) >= tick) return false;
    RUNQ_RETURN_IF_ERROR(check_room(c, std::span(&task, 1)));
    RUNQ_RETURN_IF_ERROR(run_change(c, Sql::kSetLastTick, schedule, tick).status());
    RUNQ_RETURN_IF_ERROR(sqlite::insert_task(c, task, now));
    return true;
  });
}

Result<std::vector<ScheduleState>> SqliteStore::list_schedules() {
  return read("listing schedules", [&](Connection& c) { return sqlite::query_schedules(c); });
}

Status SqliteStore::put_schedule_info(std::string_view schedule, std::string_view info) {
  return write("registering a schedule", [&](Connection& c) {
    return run_change(c, Sql::kPutScheduleInfo, schedule, info).status();
  });
}

Status SqliteStore::set_schedule_paused(std::string_view schedule, bool paused) {
  return write("pausing a schedule", [&](Connection& c) -> Status {
    RUNQ_ASSIGN_OR_RETURN(std::int64_t n, run_change(c, Sql::kSetPaused, schedule, paused ? 1 : 0));
    if (n == 0) return not_found_error("no schedule '" + std::string(schedule) + "'");
    return ok_status();
  });
}

// ---- flow control: queue pause and limits --------------------------------------------------

Status SqliteStore::set_queue_paused(std::string_view queue, bool paused) {
  return write(paused ? "pausing a queue" : "resuming a queue", [&](Connection& c) -> Status {
    RUNQ_RETURN_IF_ERROR(run_change(c, Sql::kSetQueuePaused, queue, paused ? 1 : 0).status());
    return run_change(c, Sql::kDropQueueControl, queue).status();
  });
}

Status SqliteStore::set_queue_limit(std::string_view queue, std::int64_t max_length) {
  return write("limiting a queue", [&](Connection& c) -> Status {
    RUNQ_RETURN_IF_ERROR(run_change(c, Sql::kSetQueueLimit, queue, max_length).status());
    return run_change(c, Sql::kDropQueueControl, queue).status();
  });
}

Result<std::vector<QueueControl>> SqliteStore::queue_controls() {
  return read("reading queue controls", [&](Connection& c) -> Result<std::vector<QueueControl>> {
    RUNQ_ASSIGN_OR_RETURN(Statement stmt, c.statement(Sql::kListQueueControls));
    std::vector<QueueControl> out;
    for (;;) {
      RUNQ_ASSIGN_OR_RETURN(bool row, stmt.step());
      if (!row) return out;
      out.push_back({stmt.str(0), stmt.int32(1) != 0, stmt.int64(2)});
    }
  });
}

Result<std::vector<RateLimitState>> SqliteStore::rate_limits(Millis now) {
  return read("reading rate limits", [&](Connection& c) -> Result<std::vector<RateLimitState>> {
    RUNQ_ASSIGN_OR_RETURN(Statement stmt, c.statement(Sql::kListRateBuckets));
    std::vector<RateLimitState> out;
    for (;;) {
      RUNQ_ASSIGN_OR_RETURN(bool row, stmt.step());
      if (!row) return out;
      const internal::RateBucket b{stmt.int64(3), stmt.int64(4), stmt.int64(5), stmt.int64(6),
                                   stmt.int64(7)};
      const std::int64_t count = stmt.int64(1);
      const Millis period = stmt.int64(2);
      out.push_back({stmt.str(0), count, period, internal::rate_started_last_period(b, period, now),
                     internal::rate_next_free_ms(b, count, period, now)});
    }
  });
}

// Inside the enqueue's write transaction, so no other writer can fill the queue meanwhile.
Status SqliteStore::check_room(Connection& c, std::span<const NewTask> tasks) {
  std::vector<std::pair<std::string, std::int64_t>> limited;
  {
    RUNQ_ASSIGN_OR_RETURN(Statement stmt, c.statement(Sql::kLimitedQueues));
    for (;;) {
      RUNQ_ASSIGN_OR_RETURN(bool row, stmt.step());
      if (!row) break;
      limited.emplace_back(stmt.str(0), stmt.int64(1));
    }
  }
  for (const auto& [queue, max_length] : limited) {
    const auto adding = std::count_if(tasks.begin(), tasks.end(),
                                      [&q = queue](const NewTask& t) { return t.queue == q; });
    if (adding == 0) continue;
    if (adding > max_length) return internal::queue_full_error(queue, max_length);
    RUNQ_ASSIGN_OR_RETURN(Statement stmt, c.statement(Sql::kQueuedLength));
    stmt.bind_text(1, queue).bind(2, max_length);
    RUNQ_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (row && stmt.int64(0) + adding > max_length) {
      return internal::queue_full_error(queue, max_length);
    }
  }
  return ok_status();
}

// Creates the schema on first use; refuses files of a newer schema or not in WAL mode.
Status prepare_database(Connection& c) {
  {
    RUNQ_ASSIGN_OR_RETURN(Statement mode, c.statement(Sql::kJournalMode));
    RUNQ_ASSIGN_OR_RETURN(bool row, mode.step());
    if (!row || mode.view(0) != "wal") {
      return failed_precondition_error("cannot use WAL mode (journal_mode is '" +
                                       (row ? mode.str(0) : std::string()) + "')");
    }
  }
  std::int64_t version = 0;
  {
    RUNQ_ASSIGN_OR_RETURN(Statement stmt, c.statement(Sql::kUserVersion));
    RUNQ_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (row) version = stmt.int64(0);
  }
  if (version == sqlite::kSchemaVersion) return ok_status();
  if (version > sqlite::kSchemaVersion) {
    return failed_precondition_error("schema version " + std::to_string(version) +
                                     " is newer than this runq understands (" +
                                     std::to_string(sqlite::kSchemaVersion) + ")");
  }
  sqlite::Transaction txn(c);
  RUNQ_RETURN_IF_ERROR(txn.begin(/*write=*/true));
  RUNQ_RETURN_IF_ERROR(c.exec(sqlite::kCreateSchema));
  return txn.commit();
}

}  // namespace

Result<std::unique_ptr<Store>> new_sqlite_store(const SqliteStoreOptions& options) {
  if (options.path.empty() || options.path == ":memory:" || options.path.starts_with("file:")) {
    return invalid_argument_error("opening sqlite database '" + options.path +
                                  "': needs a file path (use memory: for an in-process store)");
  }
  const sqlite::ConnectionOptions conn_options{options.path,
                                               std::chrono::milliseconds(options.busy_timeout_ms)};
  // Switching a new file to WAL and creating the schema take locks for which SQLite does not
  // always call the busy handler, so several processes opening one new file at once retry
  // here, within the same busy timeout.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options.busy_timeout_ms);
  for (int attempt = 0;; ++attempt) {
    Result<std::unique_ptr<Connection>> conn = Connection::open(conn_options);
    Status s = conn.ok() ? prepare_database(**conn) : conn.status();
    if (s.ok()) {
      return checked_store(
          std::unique_ptr<Store>(new SqliteStore(options, conn_options, std::move(*conn))),
          options.max_body_bytes);
    }
    if (!is_unavailable(s) || std::chrono::steady_clock::now() >= deadline) {
      return conn.ok() ? s.with_context("opening sqlite database '" + options.path + "'") : s;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1 << std::min(attempt, 5), 20)));
  }
}

Result<SqliteStoreOptions> parse_sqlite_url(std::string_view url) {
  SqliteStoreOptions opts;
  opts.path = std::string(url.substr(std::min<std::size_t>(url.size(), 7)));  // after "sqlite:"
  if (opts.path.starts_with("//")) opts.path = opts.path.substr(2);           // sqlite://path
  if (opts.path.empty())
    return invalid_argument_error("opening store: 'sqlite:' needs a path, e.g. sqlite:runq.db");
  return opts;
}

StoreBackendInfo sqlite_store_backend() {
  auto open = [](std::string_view url) -> Result<std::unique_ptr<Store>> {
    RUNQ_ASSIGN_OR_RETURN(SqliteStoreOptions opts, parse_sqlite_url(url));
    return new_sqlite_store(opts);
  };
  return {"sqlite", "sqlite:PATH", open, {"sqlite:{dir}/runq.db", "", true}};
}

}  // namespace runq
