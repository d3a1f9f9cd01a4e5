// The redis:// store (Redis 7 or later). Every state change that touches more than one key is
// one call of a Lua function (src/store/redis/*.lua: common.lua plus one file per function,
// loaded as one library with FUNCTION LOAD and called by FCALL), so each call is atomic; a
// batch (enqueue, reserve, settle, extend) is one round trip, and a batch costs a fixed number
// of Redis commands however many tasks it holds.
//
// Key layout (P = key prefix, "runq:" by default):
//   P tasks        HASH  id -> the packed record of a live task (queued, scheduled, reserved,
//                        retrying or dead): "state\x1fdeliveries\x1ftoken\x1flease expiry\x1f
//                        priority\x1fmax deliveries\x1feta\x1fprogress\x1f#queue\x1fqueue worker",
//                        empty fields unset (see common.lua). One hash for all tasks, so that a
//                        batch reads or writes all its records in one command.
//   P bodies       HASH  id -> body of a live task
//   P results      HASH  id -> result stored by a retry or a dead letter of a live task
//   P reasons      HASH  id -> why a dead task died
//   P corrupt      HASH  id -> an unreadable record, moved aside when its task was dead-lettered
//   P finished     HASH  id -> a finished (acked) task: "state\x1fexpires\x1fdeliveries\x1f
//                        priority\x1fprogress\x1fresult" until its result ttl in the caller's
//                        time (get_task and enqueue compare `now`); cleanup deletes it then,
//                        found through P xb ZSET (seconds) + P x:<second> LIST (ids).
//                        While P tasks or P finished holds an id, enqueue skips it.
//   P q:<queue>:<priority>  LIST  ready ids, FIFO (RPUSH, LMPOP from priority 9 down to 0);
//                        a released or lapsed task goes back to the front (LPUSH)
//   P s:<queue>    ZSET  scheduled and retry ids by eta
//   P l:<queue>    ZSET  reserved ids by lease expiry
//   P w:<queue>    LIST  wake-up token (at most one) for workers blocked in wait_for_work
//   P timers       ZSET  queue -> lower bound of its next eta or lease expiry: reserve does
//                        housekeeping (promote, reclaim) only on queues whose timer is due
//   P queues       SET   queue names (stats)
//   P dead         ZSET  dead ids by time of death; P deadn HASH queue -> dead count
//   P waiting      ZSET  ids someone waits on (wait_task) -> waiter deadline;
//   P done:<id>    LIST  token pushed when a waited-on task finishes (expires after 60 s)
//   P token        counter of fencing tokens: global, so a token is larger than every token
//                        handed out before for any task
//   P stats        HASH  completed, failed, duplicates
//   P workers      ZSET  worker id -> heartbeat expiry; P workers:info HASH id -> JSON
//   P schedules    SET   names; P schedule:<name> HASH last, paused, info
//   P ls           ZSET  every task held, scored 0, member "<enqueued, 15 digits>:<id>": ordered
//                        by text = by enqueue time (list_tasks walks it with ZREVRANGEBYLEX);
//                        P ls:q:<queue> and P ls:t:<task name> the same per queue and name;
//                        P lsm HASH id -> "enqueued\x1fqueue\x1ftask name" to find the members
//                        again when the task goes (cleanup, purges, enqueue of an expired id)
//   P uniq         HASH  unique key -> "holder id\x1fexpiry ms" (0 = none); P uniqof HASH holder
//                        id -> "<until_start 0|1><key>": the keys of unique jobs (flow_lib.lua)
//   P revokes      HASH  id -> revoke request of a reserved task: "terminate\x1fttl\x1fresult"
//                        (terminate '0'/'1'); removed when the task settles, or ends it revoked
//                        when its lease lapses
//   flow control       P paused, P limits (pause, bounded queues) and P tlimits, P rate:<key>,
//                        P rates, P held:<key>, P parked:<key>, P parkseq (rate limits and
//                        per-key concurrency): documented at the top of flow_lib.lua
//
// Waiting never polls: wait_for_work blocks in BLPOP on the queues' wake lists, for at most
// the time until the earliest eta or lease expiry on those queues, with a client-side deadline
// (Redis checks blocking timeouts only every 100 ms) after which CLIENT UNBLOCK ends the BLPOP.
// wait_task registers in P waiting and blocks in BLPOP on P done:<id>.
#include "store/redis_store.hpp"

#include "store/backend.hpp"
#include "store/task_list.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <map>
#include <thread>
#include <unordered_set>

#include "store/redis/connection.hpp"
#include "store/redis/records.hpp"
#include "store/redis/replies.hpp"
#include "store/redis/requests.hpp"
#include "store/redis/scripts.hpp"

namespace runq {
namespace {

using internal::Backoff;
using internal::RedisArgs;
using internal::RedisPool;
using internal::Reply;
using internal::Script;

constexpr std::size_t kEnqueueChunk = 1000;  // tasks per script call inside one MULTI
constexpr Millis kDoneTokenTtlMs = 60'000;
constexpr Millis kMaxBlockMs = 3'600'000;  // longest single BLPOP; longer waits loop

Millis system_now() { return to_millis(std::chrono::system_clock::now().time_since_epoch()); }

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string format_double(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, end) : "0";
}

class RedisStore final : public Store {
 public:
  explicit RedisStore(const RedisStoreOptions& opts)
      : opts_(opts), pool_(redis_endpoint(opts)), lib_(internal::function_library()) {}

  // Connects once and makes sure the function library is loaded: a server that is down or
  // refuses the password is reported when the store is opened, not at the first call.
  Status open() {
    RedisArgs list{"FUNCTION", "LIST", "LIBRARYNAME", lib_.name};
    const RedisArgs* one[] = {&list};
    std::vector<Reply> replies;
    RUNQ_RETURN_IF_ERROR(round_trip(one, &replies, kLoading));
    RUNQ_RETURN_IF_ERROR(redis_status(pool_.endpoint(), kLoading, nullptr, replies[0].get()));
    if (replies[0]->type == REDIS_REPLY_ARRAY && replies[0]->elements > 0) return ok_status();
    return load_library();
  }

