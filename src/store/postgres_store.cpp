// The PostgreSQL store. Schema, migrations and the server-side functions:
// src/store/postgres/migrations/*.sql. Each hot call is one statement, one round trip:
// enqueue, reserve and settle call the functions enqueue_tasks, reserve_tasks and
// settle_tasks with arrays (a whole batch at once); reserve takes rows with
// FOR UPDATE SKIP LOCKED, so concurrent workers never wait on each other.
//
// Finished tasks leave the hot `tasks` table (their outcome goes to `results`), so it holds the
// backlog only. Fencing tokens come from a sequence. Idle workers block on LISTEN/NOTIFY
// (store/postgres/listener.hpp), with a poll every poll_ms as the fallback.
//
// Connections: a pool; a connection found broken is dropped and the next call opens a new one,
// so a restarted server is picked up by itself (calls meanwhile return Unavailable).
#include "store/postgres_store.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <unordered_set>
#include <utility>

#include <nlohmann/json.hpp>

#include "store/backend.hpp"
#include "store/postgres/connection.hpp"
#include "store/postgres/listener.hpp"
#include "store/postgres/schema.hpp"
#include "store/rate_bucket.hpp"
#include "store/task_list.hpp"

namespace runq {
namespace {

using pg::Connection;
using pg::Params;
using pg::Rows;
using SteadyClock = std::chrono::steady_clock;

constexpr Millis kNoExpiry = std::numeric_limits<Millis>::min();
// As in the sqlite store: a scheduled task (or lapsed lease) this recently due is work; one
// due for longer was seen by a reserve() whose `now` lags (a manual clock in tests).
constexpr Millis kJustDueMs = 50;
constexpr auto kStaleRecheck = std::chrono::milliseconds(100);
constexpr Millis kLongestWaitMs = 10LL * 365 * 24 * 3600 * 1000;
// cleanup() removes at most this many rows of each kind per call.
constexpr int kCleanupResults = 10'000;
constexpr int kCleanupDead = 1'000;

SteadyClock::time_point deadline_after(Millis timeout_ms) {
  return SteadyClock::now() +
         std::chrono::milliseconds(std::clamp<Millis>(timeout_ms, 0, kLongestWaitMs));
}

Millis system_now_ms() { return to_millis(std::chrono::system_clock::now().time_since_epoch()); }

// Text sent as a text parameter must not hold a NUL byte (libpq ends it there).
Status check_text(std::string_view what, std::string_view value) {
  if (value.find('\0') == std::string_view::npos) return ok_status();
  return invalid_argument_error(std::string(what) + " contains a NUL byte");
}

Result<TaskState> state_of(std::string_view name) {
  std::optional<TaskState> state = parse_task_state(name);
  if (!state)
    return data_loss_error("unknown task state '" + std::string(name) + "' in the database");
  return *state;
}

class PostgresStore final : public Store {
 public:
  PostgresStore(const PostgresStoreOptions& options, std::unique_ptr<Connection> first)
      : options_(options),
        s_(options.schema),
        pool_(options.conninfo),
        listener_(options.conninfo, pg::notify_channel(options.schema)) {
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
  Status set_queue_paused(std::string_view queue, bool paused) override;
  Status set_queue_limit(std::string_view queue, std::int64_t max_length) override;
  Result<std::vector<QueueControl>> queue_controls() override;
  Result<bool> claim_tick(std::string_view schedule, Millis tick, const NewTask& task,
                          Millis now) override;
  Result<std::vector<std::string>> enqueue_unique(std::span<const NewTask> tasks,
                                                  Millis now) override;
  Result<std::vector<ScheduleState>> list_schedules() override;
  Status put_schedule_info(std::string_view schedule, std::string_view info) override;
  Status set_schedule_paused(std::string_view schedule, bool paused) override;
  bool supports_workflows() const override { return true; }
  // Rate limits on the server's clock, per-key concurrency in the tasks' rows (migration 0009).
  bool enforces_task_limits() const override { return true; }
  Result<std::vector<RateLimitState>> rate_limits(Millis now) override;

 private:
  // Flow control: the limits of those of `tasks` that have any, recorded in the caller's
  // transaction after they were added (limits_record, migration 0009).
  Status record_limits(Connection& c, std::span<const NewTask> tasks, std::string_view what);
  // Flow control: a text[] expression of the queues in `param` that are not paused.
  std::string unpaused(std::string_view param) const;
  Status set_queue_control(std::string_view queue, std::string_view column, std::int64_t value,
                           std::string_view what);
  // Runs fn(Connection&) on a pooled connection; errors get `what` as context.
  template <typename Fn>
  auto with_conn(std::string_view what, Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    using R = decltype(fn(std::declval<Connection&>()));
    Result<pg::ConnectionPool::Lease> conn = pool_.acquire();
    if (!conn.ok()) return R(conn.status().with_context(what));
    return fn(**conn);
  }
  // The same inside BEGIN ... COMMIT.
  template <typename Fn>
  auto transact(std::string_view what, Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    return with_conn(what, [&](Connection& c) { return pg::in_transaction(c, what, fn); });
  }
  Result<Rows> exec(std::string_view sql, Params& p, std::string_view what) {
    return with_conn(what, [&](Connection& c) { return c.exec(sql, p, what); });
  }

  Status insert_tasks(Connection& c, std::span<const NewTask> tasks, Millis now,
                      std::string_view what);
  // Workflows (migration 0007): linked tasks added by wf_add_all, after a check that their
  // dependencies outside `tasks` exist.
  Status insert_linked(Connection& c, std::span<const NewTask> all, Millis now,
                       std::string_view what);
  void notify();
  SteadyClock::time_point due_time(std::optional<Millis> next_change);
  SteadyClock::time_point with_poll(SteadyClock::time_point until);

  const PostgresStoreOptions options_;
  const std::string s_;  // the schema, for SQL text
  pg::ConnectionPool pool_;
  pg::Listener listener_;
};

// ---- producers ----------------------------------------------------------------------------

// Parallel arrays of linked tasks for wf_add_all / wf_settle_tasks (migration 0007).
struct LinkedArrays {
  std::vector<std::int64_t> owners, priorities, etas, maxd;
  std::vector<std::string_view> ids, queues, tasks, allow, canceled;
  std::vector<std::string> deps_text;
  std::vector<std::optional<std::string_view>> bodies;