  Status enqueue(std::span<const NewTask> tasks, Millis now) override;
  Result<std::vector<std::string>> enqueue_unique(std::span<const NewTask> tasks,
                                                  Millis now) override;
  Result<std::vector<Delivery>> reserve(const ReserveRequest& req) override;
  Status wait_for_work(const std::vector<std::string>& queues, Millis timeout_ms) override;
  Result<std::vector<Delivery>> wait_and_reserve(const ReserveRequest& req, Millis timeout_ms,
                                                 const Clock& clock) override;
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
  Result<StoreStats> stats(Millis now) override;
  Result<std::vector<DeadTask>> list_dead(std::size_t limit) override;
  Result<TaskPage> list_tasks(const TaskFilter& filter, std::string_view cursor, std::size_t limit,
                              Millis now) override;
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
  // Rate limits run on the server's clock (TIME), per-key concurrency on the task records.
  bool enforces_task_limits() const override { return true; }
  Result<std::vector<RateLimitState>> rate_limits(Millis now) override;
  bool supports_workflows() const override { return true; }

 private:
  std::string key(std::string_view suffix) const { return opts_.key_prefix + std::string(suffix); }

  // The caller's clock minus ours, as last seen in `now` arguments: wait_for_work has no
  // `now`, and converts etas (caller time) into a wait with it.
  void note_now(Millis now) { clock_offset_.store(now - system_now(), std::memory_order_relaxed); }
  Millis caller_now() const { return system_now() + clock_offset_.load(std::memory_order_relaxed); }

  // A connection; with block_and_retry, waits (backing off) while the server is down.
  Result<RedisPool::Handle> connection(Backoff& backoff);
  Result<RedisPool::Handle> connection();
  // Sends `commands` in one round trip; with block_and_retry, also waits while the server
  // refuses them with nothing applied (loading its data, busy).
  std::array<std::string, 6> task_keys() const;
  Result<TaskInfo> task_of_replies(std::string_view id,
                                   const std::array<const redisReply*, 6>& replies,
                                   const std::array<std::string, 6>& keys, Millis now) const;
  Status round_trip(std::span<const RedisArgs* const> commands, std::vector<Reply>* replies,
                    std::string_view doing);
  RedisArgs script_call(Script s) const;
  Status load_library();
  static constexpr std::string_view kLoading = "loading runq's functions on";
  Result<Reply> run(const RedisArgs& args, std::string_view doing);
  Result<std::int64_t> run_int(const RedisArgs& args, std::string_view doing);
  Result<std::optional<std::string>> blocking_pop(const std::vector<std::string>& keys,
                                                  Millis timeout_ms, std::string_view doing,
                                                  const RedisArgs* then = nullptr,
                                                  Reply* then_reply = nullptr);
  RedisArgs reserve_call(const ReserveRequest& req) const;
  Result<Millis> time_to_wait(const std::vector<std::string>& queues, Millis timeout_ms);
  std::vector<std::string> wake_keys(const std::vector<std::string>& queues) const;
  Status enqueue_chunks(std::span<const NewTask> tasks, Millis now);
  Status check_dependencies(std::span<const NewTask> tasks, Millis now);
  Result<bool> enqueue_transaction(std::span<const NewTask> tasks, Millis now);
  Result<StoreStats> parse_stats(const redisReply* r) const;

  RedisStoreOptions opts_;
  RedisPool pool_;
  const internal::FunctionLibrary& lib_;
  std::atomic<Millis> clock_offset_{0};
};

// ---- plumbing -------------------------------------------------------------------------------

Result<RedisPool::Handle> RedisStore::connection(Backoff& backoff) {
  for (;;) {
    Result<RedisPool::Handle> conn = pool_.acquire();
    if (conn.ok() || !is_unavailable(conn.status()) || !backoff.wait()) return conn;
  }
}

Result<RedisPool::Handle> RedisStore::connection() {
  Backoff backoff(opts_.block_and_retry, opts_.retry_for_ms);
  return connection(backoff);
}

Status RedisStore::round_trip(std::span<const RedisArgs* const> commands,
                              std::vector<Reply>* replies, std::string_view doing) {
  Backoff backoff(opts_.block_and_retry, opts_.retry_for_ms);
  for (;;) {
    RUNQ_ASSIGN_OR_RETURN(RedisPool::Handle conn, connection(backoff));
    RUNQ_RETURN_IF_ERROR(conn->pipeline(commands, replies, doing));
    if (!internal::refused_for_now((*replies)[0].get()) || !backoff.wait()) return ok_status();
  }
}

RedisArgs RedisStore::script_call(Script s) const {
  RedisArgs args;
  args.add("FCALL").add_copy(lib_.function(s)).add("0").add(opts_.key_prefix);
  return args;
}

// Loads the library; another client loading it at the same time is fine.
Status RedisStore::load_library() {
  RedisArgs load{"FUNCTION", "LOAD", lib_.source};
  const RedisArgs* one[] = {&load};
  std::vector<Reply> replies;
  RUNQ_RETURN_IF_ERROR(round_trip(one, &replies, kLoading));
  if (internal::is_error_reply(replies[0].get(), "ERR Library '" + lib_.name + "' already exists"))
    return ok_status();
  return redis_status(pool_.endpoint(), kLoading, nullptr, replies[0].get());
}

// Runs a call built by script_call(); after a FUNCTION FLUSH or a restart of a server that
// keeps no data the library is loaded again and the call retried once.
Result<Reply> RedisStore::run(const RedisArgs& args, std::string_view doing) {
  const RedisArgs* one[] = {&args};
  std::vector<Reply> replies;
  RUNQ_RETURN_IF_ERROR(round_trip(one, &replies, doing));
  if (internal::is_function_missing(replies[0].get())) {
    RUNQ_RETURN_IF_ERROR(load_library());
    RUNQ_RETURN_IF_ERROR(round_trip(one, &replies, doing));
  }
  RUNQ_RETURN_IF_ERROR(redis_status(pool_.endpoint(), doing, nullptr, replies[0].get()));
  return std::move(replies[0]);
}

Result<std::int64_t> RedisStore::run_int(const RedisArgs& args, std::string_view doing) {
  RUNQ_ASSIGN_OR_RETURN(Reply r, run(args, doing));
  RUNQ_RETURN_IF_ERROR(internal::expect_int(r.get(), doing));
  return r->integer;
}

// BLPOP with a precise deadline. Returns the popped value, or nullopt when the time passed.
// `then`, if given, is sent right behind the BLPOP: Redis runs it the moment the pop returns,
// and its reply lands in *then_reply in the same round trip (left empty when the connection
// had to be dropped; a reserve sent that way may then run later, and its leases lapse).
Result<std::optional<std::string>> RedisStore::blocking_pop(const std::vector<std::string>& keys,
                                                            Millis timeout_ms,
                                                            std::string_view doing,
                                                            const RedisArgs* then,
                                                            Reply* then_reply) {
  RUNQ_ASSIGN_OR_RETURN(RedisPool::Handle conn, connection());
  RUNQ_ASSIGN_OR_RETURN(std::int64_t client_id, conn->client_id());
  RedisArgs blpop;
  blpop.add("BLPOP");
  for (const std::string& k : keys) blpop.add(k);
  blpop.add_int(timeout_ms / 1000 + 2);  // the server's own backstop; we end it sooner
  const RedisArgs* both[] = {&blpop, then};
  RUNQ_RETURN_IF_ERROR(conn->send(std::span(both, then ? 2 : 1), doing));
  if (!conn->wait_readable(timeout_ms)) {
    Result<RedisPool::Handle> other = connection();
    RedisArgs unblock;
    unblock.add("CLIENT").add("UNBLOCK").add_int(client_id).add("TIMEOUT");
    if (!other.ok() || !(*other)->call(unblock, doing).ok() ||
        !conn->wait_readable(opts_.io_timeout_ms)) {
      conn.discard();
      return std::optional<std::string>();
    }
  }
  RUNQ_ASSIGN_OR_RETURN(Reply r, conn->read_reply(doing));
  if (then) {
    RUNQ_ASSIGN_OR_RETURN(*then_reply, conn->read_reply(doing));
  }
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) return std::optional<std::string>();
  return std::optional<std::string>(internal::reply_text(r->element[1]));
}

// ---- producers ------------------------------------------------------------------------------

Status RedisStore::enqueue(std::span<const NewTask> tasks, Millis now) {
  if (tasks.empty()) return ok_status();
  note_now(now);
  RUNQ_RETURN_IF_ERROR(check_dependencies(tasks, now));
  // Tasks with limits record them in the same MULTI as the enqueue (enqueue_transaction).
  const bool limited =
      std::any_of(tasks.begin(), tasks.end(), [](const NewTask& t) { return !t.limits.empty(); });
  if (tasks.size() > kEnqueueChunk || limited) return enqueue_chunks(tasks, now);
  std::vector<const NewTask*> distinct = internal::distinct_ids(tasks);
  RedisArgs args = script_call(Script::kEnqueue);
  internal::add_enqueue_args(args, now, distinct);
  return run(args, "enqueueing tasks on").status();
}

// One call of enqueue_unique.lua, whatever the size of the batch: the tasks are taken in
// turn, so a key taken by one task holds for the next.
Result<std::vector<std::string>> RedisStore::enqueue_unique(std::span<const NewTask> tasks,
                                                            Millis now) {
  if (tasks.empty()) return std::vector<std::string>();
  note_now(now);
  RedisArgs args = script_call(Script::kEnqueueUnique);
  args.add_int(now);
  for (const NewTask& t : tasks) {
    internal::add_task_args(args, t);
    args.add(t.unique.key).add_int(t.unique.for_ms).add(t.unique.until_start ? "1" : "0");
    if (t.limits.empty()) {
      args.add("");
    } else {
      args.add_copy(internal::limits_arg(t.limits));  // recorded with the task (P tlimits)
    }
  }
  constexpr std::string_view kDoing = "enqueueing tasks on";
  RUNQ_ASSIGN_OR_RETURN(Reply r, run(args, kDoing));
  RUNQ_RETURN_IF_ERROR(internal::expect_array(r.get(), 1, kDoing));
  if (r->elements != tasks.size()) {
    return internal_error("enqueueing tasks: expected " + std::to_string(tasks.size()) +
                          " replies, got " + std::to_string(r->elements));
  }
  std::vector<std::string> held;
  held.reserve(tasks.size());
  for (std::size_t i = 0; i < r->elements; ++i) {
    held.emplace_back(internal::reply_text(r->element[i]));
  }
  return held;
}

// Workflows: every dependency of `tasks` exists (in the store, or earlier in `tasks`). Checked
// before the batch is sent, so that a refused batch writes nothing; the functions check again.
Status RedisStore::check_dependencies(std::span<const NewTask> tasks, Millis now) {
  if (std::none_of(tasks.begin(), tasks.end(),
                   [](const NewTask& t) { return !t.links.depends_on.empty(); })) {
    return ok_status();
  }
  std::unordered_set<std::string_view> batch;
  for (const NewTask& t : tasks) {
    for (const std::string& dep : t.links.depends_on) {
      if (batch.count(dep) != 0) continue;
      Result<TaskInfo> info = get_task(dep, now);
      if (is_not_found(info.status())) {
        return invalid_argument_error("enqueueing task '" + t.id + "': dependency '" + dep +
                                      "' does not exist (never enqueued, or its record expired)");
      }
      RUNQ_RETURN_IF_ERROR(info.status());
    }
    batch.insert(t.id);
  }
  return ok_status();
}

// A large batch: several function calls in one MULTI/EXEC, so still all or nothing. When the
// library is missing every part fails alike (nothing is applied): it is loaded and the whole
// transaction sent again.
Status RedisStore::enqueue_chunks(std::span<const NewTask> all, Millis now) {
  RUNQ_ASSIGN_OR_RETURN(bool applied, enqueue_transaction(all, now));
  if (applied) return ok_status();
  RUNQ_RETURN_IF_ERROR(load_library());
  RUNQ_ASSIGN_OR_RETURN(applied, enqueue_transaction(all, now));
  if (applied) return ok_status();
  return unavailable_error("enqueueing tasks: runq's functions went missing twice on " +
                           pool_.endpoint().address());
}