  Status add(const NewTask& t, std::int64_t owner) {
    RUNQ_RETURN_IF_ERROR(check_text("task id", t.id));
    RUNQ_RETURN_IF_ERROR(check_text("queue name", t.queue));
    owners.push_back(owner);
    ids.push_back(t.id);
    queues.push_back(t.queue);
    priorities.push_back(t.priority);
    etas.push_back(t.eta);
    maxd.push_back(t.max_deliveries);
    bodies.emplace_back(t.body);
    tasks.push_back(t.task);
    std::string d;
    for (const std::string& dep : t.links.depends_on) {
      RUNQ_RETURN_IF_ERROR(check_text("dependency id", dep));
      if (!d.empty()) d += '\x1f';
      d += dep;
    }
    deps_text.push_back(std::move(d));
    allow.push_back(t.links.allow_dependency_failure ? "t" : "f");
    canceled.push_back(t.links.canceled);
    return ok_status();
  }
  // $n.. : ids, queues, priorities, etas, max_deliveries, bodies, task names, dependencies,
  // allow flags, canceled reasons.
  void bind(Params& p) const {
    std::vector<std::string_view> deps(deps_text.begin(), deps_text.end());
    p.text_array(ids).text_array(queues).int_array(priorities).int_array(etas).int_array(maxd);
    p.bytea_array(bodies).text_array(tasks).text_array(deps).text_array(allow);
    p.text_array(canceled);
  }
};

Status PostgresStore::insert_tasks(Connection& c, std::span<const NewTask> tasks, Millis now,
                                   std::string_view what) {
  std::vector<std::string_view> ids, queues, names;
  std::vector<std::int64_t> priorities, etas, max_deliveries;
  std::vector<std::optional<std::string_view>> bodies;
  for (const NewTask& t : tasks) {
    RUNQ_RETURN_IF_ERROR(check_text("task id", t.id));
    RUNQ_RETURN_IF_ERROR(check_text("queue name", t.queue));
    ids.push_back(t.id);
    queues.push_back(t.queue);
    names.push_back(t.task);
    priorities.push_back(t.priority);
    etas.push_back(t.eta);
    max_deliveries.push_back(t.max_deliveries);
    bodies.emplace_back(t.body);
  }
  Params p;
  p.text_array(ids).text_array(queues).int_array(priorities).int_array(etas);
  p.int_array(max_deliveries).bytea_array(bodies).num(now).text_array(names);
  return c
      .exec("SELECT " + s_ +
                ".enqueue_tasks($1::text[], $2::text[], $3::integer[], $4::bigint[], "
                "$5::integer[], $6::bytea[], $7, $8::text[]) FROM " +
                s_ + ".check_queue_room($2::text[])",
            p, what)
      .status();
}

bool any_limits(std::span<const NewTask> tasks) {
  return std::any_of(tasks.begin(), tasks.end(),
                     [](const NewTask& t) { return !t.limits.empty(); });
}

Status PostgresStore::record_limits(Connection& c, std::span<const NewTask> tasks,
                                    std::string_view what) {
  std::vector<std::string_view> ids, rate_keys, conc_keys;
  std::vector<std::int64_t> counts, periods, maxes;
  for (const NewTask& t : tasks) {
    if (t.limits.empty()) continue;
    RUNQ_RETURN_IF_ERROR(check_text("rate limit key", t.limits.rate_key));
    RUNQ_RETURN_IF_ERROR(check_text("concurrency key", t.limits.concurrency_key));
    ids.push_back(t.id);
    rate_keys.push_back(t.limits.rate_key);
    counts.push_back(t.limits.rate_count);
    periods.push_back(t.limits.rate_period_ms);
    conc_keys.push_back(t.limits.concurrency_key);
    maxes.push_back(t.limits.max_concurrency);
  }
  if (ids.empty()) return ok_status();
  Params p;
  p.text_array(ids).text_array(rate_keys).int_array(counts).int_array(periods);
  p.text_array(conc_keys).int_array(maxes);
  return c
      .exec("SELECT " + s_ +
                ".limits_record($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], "
                "$6::integer[])",
            p, what)
      .status();
}

Status PostgresStore::enqueue(std::span<const NewTask> tasks, Millis now) {
  if (tasks.empty()) return ok_status();
  const std::string_view what = "enqueueing tasks";
  const bool limited = any_limits(tasks);
  if (std::none_of(tasks.begin(), tasks.end(), [](const NewTask& t) { return t.links.any(); })) {
    if (!limited) {
      return with_conn(what, [&](Connection& c) { return insert_tasks(c, tasks, now, what); });
    }
    return transact(what, [&](Connection& c) -> Status {
      RUNQ_RETURN_IF_ERROR(insert_tasks(c, tasks, now, what));
      return record_limits(c, tasks, what);
    });
  }
  return transact(what, [&](Connection& c) -> Status {
    // Bounded queues: the whole batch counts, linked tasks included, before anything is added.
    std::vector<std::string_view> queues;
    std::vector<NewTask> plain;
    for (const NewTask& t : tasks) {
      queues.push_back(t.queue);
      if (!t.links.any()) plain.push_back(t);
    }
    Params room;
    room.text_array(queues);
    RUNQ_RETURN_IF_ERROR(
        c.exec("SELECT " + s_ + ".check_queue_room($1::text[])", room, what).status());
    if (!plain.empty()) RUNQ_RETURN_IF_ERROR(insert_tasks(c, plain, now, what));
    RUNQ_RETURN_IF_ERROR(insert_linked(c, tasks, now, what));
    return limited ? record_limits(c, tasks, what) : ok_status();
  });
}

Status PostgresStore::insert_linked(Connection& c, std::span<const NewTask> all, Millis now,
                                    std::string_view what) {
  std::unordered_set<std::string_view> batch;
  std::vector<std::string_view> outside;
  for (const NewTask& t : all) {
    for (const std::string& d : t.links.depends_on) {
      if (batch.count(d) == 0) outside.push_back(d);
    }
    batch.insert(t.id);
  }
  if (!outside.empty()) {
    Params p;
    p.text_array(outside).num(now);
    RUNQ_ASSIGN_OR_RETURN(Rows rows,
                          c.exec("SELECT " + s_ + ".wf_missing($1::text[], $2)", p, what));
    if (rows.size() == 1 && !rows.is_null(0, 0)) {
      const std::string dep(rows.view(0, 0));
      for (const NewTask& t : all) {
        if (std::find(t.links.depends_on.begin(), t.links.depends_on.end(), dep) !=
            t.links.depends_on.end()) {
          return invalid_argument_error("enqueueing task '" + t.id + "': dependency '" + dep +
                                        "' does not exist (never enqueued, or its record "
                                        "expired)");
        }
      }
    }
  }
  LinkedArrays a;
  for (const NewTask& t : all) {
    if (t.links.any()) RUNQ_RETURN_IF_ERROR(a.add(t, 0));
  }
  if (a.ids.empty()) return ok_status();
  Params p;
  a.bind(p);
  p.num(now);
  return c
      .exec("SELECT " + s_ +
                ".wf_add_all($1::text[], $2::text[], $3::integer[], $4::bigint[], "
                "$5::integer[], $6::bytea[], $7::text[], $8::text[], $9::text[], "
                "$10::text[], $11)",
            p, what)
      .status();
}

// One call of enqueue_unique_tasks (migration 0008), after the bounded queues' check.
Result<std::vector<std::string>> PostgresStore::enqueue_unique(std::span<const NewTask> tasks,
                                                               Millis now) {
  if (tasks.empty()) return std::vector<std::string>();
  std::vector<std::string_view> ids, queues, names, keys;
  std::vector<std::int64_t> priorities, etas, max_deliveries, for_ms, until_start;
  std::vector<std::optional<std::string_view>> bodies;
  for (const NewTask& t : tasks) {
    RUNQ_RETURN_IF_ERROR(check_text("task id", t.id));
    RUNQ_RETURN_IF_ERROR(check_text("queue name", t.queue));
    RUNQ_RETURN_IF_ERROR(check_text("unique key", t.unique.key));
    ids.push_back(t.id);
    queues.push_back(t.queue);
    names.push_back(t.task);
    priorities.push_back(t.priority);
    etas.push_back(t.eta);
    max_deliveries.push_back(t.max_deliveries);
    bodies.emplace_back(t.body);
    keys.push_back(t.unique.key);
    for_ms.push_back(t.unique.for_ms);
    until_start.push_back(t.unique.until_start ? 1 : 0);
  }
  Params p;
  p.text_array(ids).text_array(queues).int_array(priorities).int_array(etas);
  p.int_array(max_deliveries).bytea_array(bodies).num(now).text_array(names);
  p.text_array(keys).int_array(for_ms).int_array(until_start);
  const std::string_view what = "enqueueing tasks";
  const std::string sql =
      "SELECT u.h FROM (SELECT " + s_ +
      ".enqueue_unique_tasks($1::text[], $2::text[], $3::integer[], $4::bigint[], "
      "$5::integer[], $6::bytea[], $7, $8::text[], $9::text[], $10::bigint[], "
      "$11::integer[]) AS a FROM " +
      s_ +
      ".check_queue_room($2::text[])) s, unnest(s.a) WITH ORDINALITY AS u(h, ord) "
      "ORDER BY u.ord";
  RUNQ_ASSIGN_OR_RETURN(Rows rows, !any_limits(tasks)
                                       ? exec(sql, p, what)
                                       : transact(what, [&](Connection& c) -> Result<Rows> {
                                           RUNQ_ASSIGN_OR_RETURN(Rows added, c.exec(sql, p, what));
                                           RUNQ_RETURN_IF_ERROR(record_limits(c, tasks, what));
                                           return added;
                                         }));
  if (rows.size() != static_cast<int>(tasks.size())) {
    return internal_error("enqueueing tasks: expected " + std::to_string(tasks.size()) +
                          " rows, got " + std::to_string(rows.size()));
  }
  std::vector<std::string> held;
  held.reserve(tasks.size());
  for (int i = 0; i < rows.size(); ++i) held.push_back(rows.str(i, 0));
  return held;
}

void PostgresStore::notify() {
  Params p;
  p.text(pg::notify_channel(s_));
  (void)exec("SELECT pg_notify($1, 'w')", p, "waking workers");
}

// ---- workers ------------------------------------------------------------------------------

Result<std::vector<Delivery>> PostgresStore::reserve(const ReserveRequest& req) {
  std::vector<std::string_view> queues(req.queues.begin(), req.queues.end());
  for (std::string_view q : queues) RUNQ_RETURN_IF_ERROR(check_text("queue name", q));
  RUNQ_RETURN_IF_ERROR(check_text("worker id", req.worker_id));
  Params p;
  p.text_array(queues).text(req.worker_id).num(req.max).num(req.lease_ms).num(req.now);
  RUNQ_ASSIGN_OR_RETURN(Rows rows,
                        exec("SELECT id, queue, body, token, deliveries, priority, seq FROM " + s_ +
                                 ".limits_reserve_tasks(" + unpaused("$1") + ", $2, $3, $4, $5)",
                             p, "reserving tasks"));
  struct Row {
    std::size_t queue_rank;
    int priority;
    std::int64_t seq;
    int index;
  };
  std::vector<Row> order;
  order.reserve(static_cast<std::size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    const std::string_view q = rows.view(i, 1);
    const auto rank = static_cast<std::size_t>(std::find(req.queues.begin(), req.queues.end(), q) -
                                               req.queues.begin());
    order.push_back({rank, rows.int32(i, 5), rows.int64(i, 6), i});
  }
  // Queue preference first, then priority 9..0, then FIFO: the order a worker runs them in.
  std::sort(order.begin(), order.end(), [](const Row& a, const Row& b) {
    if (a.queue_rank != b.queue_rank) return a.queue_rank < b.queue_rank;
    if (a.priority != b.priority) return a.priority > b.priority;
    return a.seq < b.seq;
  });
  std::vector<Delivery> out;
  out.reserve(order.size());
  for (const Row& r : order) {
    Delivery& d = out.emplace_back();
    d.id = rows.view(r.index, 0);
    d.queue = rows.view(r.index, 1);
    d.body = rows.view(r.index, 2);
    d.token = static_cast<std::uint64_t>(rows.int64(r.index, 3));
    d.deliveries = rows.int32(r.index, 4);
    d.lease_expires = req.now + req.lease_ms;
  }
  return out;
}

Result<std::vector<bool>> PostgresStore::extend(std::span<const LeaseRef> leases, Millis lease_ms,
                                                Millis now) {
  std::vector<bool> held(leases.size(), false);
  if (leases.empty()) return held;
  std::vector<std::string_view> ids;
  std::vector<std::int64_t> tokens;
  for (const LeaseRef& l : leases) {
    RUNQ_RETURN_IF_ERROR(check_text("task id", l.id));
    ids.push_back(l.id);
    tokens.push_back(static_cast<std::int64_t>(l.token));
  }
  Params p;
  p.text_array(ids).int_array(tokens).num(now + lease_ms);
  RUNQ_ASSIGN_OR_RETURN(
      Rows rows,
      exec("SELECT " + s_ + ".extend_leases($1::text[], $2::bigint[], $3)", p, "extending leases"));
  for (int i = 0; i < rows.size(); ++i) {
    const std::int64_t pos = rows.int64(i, 0);
    if (pos >= 1 && pos <= static_cast<std::int64_t>(held.size())) {
      held[static_cast<std::size_t>(pos - 1)] = true;
    }
  }
  return held;
}

Result<std::vector<bool>> PostgresStore::settle(std::span<const Settlement> settlements,
                                                Millis now) {
  if (settlements.empty()) return std::vector<bool>{};
  std::vector<std::string_view> ids, states, reasons;
  std::vector<std::int64_t> tokens, outcomes, ttls, retry_at;
  std::vector<std::optional<std::string_view>> results, bodies;
  for (const Settlement& s : settlements) {
    RUNQ_RETURN_IF_ERROR(check_text("task id", s.id));
    RUNQ_RETURN_IF_ERROR(check_text("dead-letter reason", s.reason));
    ids.push_back(s.id);
    tokens.push_back(static_cast<std::int64_t>(s.token));
    int outcome = 0;
    switch (s.outcome) {
      case Outcome::kAck:
        outcome = 0;
        break;
      case Outcome::kRetry:
        outcome = 1;
        break;
      case Outcome::kDeadLetter:
        outcome = 2;
        break;
      case Outcome::kRelease:
        outcome = 3;
        break;
    }
    outcomes.push_back(outcome);
    states.push_back(task_state_name(s.state));
    results.push_back(s.result.empty() ? std::nullopt : std::optional<std::string_view>(s.result));
    ttls.push_back(s.result_ttl);
    retry_at.push_back(s.retry_at);
    bodies.push_back(s.outcome == Outcome::kRetry && !s.body.empty()
                         ? std::optional<std::string_view>(s.body)
                         : std::nullopt);
    reasons.push_back(s.reason);
  }
  // Workflows: follow-ups, added by wf_settle_tasks for the settlements it applies.
  LinkedArrays follow_ups;
  for (std::size_t i = 0; i < settlements.size(); ++i) {
    for (const NewTask& t : settlements[i].then.tasks) {
      RUNQ_RETURN_IF_ERROR(follow_ups.add(t, static_cast<std::int64_t>(i + 1)));
    }
  }
  Params p;
  p.text_array(ids).int_array(tokens).int_array(outcomes).text_array(states);
  p.bytea_array(results).int_array(ttls).int_array(retry_at).bytea_array(bodies);
  p.text_array(reasons).num(now);
  p.int_array(follow_ups.owners);
  follow_ups.bind(p);
  const std::string sql = "SELECT " + s_ +
                          ".wf_settle_tasks($1::text[], $2::bigint[], $3::integer[], $4::text[], "
                          "$5::bytea[], $6::bigint[], $7::bigint[], $8::bytea[], $9::text[], "
                          "$10, $11::integer[], $12::text[], $13::text[], $14::integer[], "
                          "$15::bigint[], $16::integer[], $17::bytea[], $18::text[], "
                          "$19::text[], $20::text[], $21::text[])::text";
  // Follow-ups with limits record them in the same transaction (those not added are skipped).
  std::vector<NewTask> limited;
  for (const Settlement& s : settlements) {
    for (const NewTask& t : s.then.tasks) {
      if (!t.limits.empty()) limited.push_back(t);
    }
  }
  const std::string_view what = "settling tasks";
  RUNQ_ASSIGN_OR_RETURN(Rows rows, limited.empty()
                                       ? exec(sql, p, what)
                                       : transact(what, [&](Connection& c) -> Result<Rows> {
                                           RUNQ_ASSIGN_OR_RETURN(Rows r, c.exec(sql, p, what));
                                           RUNQ_RETURN_IF_ERROR(record_limits(c, limited, what));
                                           return r;
                                         }));
  // "{t,f,t}"
  std::vector<bool> applied;
  applied.reserve(settlements.size());
  if (rows.size() == 1) {
    for (char ch : rows.view(0, 0)) {
      if (ch == 't' || ch == 'f') applied.push_back(ch == 't');
    }
  }
  if (applied.size() != settlements.size()) {
    return internal_error("settling tasks: the server returned " + std::to_string(applied.size()) +
                          " flags for " + std::to_string(settlements.size()) + " settlements");
  }
  return applied;
}

Status PostgresStore::set_progress(const LeaseRef& lease, double fraction) {
  RUNQ_RETURN_IF_ERROR(check_text("task id", lease.id));
  Params p;
  p.text(lease.id).num(static_cast<std::int64_t>(lease.token)).real(fraction);
  RUNQ_ASSIGN_OR_RETURN(Rows rows,
                        exec("WITH u AS (UPDATE " + s_ +
                                 ".tasks SET progress = $3 WHERE id = $1 AND "
                                 "state = 'reserved' AND token = $2 RETURNING 1) "
                                 "SELECT (SELECT count(*) FROM u), EXISTS (SELECT 1 FROM " +
                                 s_ + ".tasks WHERE id = $1), EXISTS (SELECT 1 FROM " + s_ +
                                 ".results WHERE id = $1)",
                             p, "recording progress"));
  if (rows.size() != 1) return internal_error("recording progress: no reply row");
  if (rows.int64(0, 0) == 1) return ok_status();
  if (!rows.boolean(0, 1) && !rows.boolean(0, 2)) {
    return not_found_error("no task with id '" + lease.id + "'");
  }
  return failed_precondition_error("task " + lease.id + " is not held by token " +
                                   std::to_string(lease.token));
}

Status PostgresStore::heartbeat(const WorkerInfo& info) {
  RUNQ_RETURN_IF_ERROR(check_text("worker id", info.id));
  RUNQ_RETURN_IF_ERROR(check_text("host name", info.host));
  Params p;
  p.text(info.id).text(info.host).num(info.pid).text(nlohmann::json(info.queues).dump());
  p.num(info.concurrency).num(info.running).num(static_cast<std::int64_t>(info.processed));
  p.num(static_cast<std::int64_t>(info.failed)).num(info.started).num(info.last_seen);
  p.num(info.expires).text(info.activity);
  return exec("INSERT INTO " + s_ +
                  ".workers (id, host, pid, queues, concurrency, running, processed, failed, "
                  "started, last_seen, expires, activity) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                  "$8, $9, $10, $11, $12) ON CONFLICT (id) DO UPDATE SET host = excluded.host, "
                  "pid = excluded.pid, queues = excluded.queues, concurrency = "
                  "excluded.concurrency, running = excluded.running, processed = "
                  "excluded.processed, failed = excluded.failed, started = excluded.started, "
                  "last_seen = excluded.last_seen, expires = excluded.expires, activity = "
                  "excluded.activity",
              p, "recording a heartbeat")
      .status();
}

Status PostgresStore::remove_worker(std::string_view worker_id) {
  RUNQ_RETURN_IF_ERROR(check_text("worker id", worker_id));
  Params p;
  p.text(worker_id);
  RUNQ_ASSIGN_OR_RETURN(
      Rows rows, exec("DELETE FROM " + s_ + ".workers WHERE id = $1", p, "removing a worker"));
  if (rows.affected() == 0) return not_found_error("no worker '" + std::string(worker_id) + "'");
  return ok_status();
}

// ---- waiting ------------------------------------------------------------------------------

SteadyClock::time_point PostgresStore::due_time(std::optional<Millis> next_change) {
  if (!next_change) return SteadyClock::time_point::max();
  const Millis lag = system_now_ms() - *next_change;
  if (lag >= 0 && lag < kJustDueMs) return SteadyClock::now();
  return lag >= 0 ? SteadyClock::now() + kStaleRecheck : deadline_after(1 - lag);
}

// Without a LISTEN connection, a wait also ends after poll_ms: the fallback poll.
SteadyClock::time_point PostgresStore::with_poll(SteadyClock::time_point until) {
  if (options_.listen && listener_.listening()) return until;
  return std::min(until, deadline_after(options_.poll_ms));
}

Status PostgresStore::wait_for_work(const std::vector<std::string>& queues, Millis timeout_ms) {
  const auto deadline = deadline_after(timeout_ms);
  std::vector<std::string_view> names(queues.begin(), queues.end());
  for (std::string_view q : names) RUNQ_RETURN_IF_ERROR(check_text("queue name", q));
  // Paused queues are left out: their ready or due tasks are no work (flow control).
  const std::string sql = "SELECT EXISTS (SELECT 1 FROM " + s_ + ".tasks WHERE queue = ANY (" +
                          unpaused("$1") +
                          ") AND state = 'pending'), "
                          "(SELECT min(eta) FROM " +
                          s_ + ".tasks WHERE queue = ANY (" + unpaused("$1") +
                          ") AND state = 'scheduled'), "
                          "(SELECT min(lease_expires) FROM " +
                          s_ + ".tasks WHERE state = 'reserved')";
  const std::uint64_t seen = options_.listen ? listener_.work_generation() : 0;
  Params p;
  p.text_array(names);
  RUNQ_ASSIGN_OR_RETURN(Rows rows, exec(sql, p, "checking for work"));
  if (rows.size() != 1) return internal_error("checking for work: no reply row");
  if (rows.boolean(0, 0)) return ok_status();
  std::optional<Millis> next;
  for (int col : {1, 2}) {
    if (rows.is_null(0, col)) continue;
    next = next ? std::min(*next, rows.int64(0, col)) : rows.int64(0, col);
  }
  const auto wake = std::min(deadline, due_time(next));
  if (wake <= SteadyClock::now()) return ok_status();
  const auto until = with_poll(wake);
  if (!options_.listen) {
    std::this_thread::sleep_until(until);  // the poll interval, by configuration
    return ok_status();
  }
  // Woken by a notification of work: return at once, the caller's reserve is the look (one
  // for another queue costs an empty reserve). Else the deadline, a due task, or the poll.
  (void)listener_.wait(seen, until, /*work=*/true);
  return ok_status();
}

Result<TaskInfo> PostgresStore::wait_task(std::string_view id, Millis timeout_ms) {
  const auto deadline = deadline_after(timeout_ms);
  for (;;) {
    const std::uint64_t seen = options_.listen ? listener_.generation() : 0;
    RUNQ_ASSIGN_OR_RETURN(TaskInfo info, get_task(id, kNoExpiry));
    if (is_final(info.state)) return info;
    const auto until = with_poll(deadline);
    bool woke = false;
    if (options_.listen) {
      woke = listener_.wait(seen, until);
    } else {
      std::this_thread::sleep_until(until);
    }
    if (!woke && until == deadline) {
      return deadline_exceeded_error("waiting for task " + std::string(id) + ": still " +
                                     std::string(task_state_name(info.state)) + " after " +
                                     std::to_string(timeout_ms) + " ms");
    }
  }
}

// ---- results and inspection ---------------------------------------------------------------

Result<TaskInfo> PostgresStore::get_task(std::string_view id, Millis now) {
  std::string one(id);
  RUNQ_ASSIGN_OR_RETURN(std::vector<Result<TaskInfo>> got, get_tasks({&one, 1}, now));
  return std::move(got[0]);
}

// One statement per batch: a row per id, in the order given (WITH ORDINALITY).
Result<std::vector<Result<TaskInfo>>> PostgresStore::get_tasks(std::span<const std::string> ids,
                                                               Millis now) {
  std::vector<std::string_view> views;
  views.reserve(ids.size());
  for (const std::string& id : ids) {
    RUNQ_RETURN_IF_ERROR(check_text("task id", id));
    views.push_back(id);
  }
  Params p;
  p.text_array(views).num(now);
  RUNQ_ASSIGN_OR_RETURN(
      Rows rows,
      exec("SELECT t.state, t.queue, t.priority, t.eta, t.deliveries, t.worker_id, "
           "t.lease_expires, t.progress, t.dead_reason, t.body, t.retry, r.state, r.record, "
           "c.reason FROM unnest($1::text[]) WITH ORDINALITY AS u(id, o) LEFT JOIN " +
               s_ + ".tasks t ON t.id = u.id LEFT JOIN " + s_ +
               ".results r ON r.id = u.id AND r.expires_at > $2 LEFT JOIN " + s_ +
               ".wf_canceled c ON c.id = u.id AND r.state = 'canceled' ORDER BY u.o",
           p, "getting tasks"));
  if (rows.size() != static_cast<int>(ids.size())) {
    return data_loss_error("getting tasks: " + std::to_string(rows.size()) + " rows for " +
                           std::to_string(ids.size()) + " ids");
  }
  std::vector<Result<TaskInfo>> out;
  out.reserve(ids.size());
  for (int row = 0; row < rows.size(); ++row) {
    TaskInfo info;
    info.id = ids[static_cast<std::size_t>(row)];
    const bool queued = !rows.is_null(row, 0);
    const bool has_result = !rows.is_null(row, 11);
    if (!queued && !has_result) {
      out.push_back(not_found_error("no task with id '" + info.id + "'"));
      continue;
    }
    if (queued) {
      RUNQ_ASSIGN_OR_RETURN(info.state, state_of(rows.view(row, 0)));
      if (info.state == TaskState::kScheduled && rows.boolean(row, 10)) {
        info.state = TaskState::kRetry;
      }
      if (info.state != TaskState::kDead) info.queue = rows.view(row, 1);
      info.priority = rows.int32(row, 2);
      info.eta = rows.int64(row, 3);
      if (info.eta >= internal::kParkedEta) info.eta = 0;  // waits for a slot, not a time
      info.deliveries = rows.int32(row, 4);
      if (info.state == TaskState::kReserved) {
        info.worker_id = rows.view(row, 5);
        info.lease_expires = rows.int64(row, 6);
      }
      info.progress = rows.real(row, 7);
      info.dead_reason = rows.view(row, 8);
      info.body = rows.view(row, 9);
    }
    if (has_result) {
      info.result = rows.view(row, 12);
      if (!queued) {
        RUNQ_ASSIGN_OR_RETURN(info.state, state_of(rows.view(row, 11)));
        if (!rows.is_null(row, 13)) info.dead_reason = rows.view(row, 13);
      }
    }
    Result<TaskInfo> found(std::move(info));
    out.push_back(std::move(found));
  }
  return out;
}

// Walks one listing index backwards from the cursor, reading each entry's state from tasks
// (live) or results (finished, unexpired); PageBuilder applies the rest of the filter.
Result<TaskPage> PostgresStore::list_tasks(const TaskFilter& filter, std::string_view cursor,
                                           std::size_t limit, Millis now) {
  RUNQ_ASSIGN_OR_RETURN(internal::ListCursor c, internal::parse_list_cursor(cursor));
  const internal::ListBound bound = internal::list_upper_bound(filter, c);
  Params p;
  p.num(filter.enqueued_from).num(bound.enqueued).text(bound.id);
  p.num(static_cast<std::int64_t>(list_tasks_budget(limit)));
  std::string cond = "true";
  if (!filter.task.empty()) {
    RUNQ_RETURN_IF_ERROR(check_text("task name", filter.task));
    p.text(filter.task);
    cond = "l.task = $5";
  } else if (!filter.queue.empty()) {
    RUNQ_RETURN_IF_ERROR(check_text("queue name", filter.queue));
    p.text(filter.queue);
    cond = "l.queue = $5";
  }
  RUNQ_ASSIGN_OR_RETURN(
      Rows rows,
      exec("SELECT l.id, l.enqueued, l.queue, l.task, t.state, t.retry, r.state, r.expires_at "
           "FROM " +
               s_ + ".listing l LEFT JOIN " + s_ + ".tasks t ON t.id = l.id LEFT JOIN " + s_ +
               ".results r ON r.id = l.id WHERE " + cond +
               " AND l.enqueued >= $1 AND (l.enqueued, l.id) < ($2, $3) "
               "ORDER BY l.enqueued DESC, l.id DESC LIMIT $4",
           p, "listing tasks"));
  internal::PageBuilder page(filter, limit);
  for (int i = 0; i < rows.size(); ++i) {
    std::optional<TaskState> state;
    if (!rows.is_null(i, 4)) {
      RUNQ_ASSIGN_OR_RETURN(TaskState live, state_of(rows.view(i, 4)));
      state = live == TaskState::kScheduled && rows.boolean(i, 5) ? TaskState::kRetry : live;
    } else if (!rows.is_null(i, 6) && rows.int64(i, 7) > now) {
      RUNQ_ASSIGN_OR_RETURN(TaskState done, state_of(rows.view(i, 6)));
      state = done;
    }
    std::optional<TaskSummary> t;
    if (state)
      t = TaskSummary{rows.str(i, 0), rows.str(i, 2), rows.str(i, 3), *state, rows.int64(i, 1)};
    if (!page.add(rows.int64(i, 1), rows.view(i, 0), t)) return page.finish(false);
  }
  return page.finish(true);
}

Result<StoreStats> PostgresStore::stats(Millis now) {
  return with_conn("reading stats", [&](Connection& c) -> Result<StoreStats> {
    const std::string_view what = "reading stats";
    StoreStats stats;
    RUNQ_ASSIGN_OR_RETURN(Rows counts, c.exec("SELECT queue, state, count(*) FROM " + s_ +
                                                  ".tasks GROUP BY queue, state ORDER BY queue",
                                              what));
    std::map<std::string, QueueStats, std::less<>> by_queue;
    for (int i = 0; i < counts.size(); ++i) {
      auto it = by_queue.find(counts.view(i, 0));
      if (it == by_queue.end()) {
        it = by_queue.emplace(counts.str(i, 0), QueueStats{counts.str(i, 0)}).first;
      }
      const std::string_view state = counts.view(i, 1);
      const std::int64_t n = counts.int64(i, 2);
      if (state == "pending") it->second.pending = n;
      if (state == "scheduled") it->second.scheduled = n;
      if (state == "reserved") it->second.running = n;
      if (state == "dead") it->second.dead = n;
    }
    for (auto& [name, q] : by_queue) stats.queues.push_back(std::move(q));
    RUNQ_ASSIGN_OR_RETURN(Rows counters,
                          c.exec("SELECT name, value FROM " + s_ + ".counters", what));
    for (int i = 0; i < counters.size(); ++i) {
      const std::string_view name = counters.view(i, 0);
      const auto value = static_cast<std::uint64_t>(counters.int64(i, 1));
      if (name == "completed") stats.completed = value;
      if (name == "failed") stats.failed = value;
      if (name == "duplicates") stats.duplicates = value;
    }
    Params p;
    p.num(now);
    RUNQ_ASSIGN_OR_RETURN(Rows workers,
                          c.exec("SELECT id, host, pid, queues, concurrency, running, processed, "
                                 "failed, started, last_seen, expires, activity FROM " +
                                     s_ + ".workers WHERE expires > $1 ORDER BY id",
                                 p, what));
    for (int i = 0; i < workers.size(); ++i) {
      WorkerInfo w;
      w.id = workers.view(i, 0);
      w.host = workers.view(i, 1);
      w.pid = workers.int32(i, 2);
      nlohmann::json queues = nlohmann::json::parse(workers.view(i, 3), nullptr, false);
      if (!queues.is_array()) return data_loss_error("worker " + w.id + ": malformed queue list");
      for (const auto& q : queues) {
        if (q.is_string()) w.queues.push_back(q.get<std::string>());
      }
      w.concurrency = workers.int32(i, 4);
      w.running = workers.int32(i, 5);
      w.processed = static_cast<std::uint64_t>(workers.int64(i, 6));
      w.failed = static_cast<std::uint64_t>(workers.int64(i, 7));
      w.started = workers.int64(i, 8);
      w.last_seen = workers.int64(i, 9);
      w.expires = workers.int64(i, 10);
      w.activity = workers.view(i, 11);
      stats.workers.push_back(std::move(w));
    }
    return stats;
  });
}

Result<std::vector<DeadTask>> PostgresStore::list_dead(std::size_t limit) {
  Params p;
  p.num(static_cast<std::int64_t>(std::min<std::size_t>(
      limit, static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max()))));
  RUNQ_ASSIGN_OR_RETURN(Rows rows,
                        exec("SELECT id, queue, dead_reason, died_at, body FROM " + s_ +
                                 ".tasks WHERE state = 'dead' ORDER BY died_at, seq LIMIT $1",
                             p, "listing dead letters"));
  std::vector<DeadTask> out;
  for (int i = 0; i < rows.size(); ++i) {
    out.push_back(
        DeadTask{rows.str(i, 0), rows.str(i, 1), rows.str(i, 2), rows.int64(i, 3), rows.str(i, 4)});
  }
  return out;
}

// ---- admin --------------------------------------------------------------------------------

Result<std::int64_t> PostgresStore::retry_dead(std::span<const std::string> ids, Millis now) {
  std::vector<std::string_view> names(ids.begin(), ids.end());
  for (std::string_view id : names) RUNQ_RETURN_IF_ERROR(check_text("task id", id));
  Params p;
  p.num(now);
  std::string sql = "UPDATE " + s_ +
                    ".tasks SET state = 'pending', deliveries = 0, dead_reason = '', "
                    "died_at = 0, eta = $1, progress = 0 WHERE state = 'dead'";
  if (!ids.empty()) {
    p.text_array(names);
    sql += " AND id = ANY ($2::text[])";
  }
  RUNQ_ASSIGN_OR_RETURN(Rows rows, exec(sql, p, "requeueing dead letters"));
  if (rows.affected() > 0) notify();
  return rows.affected();
}

Result<std::int64_t> PostgresStore::purge_dead() {
  return transact("purging dead letters", [&](Connection& c) -> Result<std::int64_t> {
    const std::string_view what = "purging dead letters";
    RUNQ_RETURN_IF_ERROR(c.exec("DELETE FROM " + s_ + ".results WHERE id IN (SELECT id FROM " + s_ +
                                    ".tasks WHERE state = 'dead')",
                                what)
                             .status());
    RUNQ_RETURN_IF_ERROR(c.exec("DELETE FROM " + s_ + ".listing WHERE id IN (SELECT id FROM " + s_ +
                                    ".tasks WHERE state = 'dead')",
                                what)
                             .status());
    RUNQ_ASSIGN_OR_RETURN(Rows rows,
                          c.exec("DELETE FROM " + s_ + ".tasks WHERE state = 'dead'", what));
    return rows.affected();
  });
}

Result<std::int64_t> PostgresStore::purge_queue(std::string_view queue) {
  RUNQ_RETURN_IF_ERROR(check_text("queue name", queue));
  return transact("purging a queue", [&](Connection& c) -> Result<std::int64_t> {
    const std::string_view what = "purging a queue";
    Params p;
    p.text(queue);
    RUNQ_RETURN_IF_ERROR(c.exec("DELETE FROM " + s_ + ".results WHERE id IN (SELECT id FROM " + s_ +
                                    ".tasks WHERE queue = $1 AND state IN ('pending', "
                                    "'scheduled'))",
                                p, what)
                             .status());
    Params unlist;
    unlist.text(queue);
    RUNQ_RETURN_IF_ERROR(c.exec("DELETE FROM " + s_ + ".listing WHERE id IN (SELECT id FROM " + s_ +
                                    ".tasks WHERE queue = $1 AND state IN ('pending', "
                                    "'scheduled'))",
                                unlist, what)
                             .status());
    Params q;
    q.text(queue);
    RUNQ_ASSIGN_OR_RETURN(Rows rows, c.exec("DELETE FROM " + s_ +
                                                ".tasks WHERE queue = $1 AND state IN "
                                                "('pending', 'scheduled')",
                                            q, what));
    return rows.affected();
  });
}

Result<std::int64_t> PostgresStore::cleanup(Millis now) {
  return transact("cleaning up", [&](Connection& c) -> Result<std::int64_t> {
    const std::string_view what = "cleaning up";
    std::int64_t removed = 0;
    // A result that expires while its task is queued again (a retry's record) leaves the
    // task listed.
    Params unlist;
    unlist.num(now).num(kCleanupResults);
    RUNQ_RETURN_IF_ERROR(
        c.exec("DELETE FROM " + s_ + ".listing WHERE id IN (SELECT r.id FROM " + s_ +
                   ".results r WHERE r.expires_at <= $1 AND NOT EXISTS (SELECT 1 FROM " + s_ +
                   ".tasks t WHERE t.id = r.id) LIMIT $2)",
               unlist, what)
            .status());
    Params results;
    results.num(now).num(kCleanupResults);
    RUNQ_ASSIGN_OR_RETURN(
        Rows r, c.exec("DELETE FROM " + s_ + ".results WHERE id IN (SELECT id FROM " + s_ +
                           ".results WHERE expires_at <= $1 LIMIT $2)",
                       results, what));
    removed += r.affected();
    const Millis died_before = now - options_.dead_retention_ms;
    RUNQ_RETURN_IF_ERROR(c.exec("DELETE FROM " + s_ +
                                    ".wf_canceled x WHERE NOT EXISTS (SELECT 1 FROM " + s_ +
                                    ".results r WHERE r.id = x.id)",
                                what)
                             .status());
    Params dead_results;
    dead_results.num(died_before);
    RUNQ_ASSIGN_OR_RETURN(
        Rows dr, c.exec("DELETE FROM " + s_ + ".results WHERE id IN (SELECT id FROM " + s_ +
                            ".tasks WHERE state = 'dead' AND died_at <= $1)",
                        dead_results, what));
    removed += dr.affected();
    Params dead_listed;
    dead_listed.num(died_before);
    RUNQ_RETURN_IF_ERROR(c.exec("DELETE FROM " + s_ + ".listing WHERE id IN (SELECT id FROM " + s_ +
                                    ".tasks WHERE state = 'dead' AND died_at <= $1)",
                                dead_listed, what)
                             .status());
    Params dead;
    dead.num(died_before).num(kCleanupDead);
    RUNQ_ASSIGN_OR_RETURN(
        Rows d, c.exec("DELETE FROM " + s_ + ".tasks WHERE seq IN (SELECT seq FROM " + s_ +
                           ".tasks WHERE state = 'dead' AND died_at <= $1 "
                           "ORDER BY died_at LIMIT $2)",
                       dead, what));
    removed += d.affected();
    Params workers;
    workers.num(now);
    RUNQ_ASSIGN_OR_RETURN(
        Rows w, c.exec("DELETE FROM " + s_ + ".workers WHERE expires <= $1", workers, what));
    removed += w.affected();
    return removed;
  });
}

// ---- revoke -------------------------------------------------------------------------------

Result<TaskState> PostgresStore::revoke(const Revocation& r, Millis now) {
  RUNQ_RETURN_IF_ERROR(check_text("task id", r.id));
  Params p;
  p.text(r.id).boolean(r.terminate).binary(r.result).num(r.result_ttl).num(now);
  RUNQ_ASSIGN_OR_RETURN(Rows rows, exec("SELECT " + s_ + ".revoke_task($1, $2, $3::bytea, $4, $5)",
                                        p, "revoking task " + r.id));
  if (rows.size() != 1) return internal_error("revoking task " + r.id + ": no reply row");
  if (rows.is_null(0, 0)) return not_found_error("no task '" + r.id + "'");
  return state_of(rows.view(0, 0));
}

Result<std::vector<RevokeRequest>> PostgresStore::revoke_requests(
    std::span<const std::string> ids) {
  std::vector<RevokeRequest> out;
  if (ids.empty()) return out;
  std::vector<std::string_view> names(ids.begin(), ids.end());
  for (std::string_view id : names) RUNQ_RETURN_IF_ERROR(check_text("task id", id));
  Params p;
  p.text_array(names);
  RUNQ_ASSIGN_OR_RETURN(
      Rows rows, exec("SELECT id, terminate FROM " + s_ + ".revokes WHERE id = ANY ($1::text[])", p,
                      "reading revoke requests"));
  for (int i = 0; i < rows.size(); ++i) out.push_back({rows.str(i, 0), rows.boolean(i, 1)});
  return out;
}

// ---- periodic schedules -------------------------------------------------------------------

Result<bool> PostgresStore::claim_tick(std::string_view schedule, Millis tick, const NewTask& task,
                                       Millis now) {
  RUNQ_RETURN_IF_ERROR(check_text("schedule name", schedule));
  const std::string_view what = "claiming a schedule tick";
  return transact(what, [&](Connection& c) -> Result<bool> {
    Params ensure;
    ensure.text(schedule);
    RUNQ_RETURN_IF_ERROR(c.exec("INSERT INTO " + s_ +
                                    ".schedules (name, last_tick, paused, info) VALUES ($1, 0, "
                                    "false, '') ON CONFLICT (name) DO NOTHING",
                                ensure, what)
                             .status());
    // Under READ COMMITTED a racing claimer waits for this row, then re-checks last_tick on
    // the committed version: one claim per tick.
    Params claim;
    claim.text(schedule).num(tick);
    RUNQ_ASSIGN_OR_RETURN(Rows rows, c.exec("UPDATE " + s_ +
                                                ".schedules SET last_tick = $2 WHERE name = $1 "
                                                "AND NOT paused AND last_tick < $2",
                                            claim, what));
    if (rows.affected() != 1) return false;
    RUNQ_RETURN_IF_ERROR(insert_tasks(c, std::span<const NewTask>(&task, 1), now, what));
    RUNQ_RETURN_IF_ERROR(record_limits(c, std::span<const NewTask>(&task, 1), what));
    return true;
  });
}

// ---- flow control: rate limits --------------------------------------------------------------

Result<std::vector<RateLimitState>> PostgresStore::rate_limits(Millis) {
  Params none;
  RUNQ_ASSIGN_OR_RETURN(Rows rows, exec("SELECT key, count, period, started, next_free_ms FROM " +
                                            s_ + ".limits_rate_state()",
                                        none, "reading rate limits"));
  std::vector<RateLimitState> out;
  for (int i = 0; i < rows.size(); ++i) {
    out.push_back(
        {rows.str(i, 0), rows.int64(i, 1), rows.int64(i, 2), rows.int64(i, 3), rows.int64(i, 4)});
  }
  return out;
}

Result<std::vector<ScheduleState>> PostgresStore::list_schedules() {
  Params none;
  RUNQ_ASSIGN_OR_RETURN(Rows rows, exec("SELECT name, last_tick, paused, info FROM " + s_ +
                                            ".schedules ORDER BY name",
                                        none, "listing schedules"));
  std::vector<ScheduleState> out;
  for (int i = 0; i < rows.size(); ++i) {
    out.push_back(
        ScheduleState{rows.str(i, 0), rows.int64(i, 1), rows.boolean(i, 2), rows.str(i, 3)});
  }
  return out;
}

Status PostgresStore::put_schedule_info(std::string_view schedule, std::string_view info) {
  RUNQ_RETURN_IF_ERROR(check_text("schedule name", schedule));
  RUNQ_RETURN_IF_ERROR(check_text("schedule info", info));
  Params p;
  p.text(schedule).text(info);
  return exec("INSERT INTO " + s_ +
                  ".schedules (name, last_tick, paused, info) VALUES ($1, 0, false, $2) "
                  "ON CONFLICT (name) DO UPDATE SET info = excluded.info",
              p, "registering a schedule")
      .status();
}

// ---- flow control: queue pause and limits --------------------------------------------------

// The queue names of the text[] parameter `param` without the paused ones, in their order.
std::string PostgresStore::unpaused(std::string_view param) const {
  const std::string p(param);
  return "ARRAY(SELECT u.q FROM unnest(" + p + "::text[]) WITH ORDINALITY AS u(q, o) " +
         "WHERE NOT EXISTS (SELECT 1 FROM " + s_ +
         ".queue_controls c WHERE c.queue = u.q AND c.paused) ORDER BY u.o)";
}

Status PostgresStore::set_queue_control(std::string_view queue, std::string_view column,
                                        std::int64_t value, std::string_view what) {
  RUNQ_RETURN_IF_ERROR(check_text("queue name", queue));
  Params p;
  p.text(queue).num(value);
  const std::string cast = column == "paused" ? "($2::bigint <> 0)" : "$2::bigint";
  return transact(what, [&](Connection& c) -> Status {
    RUNQ_RETURN_IF_ERROR(c.exec("INSERT INTO " + s_ + ".queue_controls AS q (queue, " +
                                    std::string(column) + ") VALUES ($1, " + cast +
                                    ") ON CONFLICT (queue) DO UPDATE SET " + std::string(column) +
                                    " = excluded." + std::string(column),
                                p, what)
                             .status());
    Params q;
    q.text(queue);
    RUNQ_RETURN_IF_ERROR(c.exec("DELETE FROM " + s_ +
                                    ".queue_controls WHERE queue = $1 AND NOT paused AND "
                                    "max_length = 0",
                                q, what)
                             .status());
    Params channel;
    channel.text(pg::notify_channel(s_));
    return c.exec("SELECT pg_notify($1, 'w')", channel, what).status();
  });
}

Status PostgresStore::set_queue_paused(std::string_view queue, bool paused) {
  return set_queue_control(queue, "paused", paused ? 1 : 0,
                           paused ? "pausing a queue" : "resuming a queue");
}

Status PostgresStore::set_queue_limit(std::string_view queue, std::int64_t max_length) {
  return set_queue_control(queue, "max_length", max_length, "limiting a queue");
}

Result<std::vector<QueueControl>> PostgresStore::queue_controls() {
  Params none;
  RUNQ_ASSIGN_OR_RETURN(Rows rows, exec("SELECT queue, paused, max_length FROM " + s_ +
                                            ".queue_controls ORDER BY queue",
                                        none, "reading queue controls"));
  std::vector<QueueControl> out;
  for (int i = 0; i < rows.size(); ++i) {
    out.push_back({std::string(rows.view(i, 0)), rows.boolean(i, 1), rows.int64(i, 2)});
  }
  return out;
}

Status PostgresStore::set_schedule_paused(std::string_view schedule, bool paused) {
  RUNQ_RETURN_IF_ERROR(check_text("schedule name", schedule));
  Params p;
  p.text(schedule).boolean(paused);
  RUNQ_ASSIGN_OR_RETURN(
      Rows rows,
      exec("UPDATE " + s_ + ".schedules SET paused = $2 WHERE name = $1", p, "pausing a schedule"));
  if (rows.affected() == 0) return not_found_error("no schedule '" + std::string(schedule) + "'");
  return ok_status();
}

}  // namespace