// One MULTI/EXEC of the chunks. Returns false (nothing applied) when the library is missing.
Result<bool> RedisStore::enqueue_transaction(std::span<const NewTask> all, Millis now) {
  const std::vector<const NewTask*> tasks = internal::distinct_ids(all);
  std::vector<RedisArgs> commands;
  // A bounded queue is checked for the whole batch first: a chunk that fits alone must not
  // be added when a later one would overfill (flow_lib.lua, queue_control.lua).
  {
    RedisArgs& room = commands.emplace_back(script_call(Script::kQueueControl));
    room.add("room");
    std::map<std::string_view, std::int64_t> per_queue;
    for (const NewTask* t : tasks) ++per_queue[t->queue];
    for (const auto& [q, n] : per_queue) room.add(q).add_int(n);
  }
  for (std::size_t i = 0; i < tasks.size(); i += kEnqueueChunk) {
    RedisArgs& a = commands.emplace_back(script_call(Script::kEnqueue));
    internal::add_enqueue_args(
        a, now, std::span(tasks).subspan(i, std::min(kEnqueueChunk, tasks.size() - i)));
  }
  {  // flow control: the limits of the tasks just added (flow_lib.lua, queue_control.lua)
    RedisArgs* limits = nullptr;
    for (const NewTask* t : tasks) {
      if (t->limits.empty()) continue;
      if (limits == nullptr) {
        limits = &commands.emplace_back(script_call(Script::kQueueControl));
        limits->add("task_limits");
      }
      limits->add(t->id).add_copy(internal::limits_arg(t->limits));
    }
  }
  commands.emplace_back(script_call(Script::kQueueControl)).add("unroom");
  commands.push_back(RedisArgs{"EXEC"});
  std::vector<const RedisArgs*> ptrs;
  ptrs.reserve(commands.size());
  for (const RedisArgs& c : commands) ptrs.push_back(&c);
  constexpr std::string_view kDoing = "enqueueing tasks on";
  // MULTI alone first: once it is accepted (the server is up and not loading), every chunk
  // is queued and nothing runs before EXEC.
  Backoff backoff(opts_.block_and_retry, opts_.retry_for_ms);
  RUNQ_ASSIGN_OR_RETURN(RedisPool::Handle conn, connection(backoff));
  Result<Reply> multi = conn->call(RedisArgs{"MULTI"}, kDoing);
  while (!multi.ok() && is_unavailable(multi.status()) && !conn->failed() && backoff.wait()) {
    multi = conn->call(RedisArgs{"MULTI"}, kDoing);
  }
  RUNQ_RETURN_IF_ERROR(multi.status());
  // EXEC runs the whole batch, which for 100,000 tasks can take seconds on a busy server (and
  // sending it, longer than one I/O timeout). The connection's timeout is widened to the I/O
  // timeout plus 1 ms per 10 tasks meanwhile, so that a large batch is not reported failed
  // (and then applied anyway) because the server was still working on it.
  conn->set_io_timeout(opts_.io_timeout_ms + static_cast<Millis>(tasks.size() / 10));
  std::vector<Reply> replies;
  RUNQ_RETURN_IF_ERROR(conn->pipeline(ptrs, &replies, kDoing));
  conn->set_io_timeout(opts_.io_timeout_ms);
  const redisReply* exec = replies.back().get();
  RUNQ_RETURN_IF_ERROR(redis_status(pool_.endpoint(), kDoing, nullptr, exec));
  RUNQ_RETURN_IF_ERROR(internal::expect_array(exec, 1, kDoing));
  if (exec->elements > 0 && internal::is_function_missing(exec->element[0])) return false;
  for (std::size_t i = 0; i < exec->elements; ++i) {
    RUNQ_RETURN_IF_ERROR(redis_status(pool_.endpoint(), kDoing, nullptr, exec->element[i]));
  }
  return true;
}

// ---- workers --------------------------------------------------------------------------------

Result<std::vector<Delivery>> parse_deliveries(const redisReply* r) {
  RUNQ_RETURN_IF_ERROR(internal::expect_array(r, 6, "reserving tasks on"));
  std::vector<Delivery> out;
  out.reserve(r->elements / 6);
  for (std::size_t i = 0; i < r->elements; i += 6) {
    redisReply** e = r->element + i;
    out.push_back(Delivery{
        std::string(internal::reply_text(e[0])), std::string(internal::reply_text(e[1])),
        std::string(internal::reply_text(e[2])),
        static_cast<std::uint64_t>(internal::reply_int_or(e[3], 0)),
        static_cast<int>(internal::reply_int_or(e[4], 0)), internal::reply_int_or(e[5], 0)});
  }
  return out;
}

RedisArgs RedisStore::reserve_call(const ReserveRequest& req) const {
  RedisArgs args = script_call(Script::kReserve);
  args.add_int(req.now).add(req.worker_id).add_int(req.max).add_int(req.lease_ms);
  args.add_int(req.now + req.lease_ms);
  for (const std::string& q : req.queues) args.add(q);
  return args;
}

Result<std::vector<Delivery>> RedisStore::reserve(const ReserveRequest& req) {
  note_now(req.now);
  RUNQ_ASSIGN_OR_RETURN(Reply r, run(reserve_call(req), "reserving tasks on"));
  return parse_deliveries(r.get());
}

std::vector<std::string> RedisStore::wake_keys(const std::vector<std::string>& queues) const {
  std::vector<std::string> keys;
  keys.reserve(queues.size());
  for (const std::string& q : queues) keys.push_back(key("w:" + q));
  return keys;
}

// How long a worker may block before something can be ready: 0 when a queue has ready
// tasks or an eta or lease expiry is due, else until the earliest one (at most timeout_ms).
Result<Millis> RedisStore::time_to_wait(const std::vector<std::string>& queues, Millis timeout_ms) {
  if (timeout_ms <= 0) return Millis{0};
  RedisArgs peek = script_call(Script::kWaitPeek);
  for (const std::string& q : queues) peek.add(q);
  RUNQ_ASSIGN_OR_RETURN(std::int64_t next, run_int(peek, "waiting for work on"));
  if (next == -1) return Millis{0};                 // ready now
  Millis wait = std::min(timeout_ms, kMaxBlockMs);  // returning early is allowed
  if (next >= 0) wait = std::clamp<Millis>(next - caller_now(), 0, wait);
  return wait;
}

Status RedisStore::wait_for_work(const std::vector<std::string>& queues, Millis timeout_ms) {
  RUNQ_ASSIGN_OR_RETURN(Millis wait, time_to_wait(queues, timeout_ms));
  if (wait <= 0) return ok_status();  // ready, or an eta or lease expiry is due: reserve
  return blocking_pop(wake_keys(queues), wait, "waiting for work on").status();
}

// The reserve rides behind the BLPOP: a task enqueued while the worker waits is leased the
// moment its wake-up token is pushed, and reaches the worker in the same round trip. Its
// leases count from the start of the wait, so the wait is kept under a quarter of the lease.
Result<std::vector<Delivery>> RedisStore::wait_and_reserve(const ReserveRequest& req,
                                                           Millis timeout_ms, const Clock& clock) {
  RUNQ_ASSIGN_OR_RETURN(Millis wait, time_to_wait(req.queues, timeout_ms));
  ReserveRequest fresh = req;
  fresh.now = clock.now_ms();
  if (wait <= 0) return reserve(fresh);
  wait = std::min(wait, std::max<Millis>(req.lease_ms / 4, 1));
  note_now(fresh.now);
  RedisArgs call = reserve_call(fresh);
  Reply reply;
  RUNQ_RETURN_IF_ERROR(
      blocking_pop(wake_keys(req.queues), wait, "waiting for work on", &call, &reply).status());
  if (!reply) return std::vector<Delivery>{};
  if (internal::is_function_missing(reply.get())) {  // flushed: reload and reserve
    fresh.now = clock.now_ms();
    return reserve(fresh);
  }
  RUNQ_RETURN_IF_ERROR(redis_status(pool_.endpoint(), "reserving tasks on", nullptr, reply.get()));
  return parse_deliveries(reply.get());
}

Result<std::vector<bool>> RedisStore::extend(std::span<const LeaseRef> leases, Millis lease_ms,
                                             Millis now) {
  if (leases.empty()) return std::vector<bool>{};
  RedisArgs args = script_call(Script::kExtend);
  args.add_int(now).add_int(lease_ms);
  for (const LeaseRef& l : leases) args.add(l.id).add_int(static_cast<std::int64_t>(l.token));
  constexpr std::string_view kDoing = "extending leases on";
  RUNQ_ASSIGN_OR_RETURN(Reply r, run(args, kDoing));
  RUNQ_RETURN_IF_ERROR(internal::expect_array(r.get(), 1, kDoing));
  if (r->elements != leases.size()) return internal_error("extending leases: wrong reply size");
  return internal::parse_flags(r.get());
}

Result<std::vector<bool>> RedisStore::settle(std::span<const Settlement> settlements, Millis now) {
  if (settlements.empty()) return std::vector<bool>{};
  note_now(now);
  RedisArgs args = script_call(Script::kSettle);
  args.reserve(5 + settlements.size() * 7);
  args.add_int(now);
  for (const Settlement& s : settlements) {
    internal::add_settlement_args(args, s);
    if (!s.then.tasks.empty()) RUNQ_RETURN_IF_ERROR(check_dependencies(s.then.tasks, now));
  }
  internal::add_follow_up_args(args, settlements);
  constexpr std::string_view kDoing = "settling tasks on";
  RUNQ_ASSIGN_OR_RETURN(Reply r, run(args, kDoing));
  RUNQ_RETURN_IF_ERROR(internal::expect_array(r.get(), 1, kDoing));
  if (r->elements != settlements.size()) return internal_error("settling tasks: wrong reply size");
  return internal::parse_flags(r.get());
}

Status RedisStore::set_progress(const LeaseRef& lease, double fraction) {
  RedisArgs args = script_call(Script::kProgress);
  args.add(lease.id).add_int(static_cast<std::int64_t>(lease.token));
  args.add_copy(format_double(std::clamp(fraction, 0.0, 1.0)));
  RUNQ_ASSIGN_OR_RETURN(std::int64_t r, run_int(args, "setting progress on"));
  if (r == -1)
    return not_found_error("setting progress of task " + in_quotes(lease.id) + ": no such task");
  if (r == 0) {
    return failed_precondition_error("setting progress of task " + in_quotes(lease.id) +
                                     ": the lease is no longer held by this delivery");
  }
  return ok_status();
}

Status RedisStore::heartbeat(const WorkerInfo& info) {
  RedisArgs args = script_call(Script::kWorkers);
  args.add("beat").add(info.id).add_int(info.expires).add_copy(internal::worker_to_json(info));
  return run(args, "writing a heartbeat on").status();
}

Status RedisStore::remove_worker(std::string_view worker_id) {
  RedisArgs args = script_call(Script::kWorkers);
  args.add("remove").add(worker_id);
  RUNQ_ASSIGN_OR_RETURN(std::int64_t n, run_int(args, "removing a worker on"));
  if (n == 0)
    return not_found_error("removing worker " + in_quotes(worker_id) + ": no such worker");
  return ok_status();
}

// ---- results and inspection -----------------------------------------------------------------

// The six fields get_task reads for one task, in the order task_of_replies expects.
constexpr int kTaskReads = 6;
std::array<std::string, kTaskReads> RedisStore::task_keys() const {
  return {key("tasks"),   key("bodies"),   key("results"),
          key("reasons"), key("finished"), key("wf:canceled")};
}

// The task `id` from its kTaskReads field values, one from each of `keys`.
Result<TaskInfo> RedisStore::task_of_replies(
    std::string_view id, const std::array<const redisReply*, kTaskReads>& replies,
    const std::array<std::string, kTaskReads>& keys, Millis now) const {
  const std::string what = "reading task " + in_quotes(id);
  constexpr std::string_view kDoing = "reading a task on";
  for (int i = 0; i < kTaskReads; ++i) {
    if (internal::is_error_reply(replies[i], "WRONGTYPE")) {
      return data_loss_error(what + ": the key " + keys[i] + " holds something else");
    }
    RUNQ_RETURN_IF_ERROR(redis_status(pool_.endpoint(), kDoing, nullptr, replies[i]));
  }
  auto text = [&](int i) { return internal::reply_text(replies[i]); };
  if (!internal::is_nil(replies[0])) {
    return internal::task_from_record(id, {text(0), text(1), text(2), text(3), keys[0]});
  }
  if (!internal::is_nil(replies[4])) {
    RUNQ_ASSIGN_OR_RETURN(TaskInfo info, internal::task_from_finished(id, text(4), now));
    // Workflows: why it was canceled (workflow_lib.lua).
    if (info.state == TaskState::kCanceled) info.dead_reason = text(5);
    return info;
  }
  return not_found_error(what + ": no such task (or its result expired)");
}