Result<std::unique_ptr<Store>> new_postgres_store(const PostgresStoreOptions& options) {
  RUNQ_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::open(options.conninfo));
  const std::string what = "opening the PostgreSQL store (schema '" + options.schema + "')";
  RUNQ_RETURN_IF_ERROR(pg::check_writable(*conn).with_context(what));
  if (options.migrate) {
    RUNQ_RETURN_IF_ERROR(pg::migrate(*conn, options.schema).status().with_context(what));
  } else {
    RUNQ_ASSIGN_OR_RETURN(int version, pg::schema_version(*conn, options.schema));
    if (version != pg::latest_schema_version()) {
      return failed_precondition_error(
          what + ": the schema is at version " + std::to_string(version) + ", this runq needs " +
          std::to_string(pg::latest_schema_version()) +
          " and automatic migration is off (migrate=false): run `runq migrate --store URL`");
    }
  }
  return checked_store(std::make_unique<PostgresStore>(options, std::move(conn)),
                       options.max_body_bytes);
}

StoreBackendInfo postgres_store_backend() {
  auto open = [](std::string_view url) -> Result<std::unique_ptr<Store>> {
    RUNQ_ASSIGN_OR_RETURN(PostgresStoreOptions opts, parse_postgres_url(url));
    return new_postgres_store(opts);
  };
  StoreBackendInfo info{
      "postgres",
      "postgres://user:pass@host[:port]/db[?schema=runq]",
      open,
      {"postgresql://runq@127.0.0.1:{port}/postgres?schema=t{n}", "postgres", true}};
  info.alias = "postgresql";
  return info;
}

}  // namespace runq