Result<TaskInfo> RedisStore::get_task(std::string_view id, Millis now) {
  std::string one(id);
  RUNQ_ASSIGN_OR_RETURN(std::vector<Result<TaskInfo>> got, get_tasks({&one, 1}, now));
  return std::move(got[0]);
}

Result<std::vector<Result<TaskInfo>>> RedisStore::get_tasks(std::span<const std::string> ids,
                                                            Millis now) {
  // One HMGET per hash per chunk: a chord body reading 100,000 members sends 6 commands per
  // 512 ids instead of 6 per id.
  constexpr std::size_t kChunk = 512;  // ids per round trip
  const std::array<std::string, kTaskReads> keys = task_keys();
  std::vector<Result<TaskInfo>> out;
  out.reserve(ids.size());
  std::array<RedisArgs, kTaskReads> reads;
  std::vector<const RedisArgs*> ptrs;
  std::vector<Reply> replies;
  for (std::size_t first = 0; first < ids.size(); first += kChunk) {
    const std::span<const std::string> chunk =
        ids.subspan(first, std::min(kChunk, ids.size() - first));
    ptrs.clear();
    for (int k = 0; k < kTaskReads; ++k) {
      reads[k] = RedisArgs{"HMGET", keys[k]};
      for (const std::string& id : chunk) reads[k].add(id);
      ptrs.push_back(&reads[k]);
    }
    replies.clear();
    RUNQ_RETURN_IF_ERROR(round_trip(ptrs, &replies, "reading tasks on"));
    for (int k = 0; k < kTaskReads; ++k) {
      const redisReply* r = replies[k].get();
      if (internal::is_error_reply(r, "WRONGTYPE")) {
        return data_loss_error("reading tasks: the key " + keys[k] + " holds something else");
      }
      RUNQ_RETURN_IF_ERROR(redis_status(pool_.endpoint(), "reading tasks on", nullptr, r));
      if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != chunk.size()) {
        return data_loss_error("reading tasks: HMGET " + keys[k] + " returned " +
                               std::to_string(r == nullptr ? 0 : r->elements) + " values for " +
                               std::to_string(chunk.size()) + " ids");
      }
    }
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      std::array<const redisReply*, kTaskReads> fields{};
      for (int k = 0; k < kTaskReads; ++k) fields[k] = replies[k]->element[i];
      Result<TaskInfo> info = task_of_replies(chunk[i], fields, keys, now);
      if (!info.ok() && !is_not_found(info.status())) return info.status();
      out.push_back(std::move(info));
    }
  }
  return out;
}

Result<TaskInfo> RedisStore::wait_task(std::string_view id, Millis timeout_ms) {
  timeout_ms = std::max<Millis>(timeout_ms, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  // A retry also notifies waiters; the wait goes on until a final state or the deadline.
  for (;;) {
    Millis left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
    left = std::max<Millis>(left, 0);
    RedisArgs reg = script_call(Script::kWaitTask);
    reg.add(id).add_int(system_now() + left + kDoneTokenTtlMs);
    RUNQ_ASSIGN_OR_RETURN(std::int64_t r, run_int(reg, "waiting for a task on"));
    if (r == -1) return not_found_error("waiting for task " + in_quotes(id) + ": no such task");
    bool woken = false;
    const std::string done = key("done:") + std::string(id);
    if (r == 0 && left > 0) {
      RUNQ_ASSIGN_OR_RETURN(auto token, blocking_pop({done}, left, "waiting for a task on"));
      woken = token.has_value();
    }
    RUNQ_ASSIGN_OR_RETURN(TaskInfo info, get_task(id, caller_now()));
    if (woken) {
      // Final: put the token back for the other waiters of the same task. Not final (a
      // retry): drop it, so the next wait blocks until the next notification.
      RUNQ_ASSIGN_OR_RETURN(RedisPool::Handle conn, connection());
      RedisArgs push{"RPUSH", done, "1"};
      RedisArgs expire;
      expire.add("PEXPIRE").add(done).add_int(kDoneTokenTtlMs);
      RedisArgs del{"DEL", done};
      std::vector<const RedisArgs*> cmds;
      if (is_final(info.state)) {
        cmds = {&push, &expire};
      } else {
        cmds = {&del};
      }
      std::vector<Reply> ignored;
      RUNQ_RETURN_IF_ERROR(conn->pipeline(cmds, &ignored, "waiting for a task on"));
    }
    if (is_final(info.state)) return info;
    if (left <= 0 || std::chrono::steady_clock::now() >= deadline) {
      return deadline_exceeded_error("waiting for task " + in_quotes(id) + ": still " +
                                     std::string(task_state_name(info.state)) + " after " +
                                     std::to_string(timeout_ms) + " ms");
    }
  }
}

// ---- admin ----------------------------------------------------------------------------------

Result<StoreStats> RedisStore::stats(Millis now) {
  RedisArgs args = script_call(Script::kStats);
  args.add_int(now);
  RUNQ_ASSIGN_OR_RETURN(Reply r, run(args, "reading stats on"));
  return parse_stats(r.get());
}

Result<StoreStats> RedisStore::parse_stats(const redisReply* r) const {
  constexpr std::string_view kDoing = "reading stats";
  RUNQ_RETURN_IF_ERROR(internal::expect_array(r, 3, kDoing, 3));
  const redisReply* rows = r->element[0];
  const redisReply* counters = r->element[1];
  const redisReply* workers = r->element[2];
  RUNQ_RETURN_IF_ERROR(internal::expect_array(rows, 5, kDoing));
  RUNQ_RETURN_IF_ERROR(internal::expect_array(counters, 3, kDoing, 3));
  RUNQ_RETURN_IF_ERROR(internal::expect_array(workers, 1, kDoing));
  StoreStats out;
  for (std::size_t i = 0; i < rows->elements; i += 5) {
    redisReply** e = rows->element + i;
    out.queues.push_back(
        QueueStats{std::string(internal::reply_text(e[0])), internal::reply_int_or(e[1], 0),
                   internal::reply_int_or(e[2], 0), internal::reply_int_or(e[3], 0),
                   internal::reply_int_or(e[4], 0)});
  }
  std::sort(out.queues.begin(), out.queues.end(),
            [](const QueueStats& a, const QueueStats& b) { return a.queue < b.queue; });
  out.completed = static_cast<std::uint64_t>(internal::reply_int_or(counters->element[0], 0));
  out.failed = static_cast<std::uint64_t>(internal::reply_int_or(counters->element[1], 0));
  out.duplicates = static_cast<std::uint64_t>(internal::reply_int_or(counters->element[2], 0));
  for (std::size_t i = 0; i < workers->elements; ++i) {
    if (auto w = internal::worker_from_json(internal::reply_text(workers->element[i]))) {
      out.workers.push_back(std::move(*w));
    }
  }
  std::sort(out.workers.begin(), out.workers.end(),
            [](const WorkerInfo& a, const WorkerInfo& b) { return a.id < b.id; });
  return out;
}

Result<std::vector<DeadTask>> RedisStore::list_dead(std::size_t limit) {
  if (limit == 0) return std::vector<DeadTask>{};
  RedisArgs args = script_call(Script::kListDead);
  args.add_int(static_cast<std::int64_t>(std::min<std::size_t>(limit, 1'000'000'000)));
  constexpr std::string_view kDoing = "listing dead letters on";
  RUNQ_ASSIGN_OR_RETURN(Reply r, run(args, kDoing));
  RUNQ_RETURN_IF_ERROR(internal::expect_array(r.get(), 5, kDoing));
  std::vector<DeadTask> out;
  for (std::size_t i = 0; i < r->elements; i += 5) {
    redisReply** e = r->element + i;
    out.push_back(DeadTask{std::string(internal::reply_text(e[0])),
                           std::string(internal::reply_text(e[1])),
                           std::string(internal::reply_text(e[2])), internal::reply_int_or(e[3], 0),
                           std::string(internal::reply_text(e[4]))});
  }
  return out;
}

Result<std::int64_t> RedisStore::retry_dead(std::span<const std::string> ids, Millis now) {
  RedisArgs args = script_call(Script::kRetryDead);
  args.add_int(now);
  for (const std::string& id : ids) args.add(id);
  return run_int(args, "requeueing dead letters on");
}

Result<TaskPage> RedisStore::list_tasks(const TaskFilter& filter, std::string_view cursor,
                                        std::size_t limit, Millis now) {
  RUNQ_ASSIGN_OR_RETURN(internal::ListCursor c, internal::parse_list_cursor(cursor));
  internal::ListBound bound = internal::list_upper_bound(filter, c);
  // Members hold the time in 15 digits: a larger bound means "no bound".
  constexpr Millis kMaxListed = 999'999'999'999'999;
  if (bound.enqueued > kMaxListed) bound = {kMaxListed, "~"};
  const std::size_t budget = list_tasks_budget(limit);
  RedisArgs args = script_call(Script::kListTasks);
  args.add_int(now);
  if (!filter.task.empty()) {
    args.add("t").add(filter.task);
  } else if (!filter.queue.empty()) {
    args.add("q").add(filter.queue);
  } else {
    args.add("a").add("");
  }
  args.add_int(std::min(filter.enqueued_from, kMaxListed)).add_int(bound.enqueued).add(bound.id);
  args.add_int(static_cast<std::int64_t>(budget));
  constexpr std::string_view kDoing = "listing tasks on";
  RUNQ_ASSIGN_OR_RETURN(Reply r, run(args, kDoing));
  RUNQ_RETURN_IF_ERROR(internal::expect_array(r.get(), 4, kDoing));
  internal::PageBuilder page(filter, limit);
  for (std::size_t i = 0; i < r->elements; i += 4) {
    redisReply** e = r->element + i;
    std::string_view member = internal::reply_text(e[0]);
    if (member.size() < 17) return internal_error("listing tasks: bad list member");
    Millis enqueued = std::stoll(std::string(member.substr(0, 15)));
    std::string_view id = member.substr(16);
    std::optional<TaskState> state = parse_task_state(internal::reply_text(e[1]));
    std::optional<TaskSummary> t;
    if (state) {
      t = TaskSummary{std::string(id), std::string(internal::reply_text(e[2])),
                      std::string(internal::reply_text(e[3])), *state, enqueued};
    }
    if (!page.add(enqueued, id, t))
      return page.finish(i + 4 >= r->elements && r->elements / 4 < budget);
  }
  return page.finish(true);
}

Result<std::int64_t> RedisStore::purge_dead() {
  return run_int(script_call(Script::kPurgeDead), "purging dead letters on");
}

Result<std::int64_t> RedisStore::purge_queue(std::string_view queue) {
  RedisArgs args = script_call(Script::kPurgeQueue);
  args.add(queue);
  return run_int(args, "purging a queue on");
}

Result<std::int64_t> RedisStore::cleanup(Millis now) {
  RedisArgs args = script_call(Script::kCleanup);
  args.add_int(now).add_int(now - opts_.dead_retention_ms);
  return run_int(args, "cleaning up on");
}

// ---- revoke ---------------------------------------------------------------------------------

Result<TaskState> RedisStore::revoke(const Revocation& r, Millis now) {
  note_now(now);
  RedisArgs args = script_call(Script::kRevoke);
  args.add_int(now).add(r.id).add(r.terminate ? "1" : "0").add_int(r.result_ttl).add(r.result);
  const std::string doing = "revoking task " + in_quotes(r.id) + " on";
  RUNQ_ASSIGN_OR_RETURN(Reply reply, run(args, doing));
  std::string_view state_name = internal::reply_text(reply.get());
  if (state_name.empty()) return not_found_error("no task " + in_quotes(r.id));
  std::optional<TaskState> state = parse_task_state(state_name);
  if (!state) return internal_error(doing + ": unexpected reply from redis");
  return *state;
}

Result<std::vector<RevokeRequest>> RedisStore::revoke_requests(std::span<const std::string> ids) {
  std::vector<RevokeRequest> out;
  if (ids.empty()) return out;
  RedisArgs args = script_call(Script::kRevokeRequests);
  for (const std::string& id : ids) args.add(id);
  constexpr std::string_view kDoing = "reading revoke requests on";
  RUNQ_ASSIGN_OR_RETURN(Reply r, run(args, kDoing));
  RUNQ_RETURN_IF_ERROR(internal::expect_array(r.get(), 2, kDoing));
  for (std::size_t i = 0; i < r->elements; i += 2) {
    out.push_back({std::string(internal::reply_text(r->element[i])),
                   internal::reply_text(r->element[i + 1]) == "1"});
  }
  return out;
}

// ---- periodic schedules ---------------------------------------------------------------------

Result<bool> RedisStore::claim_tick(std::string_view schedule, Millis tick, const NewTask& task,
                                    Millis now) {
  RedisArgs args = script_call(Script::kClaimTick);
  args.add_int(now).add(schedule).add_int(tick);
  internal::add_task_args(args, task);
  if (!task.limits.empty()) args.add_copy(internal::limits_arg(task.limits));
  RUNQ_ASSIGN_OR_RETURN(std::int64_t r, run_int(args, "claiming a tick on"));
  return r == 1;
}

Result<std::vector<ScheduleState>> RedisStore::list_schedules() {
  RedisArgs args = script_call(Script::kSchedules);
  args.add("list");
  constexpr std::string_view kDoing = "listing schedules on";
  RUNQ_ASSIGN_OR_RETURN(Reply r, run(args, kDoing));
  RUNQ_RETURN_IF_ERROR(internal::expect_array(r.get(), 4, kDoing));
  std::vector<ScheduleState> out;
  for (std::size_t i = 0; i < r->elements; i += 4) {
    redisReply** e = r->element + i;
    out.push_back(ScheduleState{
        std::string(internal::reply_text(e[0])), internal::reply_int_or(e[1], 0),
        internal::reply_int_or(e[2], 0) == 1, std::string(internal::reply_text(e[3]))});
  }
  std::sort(out.begin(), out.end(),
            [](const ScheduleState& a, const ScheduleState& b) { return a.name < b.name; });
  return out;
}

Status RedisStore::put_schedule_info(std::string_view schedule, std::string_view info) {
  RedisArgs args = script_call(Script::kSchedules);
  args.add("info").add(schedule).add(info);
  return run(args, "saving a schedule on").status();
}

Status RedisStore::set_schedule_paused(std::string_view schedule, bool paused) {
  RedisArgs args = script_call(Script::kSchedules);
  args.add("pause").add(schedule).add(paused ? "1" : "0");
  RUNQ_ASSIGN_OR_RETURN(std::int64_t r, run_int(args, "pausing a schedule on"));
  if (r == -1)
    return not_found_error("pausing schedule " + in_quotes(schedule) + ": no such schedule");
  return ok_status();
}

// ---- flow control: queue pause and limits --------------------------------------------------

Status RedisStore::set_queue_paused(std::string_view queue, bool paused) {
  RedisArgs args = script_call(Script::kQueueControl);
  args.add("pause").add(queue).add(paused ? "1" : "0");
  return run_int(args, paused ? "pausing a queue on" : "resuming a queue on").status();
}

Status RedisStore::set_queue_limit(std::string_view queue, std::int64_t max_length) {
  RedisArgs args = script_call(Script::kQueueControl);
  args.add("limit").add(queue).add_int(max_length);
  return run_int(args, "limiting a queue on").status();
}

Result<std::vector<RateLimitState>> RedisStore::rate_limits(Millis) {
  RedisArgs args = script_call(Script::kQueueControl);
  args.add("rate_limits");
  constexpr std::string_view kDoing = "reading rate limits on";
  RUNQ_ASSIGN_OR_RETURN(Reply r, run(args, kDoing));
  RUNQ_RETURN_IF_ERROR(internal::expect_array(r.get(), 5, kDoing));
  std::vector<RateLimitState> out;
  for (std::size_t i = 0; i < r->elements; i += 5) {
    redisReply** e = r->element + i;
    out.push_back({std::string(internal::reply_text(e[0])), internal::reply_int_or(e[1], 0),
                   internal::reply_int_or(e[2], 0), internal::reply_int_or(e[3], 0),
                   internal::reply_int_or(e[4], 0)});
  }
  std::sort(out.begin(), out.end(),
            [](const RateLimitState& a, const RateLimitState& b) { return a.key < b.key; });
  return out;
}

Result<std::vector<QueueControl>> RedisStore::queue_controls() {
  RedisArgs args = script_call(Script::kQueueControl);
  args.add("list");
  constexpr std::string_view kDoing = "reading queue controls on";
  RUNQ_ASSIGN_OR_RETURN(Reply r, run(args, kDoing));
  RUNQ_RETURN_IF_ERROR(internal::expect_array(r.get(), 3, kDoing));
  std::vector<QueueControl> out;
  for (std::size_t i = 0; i < r->elements; i += 3) {
    redisReply** e = r->element + i;
    out.push_back(QueueControl{std::string(internal::reply_text(e[0])),
                               internal::reply_int_or(e[1], 0) == 1,
                               internal::reply_int_or(e[2], 0)});
  }
  std::sort(out.begin(), out.end(),
            [](const QueueControl& a, const QueueControl& b) { return a.queue < b.queue; });
  return out;
}

}  // namespace

// ---- URL and factory --------------------------------------------------------------------------

Result<std::unique_ptr<Store>> new_redis_store(const RedisStoreOptions& options) {
  auto store = std::make_unique<RedisStore>(options);
  RUNQ_RETURN_IF_ERROR(store->open());
  return checked_store(std::move(store), options.max_body_bytes);
}

StoreBackendInfo redis_store_backend() {
  auto open = [](std::string_view url) -> Result<std::unique_ptr<Store>> {
    RUNQ_ASSIGN_OR_RETURN(RedisStoreOptions opts, parse_redis_url(url));
    return new_redis_store(opts);
  };
  // Each fresh test store gets its own key prefix on the one test server.
  return {"redis",
          "redis://[:password@]host[:port][/db]",
          open,
          {"redis://127.0.0.1:{port}/0?prefix=t{n}:", "redis-server", true}};
}

internal::RedisEndpoint redis_endpoint(const RedisStoreOptions& o) {
  return {o.host, o.port, o.db, o.username, o.password, o.io_timeout_ms};
}

}  // namespace runq
