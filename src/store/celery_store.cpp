// The celery+redis:// store: a runq worker consumes Celery's queues and writes results a
// Python `AsyncResult` reads; a runq producer sends Celery messages (docs/celery.md).
//
// It wraps a redis:// store (same server and db as the broker, its own key prefix) for
// everything that is runq's own (runq queues, heartbeats, schedules, revokes) and adds Celery
// around it:
//  - reserve pops Celery's lists in kombu's order (for each priority step 0, 3, 6, 9, every
//    queue), and in the same Lua call records each message in kombu's `unacked` hash and
//    `unacked_index` zset, as a kombu consumer does (here atomically with the pop). Messages it
//    cannot read go to the dead-letter list (celery_dead_key); messages with a future eta move
//    to the scheduled zset (celery_scheduled_key) and come back to the consuming end of their
//    list when due, so they are never held in a worker's memory. Each other message becomes a
//    runq task message (core/message.hpp) handed to the worker; the store keeps the Celery
//    message by fencing token until it settles.
//  - settle writes celery-task-meta-<id> as Celery's Redis backend does (GET guard against
//    overwriting SUCCESS, SETEX + PUBLISH, in one Lua call), then acks (ZREM + HDEL); a retry
//    publishes the message again as Celery's Task.retry() does.
//  - extend refreshes the unacked_index score, so a running task is not restored by anyone's
//    visibility-timeout scan; the store runs that scan itself (kombu's protocol, under
//    unacked_mutex) when it starts and every restore_every.
#include "store/celery_store.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <set>
#include <unordered_map>

#include <stdlib.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/ids.hpp"
#include "core/message.hpp"
#include "core/mutex.hpp"
#include "store/backend.hpp"
#include "store/celery/control.hpp"
#include "store/celery/wire.hpp"
#include "store/redis/connection.hpp"

namespace runq {
namespace {

namespace celery = internal::celery;
using internal::RedisArgs;
using internal::RedisEndpoint;
using internal::RedisPool;
using internal::Reply;

constexpr std::uint64_t kFirstToken = 1ULL << 62;  // apart from the wrapped store's tokens
constexpr Millis kBlockSliceMs = 250;              // longest BRPOP; runq queues are checked between
constexpr int kPromoteBatch = 1000;
constexpr std::size_t kSentKept = 65'536;

// KEYS: unacked, unacked_index, dead, lists...; ARGV: now (s), max, [element, its list].
// Pops up to `max` elements, each recorded in unacked/unacked_index as kombu does, or moved to
// the dead list when it has no delivery_tag or delivery_info (kombu could not ack or restore
// it). Returns {tag, element, list[, why]} per element ({"", ...} for dead ones).
constexpr std::string_view kTakeScript = R"lua(
local out = {}
local function take(raw, list)
  local ok, env = pcall(cjson.decode, raw)
  local why, tag, ex, rk
  if not ok or type(env) ~= 'table' then
    why = 'envelope is not JSON'
  elseif type(env.properties) ~= 'table' then
    why = 'properties is missing'
  else
    tag = env.properties.delivery_tag
    local info = env.properties.delivery_info
    if type(info) == 'table' then ex = info.exchange; rk = info.routing_key end
    if type(tag) ~= 'string' or tag == '' then
      why = 'properties.delivery_tag is missing'
    elseif type(ex) ~= 'string' or type(rk) ~= 'string' then
      why = 'properties.delivery_info is missing'
    end
  end
  if why then
    redis.call('LPUSH', KEYS[3], cjson.encode({reason = why, queue = list,
                                              at = tonumber(ARGV[1]), message = raw}))
    out[#out + 1] = {'', raw, list, why}
    return
  end
  redis.call('ZADD', KEYS[2], ARGV[1], tag)
  redis.call('HSET', KEYS[1], tag,
             '[' .. raw .. ',' .. cjson.encode(ex) .. ',' .. cjson.encode(rk) .. ']')
  out[#out + 1] = {tag, raw, list}
end
local max = tonumber(ARGV[2])
if ARGV[3] then take(ARGV[3], ARGV[4]) end
local i = 4
while #out < max and i <= #KEYS do
  local raw = redis.call('RPOP', KEYS[i])
  if raw then take(raw, KEYS[i]) else i = i + 1 end
end
return out
)lua";

// KEYS[1]: scheduled zset; ARGV: now (ms), limit. Due members [list, element] go back to the
// consuming end of their list.
constexpr std::string_view kPromoteScript = R"lua(
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, m in ipairs(due) do
  redis.call('ZREM', KEYS[1], m)
  local e = cjson.decode(m)
  redis.call('RPUSH', e[1], e[2])
end
return #due
)lua";

// KEYS: meta keys; ARGV: expiry (s; 0 = none), one value per key. Celery's backend write: never
// overwrite a SUCCESS, SETEX + PUBLISH.
constexpr std::string_view kStoreResultScript = R"lua(
for i, key in ipairs(KEYS) do
  local old = redis.call('GET', key)
  if not (old and string.find(old, '"status": *"SUCCESS"')) then
    if tonumber(ARGV[1]) > 0 then
      redis.call('SETEX', key, ARGV[1], ARGV[i + 1])
    else
      redis.call('SET', key, ARGV[i + 1])
    end
    redis.call('PUBLISH', key, ARGV[i + 1])
  end
end
return 0
)lua";

// KEYS: unacked, unacked_index, list; ARGV: tag, old entry, new element. kombu's restore of one
// message, as a compare-and-swap on the entry (kombu uses WATCH).
constexpr std::string_view kRestoreScript = R"lua(
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('RPUSH', KEYS[3], ARGV[3])
return 1
)lua";

// KEYS: <gid>.j, <gid>.t, <gid>.s; ARGV: group_index, member, expiry (s). Celery's chord
// counter on the Redis backend, atomically: record this header task; when all are in, return
// the members (by group_index) and delete the counter, so exactly one caller joins.
constexpr std::string_view kChordScript = R"lua(
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
local n = redis.call('ZCOUNT', KEYS[1], '-inf', '+inf')
local t = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
local size = tonumber(redis.call('GET', KEYS[3]) or '')
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ARGV[3]) end
if size and n >= size + t then
  local r = redis.call('ZRANGE', KEYS[1], 0, -1)
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
  return r
end
return false
)lua";

constexpr std::string_view kUnlockScript = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

constexpr std::string_view kUnacked = "unacked";
constexpr std::string_view kUnackedIndex = "unacked_index";
constexpr std::string_view kUnackedMutex = "unacked_mutex";

void log_line(const std::string& line) { std::fprintf(stderr, "runq celery: %s\n", line.c_str()); }

std::string seconds_text(Millis ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", static_cast<double>(ms) / 1000.0);
  return buf;
}

std::string reply_text(const redisReply* r) {
  return r != nullptr && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
             ? std::string(r->str, r->len)
             : std::string();
}

std::string meta_key(std::string_view id) { return "celery-task-meta-" + std::string(id); }

// One popped element: its delivery tag ("" when it went to the dead list), the element, and
// the list it came from.
struct Taken {
  std::string tag;
  std::string raw;
  std::string list;
  std::string why;
};

class CeleryStore final : public StoreWrapper {
 public:
  CeleryStore(CeleryStoreOptions opts, std::unique_ptr<Store> inner)
      : StoreWrapper(inner.get()),
        opts_(std::move(opts)),
        inner_(std::move(inner)),
        broker_(redis_endpoint(opts_.broker)),
        backend_(redis_endpoint(opts_.backend)),
        lists_(celery::consume_order(opts_.queues)),
        dead_key_(celery_dead_key(opts_)),
        scheduled_key_(celery_scheduled_key(opts_)),
        hostname_("runq-" + std::to_string(::getpid()) + "@" + internal::host_name()) {}

  Status enqueue(std::span<const NewTask> tasks, Millis now) override;
  // Celery's layout has no unique keys: the Store default refuses a task with one (and
  // enqueues a batch without keys as enqueue() does), instead of forwarding to the runq
  // layout underneath.
  Result<std::vector<std::string>> enqueue_unique(std::span<const NewTask> tasks,
                                                  Millis now) override {
    return Store::enqueue_unique(tasks, now);
  }
  Result<std::vector<Delivery>> reserve(const ReserveRequest& req) override;
  Result<std::vector<Delivery>> wait_and_reserve(const ReserveRequest& req, Millis timeout_ms,
                                                 const Clock& clock) override;
  Result<std::vector<bool>> extend(std::span<const LeaseRef> leases, Millis lease_ms,
                                   Millis now) override;
  Result<std::vector<bool>> settle(std::span<const Settlement> settlements, Millis now) override;
  Status set_progress(const LeaseRef& lease, double fraction) override;
  Result<TaskInfo> get_task(std::string_view id, Millis now) override;
  Result<TaskInfo> wait_task(std::string_view id, Millis timeout_ms) override;
  Result<StoreStats> stats(Millis now) override;
  Status heartbeat(const WorkerInfo& info) override;
  Status remove_worker(std::string_view worker_id) override;
  Result<std::vector<RevokeRequest>> revoke_requests(std::span<const std::string> ids) override;
  // Queue flow controls are not in the Celery layout: refused (FailedPrecondition), not
  // forwarded to the inner store, whose controls Celery's lists would ignore.
  Status set_queue_paused(std::string_view q, bool p) override {
    return Store::set_queue_paused(q, p);
  }
  Status set_queue_limit(std::string_view q, std::int64_t n) override {
    return Store::set_queue_limit(q, n);
  }
  Result<std::vector<QueueControl>> queue_controls() override { return Store::queue_controls(); }

 private:
  struct InFlight {
    celery::Message msg;
    std::string list;  // the list it was popped from
    Millis lease_expires = 0;
  };

  bool is_celery_queue(std::string_view q) const {
    return std::find(opts_.queues.begin(), opts_.queues.end(), q) != opts_.queues.end();
  }
  std::optional<InFlight> find(const std::string& id, std::uint64_t token, bool erase);

  // Pops up to `max` elements (after `popped`, an element already taken off `popped_list`).
  Result<std::vector<Taken>> take(int max, Millis now, const std::string* popped,
                                  const std::string* popped_list);
  Result<std::vector<Delivery>> deliver(std::vector<Taken> taken, const ReserveRequest& req);
  Status restore_stale(Millis now);
  Status store_results(const std::vector<std::pair<std::string, std::string>>& metas);
  Result<TaskInfo> celery_task_info(std::string_view id);
  // Records a finished chord header task; returns the chord body message when it was the
  // last one.
  std::optional<celery::FollowUp> chord_step(const celery::Message& m, const std::string& state,
                                             const std::string& result_json);
  // Publishes one Celery event (worker-heartbeat, task-succeeded, ...) with `fields` added
  // to the standard ones. Failures are ignored: events are best effort, as in Celery.
  void publish_event(const std::string& type, nlohmann::json fields);
  std::string active_json();

  CeleryStoreOptions opts_;
  std::unique_ptr<Store> inner_;
  RedisPool broker_;
  RedisPool backend_;
  std::vector<std::string> lists_;
  std::string dead_key_;
  std::string scheduled_key_;
  std::atomic<std::uint64_t> next_token_{kFirstToken};
  std::atomic<Millis> next_restore_{0};
  internal::Mutex mu_;
  std::unordered_map<std::uint64_t, InFlight> inflight_ RUNQ_GUARDED_BY(mu_);  // by token
  // The latest ids this store sent to Celery (at most kSentKept), reported PENDING while
  // their result key does not exist yet.
  std::set<std::string> sent_ RUNQ_GUARDED_BY(mu_);
  std::deque<std::string> sent_order_ RUNQ_GUARDED_BY(mu_);
  std::unordered_map<std::string, bool> revoked_ RUNQ_GUARDED_BY(mu_);  // id -> terminate
  const std::string hostname_;  // Celery node name: runq-<pid>@<host>
  std::atomic<std::int64_t> clock_{0};
  std::atomic<std::uint64_t> processed_{0};
  // Last member: destroyed first, so that its thread stops before what its hooks read.
  std::unique_ptr<internal::celery::Control> control_;
};

std::optional<CeleryStore::InFlight> CeleryStore::find(const std::string& id, std::uint64_t token,
                                                       bool erase) {
  if (token < kFirstToken) return std::nullopt;
  internal::MutexLock lock(mu_);
  auto it = inflight_.find(token);
  if (it == inflight_.end() || it->second.msg.id != id) return std::nullopt;
  InFlight out = it->second;
  if (erase) inflight_.erase(it);
  return out;
}

Result<std::vector<Taken>> CeleryStore::take(int max, Millis now, const std::string* popped,
                                             const std::string* popped_list) {
  RUNQ_ASSIGN_OR_RETURN(RedisPool::Handle conn, broker_.acquire());
  RedisArgs promote{"EVAL", kPromoteScript, "1", scheduled_key_};
  promote.add_int(now).add_int(kPromoteBatch);
  RedisArgs cmd{"EVAL", kTakeScript};
  cmd.add_int(static_cast<std::int64_t>(3 + lists_.size()));
  cmd.add(kUnacked).add(kUnackedIndex).add(dead_key_);
  for (const std::string& l : lists_) cmd.add(l);
  cmd.add_copy(seconds_text(now)).add_int(max);
  if (popped != nullptr) cmd.add(*popped).add(*popped_list);
  const RedisArgs* cmds[] = {&promote, &cmd};
  std::vector<Reply> replies;
  RUNQ_RETURN_IF_ERROR(conn->pipeline(cmds, &replies, "taking celery messages"));
  for (const Reply& r : replies) {
    RUNQ_RETURN_IF_ERROR(
        internal::redis_status(broker_.endpoint(), "taking celery messages", nullptr, r.get()));
  }
  std::vector<Taken> out;
  const redisReply* list = replies[1].get();
  if (list->type != REDIS_REPLY_ARRAY) return internal_error("taking celery messages: bad reply");
  for (std::size_t i = 0; i < list->elements; ++i) {
    const redisReply* e = list->element[i];
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 3) continue;
    Taken t{reply_text(e->element[0]), reply_text(e->element[1]), reply_text(e->element[2]), ""};
    if (e->elements > 3) t.why = reply_text(e->element[3]);
    out.push_back(std::move(t));
  }
  return out;
}

Result<std::vector<Delivery>> CeleryStore::deliver(std::vector<Taken> taken,
                                                   const ReserveRequest& req) {
  std::vector<Delivery> out;
  std::vector<RedisArgs> moves;  // to the dead list or the scheduled zset, out of unacked
  std::vector<std::pair<std::string, std::string>> started;
  for (Taken& t : taken) {
    if (t.tag.empty()) {
      log_line("kept an unreadable message from " + t.list + " in " + dead_key_ + ": " + t.why);
      continue;
    }
    Result<celery::Message> decoded = celery::decode_message(t.raw);
    std::string args;
    Status bad = decoded.status();
    if (decoded.ok()) {
      auto names = opts_.params.find(decoded->task);
      Result<std::string> bound = celery::bind_arguments(
          *decoded, names == opts_.params.end() ? std::vector<std::string>{} : names->second);
      if (bound.ok()) {
        args = *bound;
      } else {
        bad = bound.status();
      }
    }
    if (!bad.ok()) {
      log_line("kept an unreadable message from " + t.list + " in " + dead_key_ + ": " +
               bad.message());
      nlohmann::json entry = {{"reason", bad.message()},
                              {"queue", t.list},
                              {"at", static_cast<double>(req.now) / 1000.0},
                              {"message", t.raw}};
      moves.emplace_back(RedisArgs{"LPUSH", dead_key_});
      moves.back().add_copy(entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      moves.emplace_back(RedisArgs{"ZREM", kUnackedIndex});
      moves.back().add_copy(t.tag);
      moves.emplace_back(RedisArgs{"HDEL", kUnacked});
      moves.back().add_copy(t.tag);
      continue;
    }
    celery::Message& m = *decoded;
    bool revoked = false;
    {
      internal::MutexLock lock(mu_);
      revoked = revoked_.contains(m.id);
    }
    if (revoked) {
      celery::Meta meta;
      meta.status = "REVOKED";
      meta.result_json = celery::exception_json("TaskRevokedError", "revoked", "celery.exceptions");
      meta.date_done = req.now;
      meta.task_id = m.id;
      started.emplace_back(meta_key(m.id), celery::encode_meta(meta));
      moves.emplace_back(RedisArgs{"ZREM", kUnackedIndex});
      moves.back().add_copy(t.tag);
      moves.emplace_back(RedisArgs{"HDEL", kUnacked});
      moves.back().add_copy(t.tag);
      log_line("discarded revoked task " + m.task + "[" + m.id + "]");
      continue;
    }
    if (m.eta > req.now) {
      nlohmann::json member = nlohmann::json::array({t.list, t.raw});
      moves.emplace_back(RedisArgs{"ZADD", scheduled_key_});
      moves.back().add_int(m.eta).add_copy(member.dump());
      moves.emplace_back(RedisArgs{"ZREM", kUnackedIndex});
      moves.back().add_copy(t.tag);
      moves.emplace_back(RedisArgs{"HDEL", kUnacked});
      moves.back().add_copy(t.tag);
      continue;
    }
    internal::TaskMessage tm;
    tm.id = m.id;
    tm.name = m.task;
    tm.args = args;
    tm.queue = m.routing_key.empty() ? t.list : m.routing_key;
    tm.priority = m.priority;
    tm.created = req.now;
    tm.expires = m.expires;
    tm.attempt = m.retries + 1;
    tm.ignore_result = m.ignore_result;
    tm.result_ttl = opts_.result_expires_ms;
    tm.time_limit = m.time_limit;
    tm.soft_time_limit = m.soft_time_limit;
    Delivery d;
    d.id = m.id;
    d.queue = tm.queue;
    d.body = internal::encode_message(tm);
    d.token = next_token_.fetch_add(1);
    d.deliveries = m.redelivered ? 2 : 1;
    d.lease_expires = req.now + req.lease_ms;
    if (opts_.track_started && !m.ignore_result) {
      celery::Meta meta;
      meta.status = "STARTED";
      meta.result_json =
          nlohmann::json{{"pid", static_cast<int>(::getpid())}, {"hostname", req.worker_id}}.dump();
      meta.group_id = m.group;
      meta.parent_id = m.parent_id;
      meta.task_id = m.id;
      started.emplace_back(meta_key(m.id), celery::encode_meta(meta));
    }
    if (opts_.task_events) {
      nlohmann::json ev = {{"uuid", m.id},       {"name", m.task},       {"args", m.args},
                           {"kwargs", m.kwargs}, {"root_id", m.root_id}, {"retries", m.retries},
                           {"eta", nullptr},     {"expires", nullptr}};
      publish_event("task-received", ev);
      publish_event("task-started", {{"uuid", m.id}, {"pid", static_cast<int>(::getpid())}});
    }
    {
      internal::MutexLock lock(mu_);
      inflight_[d.token] = InFlight{std::move(m), t.list, d.lease_expires};
    }
    out.push_back(std::move(d));
  }
  if (!moves.empty()) {
    RUNQ_ASSIGN_OR_RETURN(RedisPool::Handle conn, broker_.acquire());
    RedisArgs multi{"MULTI"}, exec{"EXEC"};
    std::vector<const RedisArgs*> cmds{&multi};
    for (const RedisArgs& a : moves) cmds.push_back(&a);
    cmds.push_back(&exec);
    std::vector<Reply> replies;
    RUNQ_RETURN_IF_ERROR(conn->pipeline(cmds, &replies, "moving celery messages"));
  }
  if (!started.empty()) RUNQ_RETURN_IF_ERROR(store_results(started));
  return out;
}

Status CeleryStore::restore_stale(Millis now) {
  RUNQ_ASSIGN_OR_RETURN(RedisPool::Handle conn, broker_.acquire());
  // This worker's own messages are alive whatever their age: refresh them first, so that
  // the scan below never gives back a task that is running here.
  RedisArgs refresh{"ZADD", kUnackedIndex, "XX"};
  {
    internal::MutexLock lock(mu_);
    for (const auto& [token, f] : inflight_) {
      refresh.add_copy(seconds_text(now)).add_copy(f.msg.delivery_tag);
    }
  }
  if (refresh.size() > 3) RUNQ_RETURN_IF_ERROR(conn->call(refresh, "refreshing unacked").status());
  std::string token = celery::uuid4();
  RedisArgs lock{"SET", kUnackedMutex, token, "PX", "300000", "NX"};
  RUNQ_ASSIGN_OR_RETURN(Reply got, conn->call(lock, "locking unacked_mutex"));
  if (got->type == REDIS_REPLY_NIL) return ok_status();  // someone else is restoring
  RedisArgs scan{"ZREVRANGEBYSCORE", kUnackedIndex};
  scan.add_copy(seconds_text(now - opts_.visibility_timeout_ms)).add("0");
  Result<Reply> stale = conn->call(scan, "scanning unacked_index");
  int restored = 0;
  if (stale.ok() && (*stale)->type == REDIS_REPLY_ARRAY) {
    for (std::size_t i = 0; i < (*stale)->elements; ++i) {
      std::string tag = reply_text((*stale)->element[i]);
      RedisArgs get{"HGET", kUnacked, tag};
      Result<Reply> entry = conn->call(get, "reading unacked");
      if (!entry.ok()) break;
      std::string old = reply_text(entry->get());
      nlohmann::ordered_json e = nlohmann::ordered_json::parse(old, nullptr, false);
      if (old.empty() || e.is_discarded() || !e.is_array() || e.size() < 3 || !e[0].is_object() ||
          !e[2].is_string()) {
        RedisArgs drop{"ZREM", kUnackedIndex, tag};
        (void)conn->call(drop, "dropping a stale unacked entry");
        continue;
      }
      nlohmann::ordered_json env = e[0];
      env["headers"]["redelivered"] = true;
      env["properties"]["delivery_info"]["redelivered"] = true;
      std::string list = e[2].get<std::string>();  // anonymous exchange: the routing key
      RedisArgs cas{"EVAL", kRestoreScript, "3", kUnacked, kUnackedIndex, list, tag, old};
      cas.add_copy(env.dump());
      Result<Reply> r = conn->call(cas, "restoring an unacked message");
      if (r.ok() && (*r)->type == REDIS_REPLY_INTEGER && (*r)->integer == 1) ++restored;
    }
  }
  RedisArgs unlock{"EVAL", kUnlockScript, "1", kUnackedMutex, token};
  (void)conn->call(unlock, "unlocking unacked_mutex");
  if (restored > 0) {
    log_line("restored " + std::to_string(restored) + " unacknowledged message(s)");
  }
  return stale.ok() ? ok_status() : stale.status();
}

Result<std::vector<Delivery>> CeleryStore::reserve(const ReserveRequest& req) {
  if (req.now >= next_restore_.load()) {
    next_restore_.store(req.now + opts_.restore_every_ms);
    Status s = restore_stale(req.now);
    if (!s.ok()) log_line(s.message());
  }
  RUNQ_ASSIGN_OR_RETURN(std::vector<Taken> taken, take(req.max, req.now, nullptr, nullptr));
  RUNQ_ASSIGN_OR_RETURN(std::vector<Delivery> out, deliver(std::move(taken), req));
  if (static_cast<int>(out.size()) < req.max) {
    ReserveRequest rest = req;
    rest.max = req.max - static_cast<int>(out.size());
    RUNQ_ASSIGN_OR_RETURN(std::vector<Delivery> more, inner_->reserve(rest));
    for (Delivery& d : more) out.push_back(std::move(d));
  }
  return out;
}

Result<std::vector<Delivery>> CeleryStore::wait_and_reserve(const ReserveRequest& req,
                                                            Millis timeout_ms, const Clock& clock) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max<Millis>(timeout_ms, 0));
  for (;;) {
    ReserveRequest now_req = req;
    now_req.now = clock.now_ms();
    RUNQ_ASSIGN_OR_RETURN(std::vector<Delivery> got, reserve(now_req));
    if (!got.empty()) return got;
    Millis left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
    if (left <= 0) return got;
    Millis block = std::min(left, kBlockSliceMs);
    RUNQ_ASSIGN_OR_RETURN(RedisPool::Handle conn, broker_.acquire());
    RedisArgs brpop{"BRPOP"};
    for (const std::string& l : lists_) brpop.add(l);
    brpop.add_copy(seconds_text(block));
    RUNQ_RETURN_IF_ERROR(conn->send(brpop, "waiting for celery messages"));
    if (!conn->wait_readable(block + 1000)) {
      conn.discard();
      return unavailable_error("waiting for celery messages: no reply from redis at " +
                               broker_.endpoint().address());
    }
    RUNQ_ASSIGN_OR_RETURN(Reply popped, conn->read_reply("waiting for celery messages"));
    if (popped->type != REDIS_REPLY_ARRAY || popped->elements != 2) continue;
    std::string list = reply_text(popped->element[0]);
    std::string raw = reply_text(popped->element[1]);
    now_req.now = clock.now_ms();
    // Like kombu's consumer, the popped element is recorded in unacked right after the pop
    // (a crash in between loses it); the same call takes more if the request allows.
    RUNQ_ASSIGN_OR_RETURN(std::vector<Taken> taken, take(req.max - 1, now_req.now, &raw, &list));
    RUNQ_ASSIGN_OR_RETURN(got, deliver(std::move(taken), now_req));
    if (!got.empty()) return got;
  }
}

Result<std::vector<bool>> CeleryStore::extend(std::span<const LeaseRef> leases, Millis lease_ms,
                                              Millis now) {
  std::vector<bool> out(leases.size(), false);
  std::vector<LeaseRef> rest;
  std::vector<std::size_t> rest_at;
  std::vector<std::string> tags;
  {
    internal::MutexLock lock(mu_);
    for (std::size_t i = 0; i < leases.size(); ++i) {
      auto it = leases[i].token >= kFirstToken ? inflight_.find(leases[i].token) : inflight_.end();
      if (it != inflight_.end() && it->second.msg.id == leases[i].id) {
        it->second.lease_expires = now + lease_ms;
        tags.push_back(it->second.msg.delivery_tag);
        out[i] = true;
      } else if (leases[i].token < kFirstToken) {
        rest.push_back(leases[i]);
        rest_at.push_back(i);
      }
    }
  }
  if (!tags.empty()) {
    RUNQ_ASSIGN_OR_RETURN(RedisPool::Handle conn, broker_.acquire());
    RedisArgs zadd{"ZADD", kUnackedIndex, "XX"};
    for (const std::string& t : tags) zadd.add_copy(seconds_text(now)).add(t);
    RUNQ_RETURN_IF_ERROR(conn->call(zadd, "extending celery messages").status());
  }
  if (!rest.empty()) {
    RUNQ_ASSIGN_OR_RETURN(std::vector<bool> flags, inner_->extend(rest, lease_ms, now));
    for (std::size_t i = 0; i < rest.size(); ++i) out[rest_at[i]] = flags[i];
  }
  return out;
}

Status CeleryStore::store_results(const std::vector<std::pair<std::string, std::string>>& metas) {
  if (metas.empty()) return ok_status();
  RUNQ_ASSIGN_OR_RETURN(RedisPool::Handle conn, backend_.acquire());
  RedisArgs cmd{"EVAL", kStoreResultScript};
  cmd.add_int(static_cast<std::int64_t>(metas.size()));
  for (const auto& [key, value] : metas) cmd.add(key);
  cmd.add_int(opts_.result_expires_ms / 1000);
  for (const auto& [key, value] : metas) cmd.add(value);
  return conn->call(cmd, "storing celery results").status();
}

// The Celery exception of a runq error type: (exc_type, exc_module). Types runq names itself
// map to the Celery/Python classes a Python caller expects; a C++ exception type keeps its
// name (module "runq", which Celery does not import, so get() raises a class of that name).
std::pair<std::string, std::string> exception_of(const std::string& type) {
  if (type == "runq::TimeLimitExceeded") return {"TimeLimitExceeded", "billiard.exceptions"};
  if (type == "runq::BadArguments") return {"TypeError", "builtins"};
  return {type.empty() ? std::string("runq::Error") : type, "runq"};
}

Result<std::vector<bool>> CeleryStore::settle(std::span<const Settlement> settlements, Millis now) {
  std::vector<bool> out(settlements.size(), false);
  std::vector<Settlement> rest;
  std::vector<std::size_t> rest_at;
  std::vector<std::pair<std::string, std::string>> metas;
  std::vector<RedisArgs> broker_cmds;
  std::vector<InFlight> done;
  std::vector<std::size_t> chord_members;                          // indexes into done
  std::vector<std::pair<std::string, std::string>> chord_results;  // status, result
  for (std::size_t i = 0; i < settlements.size(); ++i) {
    const Settlement& s = settlements[i];
    if (s.token < kFirstToken) {
      rest.push_back(s);
      rest_at.push_back(i);
      continue;
    }
    std::optional<InFlight> f = find(s.id, s.token, true);
    if (!f) continue;  // stale: not ours, or settled already
    out[i] = true;
    const celery::Message& m = f->msg;
    internal::ResultRecord rec;
    if (!s.result.empty()) {
      Result<internal::ResultRecord> r = internal::decode_result(s.result);
      if (r.ok()) rec = std::move(*r);
    }
    celery::Meta meta;
    meta.task_id = m.id;
    meta.group_id = m.group;
    meta.parent_id = m.parent_id;
    meta.date_done = now;
    bool write = !m.ignore_result;
    auto [exc_type, exc_module] = exception_of(rec.error_type);
    const std::string& tag = m.delivery_tag;
    switch (s.outcome) {
      case Outcome::kAck:
        if (s.state == TaskState::kSuccess) {
          meta.status = "SUCCESS";
          meta.result_json = rec.value.empty() ? "null" : rec.value;
          write = write && !s.result.empty();
        } else if (s.state == TaskState::kFailure) {
          meta.status = "FAILURE";
          meta.result_json = celery::exception_json(exc_type, rec.error, exc_module);
        } else {  // expired or revoked
          meta.status = "REVOKED";
          meta.result_json = celery::exception_json(
              "TaskRevokedError", s.state == TaskState::kExpired ? "expired" : "revoked",
              "celery.exceptions");
        }
        break;
      case Outcome::kRetry: {
        meta.status = "RETRY";
        meta.result_json = celery::exception_json(exc_type, rec.error, exc_module);
        meta.children_json =
            nlohmann::json::array(
                {nlohmann::json::array({nlohmann::json::array({m.id, nullptr}), nullptr})})
                .dump();
        meta.date_done = 0;
        std::string again = celery::retry_message(m, s.retry_at);
        broker_cmds.emplace_back(RedisArgs{"LPUSH"});
        broker_cmds.back().add_copy(celery::priority_list(m.routing_key, m.priority));
        broker_cmds.back().add_copy(std::move(again));
        break;
      }
      case Outcome::kDeadLetter:
        meta.status = "FAILURE";
        if (s.reason.starts_with("unknown task")) {
          meta.result_json = celery::exception_json("NotRegistered", m.task, "celery.exceptions");
          log_line("received unregistered task of type '" + m.task + "' (" + m.id + ")");
        } else {
          meta.result_json = celery::exception_json("runq::DeadLetter", s.reason, "runq");
          nlohmann::json entry = {{"reason", s.reason},
                                  {"queue", f->list},
                                  {"at", static_cast<double>(now) / 1000.0},
                                  {"message", m.raw}};
          broker_cmds.emplace_back(RedisArgs{"LPUSH", dead_key_});
          broker_cmds.back().add_copy(
              entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        }
        write = true;
        break;
      case Outcome::kRelease:
        write = false;
        broker_cmds.emplace_back(RedisArgs{"RPUSH"});
        broker_cmds.back().add_copy(f->list).add_copy(m.raw);
        break;
    }
    if (s.outcome == Outcome::kAck &&
        (s.state == TaskState::kSuccess || s.state == TaskState::kFailure)) {
      std::vector<std::string> errors;
      std::vector<celery::FollowUp> next = s.state == TaskState::kSuccess
                                               ? celery::on_success(m, meta.result_json, &errors)
                                               : celery::on_failure(m, &errors);
      nlohmann::json children = nlohmann::json::array();
      for (celery::FollowUp& f : next) {
        children.push_back(
            nlohmann::json::array({nlohmann::json::array({f.id, nullptr}), nullptr}));
        broker_cmds.emplace_back(RedisArgs{"LPUSH"});
        broker_cmds.back().add_copy(std::move(f.list)).add_copy(std::move(f.element));
      }
      if (s.state == TaskState::kSuccess) meta.children_json = children.dump();
      for (const std::string& e : errors) log_line(e);
      if (!m.group.empty() && !celery::chord_body(m).empty()) chord_members.push_back(done.size());
    }
    if (write) metas.emplace_back(meta_key(m.id), celery::encode_meta(meta));
    if (!m.group.empty() && !celery::chord_body(m).empty()) {
      chord_results.push_back({meta.status, meta.result_json});
    }
    processed_.fetch_add(1);
    if (opts_.task_events && s.outcome != Outcome::kRelease) {
      const std::string& st = meta.status;
      std::string type = st == "SUCCESS"   ? "task-succeeded"
                         : st == "RETRY"   ? "task-retried"
                         : st == "REVOKED" ? "task-revoked"
                                           : "task-failed";
      nlohmann::json ev = {{"uuid", m.id}};
      if (st == "SUCCESS") {
        ev["result"] = meta.result_json;
        ev["runtime"] = static_cast<double>(rec.finished - rec.started) / 1000.0;
      } else {
        ev["exception"] = rec.error_type + "('" + rec.error + "')";
      }
      publish_event(type, ev);
    }
    broker_cmds.emplace_back(RedisArgs{"ZREM", kUnackedIndex});
    broker_cmds.back().add_copy(tag);
    broker_cmds.emplace_back(RedisArgs{"HDEL", kUnacked});
    broker_cmds.back().add_copy(tag);
    done.push_back(std::move(*f));
  }
  // Results first, then the ack: a crash in between leaves the message to be run again
  // (at least once), never acked without its result.
  Status st = store_results(metas);
  for (std::size_t k = 0; st.ok() && k < chord_members.size() && k < chord_results.size(); ++k) {
    std::optional<celery::FollowUp> body =
        chord_step(done[chord_members[k]].msg, chord_results[k].first, chord_results[k].second);
    if (body) {
      broker_cmds.emplace_back(RedisArgs{"LPUSH"});
      broker_cmds.back().add_copy(std::move(body->list)).add_copy(std::move(body->element));
    }
  }
  if (st.ok() && !broker_cmds.empty()) {
    Result<RedisPool::Handle> conn = broker_.acquire();
    st = conn.status();
    if (conn.ok()) {
      RedisArgs multi{"MULTI"}, exec{"EXEC"};
      std::vector<const RedisArgs*> cmds{&multi};
      for (const RedisArgs& a : broker_cmds) cmds.push_back(&a);
      cmds.push_back(&exec);
      std::vector<Reply> replies;
      st = (*conn)->pipeline(cmds, &replies, "acking celery messages");
    }
  }
  if (!st.ok()) {
    // Nothing acked: put the leases back so that the caller may retry.
    internal::MutexLock lock(mu_);
    for (std::size_t i = 0, k = 0; i < settlements.size(); ++i) {
      if (out[i]) inflight_[settlements[i].token] = std::move(done[k++]);
    }
    return st;
  }
  if (!rest.empty()) {
    RUNQ_ASSIGN_OR_RETURN(std::vector<bool> flags, inner_->settle(rest, now));
    for (std::size_t i = 0; i < rest.size(); ++i) out[rest_at[i]] = flags[i];
  }
  return out;
}

std::optional<celery::FollowUp> CeleryStore::chord_step(const celery::Message& m,
                                                        const std::string& state,
                                                        const std::string& result_json) {
  Result<RedisPool::Handle> conn = backend_.acquire();
  if (!conn.ok()) return std::nullopt;
  const std::string base = "celery-taskset-meta-" + m.group;
  nlohmann::json member =
      nlohmann::json::array({1, m.id, state, nlohmann::json::parse(result_json, nullptr, false)});
  RedisArgs cmd{"EVAL", kChordScript, "3"};
  cmd.add_copy(base + ".j").add_copy(base + ".t").add_copy(base + ".s");
  cmd.add_int(m.group_index >= 0 ? m.group_index : 0).add_copy(member.dump());
  cmd.add_int(opts_.result_expires_ms / 1000);
  Result<Reply> r = (*conn)->call(cmd, "counting a celery chord");
  if (!r.ok() || (*r)->type != REDIS_REPLY_ARRAY) return std::nullopt;
  nlohmann::json results = nlohmann::json::array();
  bool failed = false;
  std::string failed_id, failed_what;
  for (std::size_t i = 0; i < (*r)->elements; ++i) {
    nlohmann::json e = nlohmann::json::parse(reply_text((*r)->element[i]), nullptr, false);
    if (e.is_array() && e.size() >= 4) {
      if (e[2] != "SUCCESS" && !failed) {
        failed = true;
        failed_id = e[1].is_string() ? e[1].get<std::string>() : "";
        const nlohmann::json& x = e[3];
        std::string type = x.is_object() && x.contains("exc_type") && x["exc_type"].is_string()
                               ? x["exc_type"].get<std::string>()
                               : std::string("Error");
        failed_what =
            x.is_object()
                ? type + "(" +
                      (x.contains("exc_message") ? x["exc_message"].dump() : std::string()) + ")"
                : x.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      }
      results.push_back(e[3]);
    }
  }
  if (failed) {
    // As Celery: the body is not run, and its result is a ChordError naming the member.
    nlohmann::json body = nlohmann::json::parse(celery::chord_body(m), nullptr, false);
    std::string body_id;
    if (body.is_object() && body.contains("options") && body["options"].is_object() &&
        body["options"].contains("task_id") && body["options"]["task_id"].is_string()) {
      body_id = body["options"]["task_id"].get<std::string>();
    }
    log_line("chord " + m.group + " has a failed member; its body " + body_id + " fails");
    if (!body_id.empty()) {
      celery::Meta meta;
      meta.status = "FAILURE";
      meta.result_json = celery::exception_json(
          "ChordError", "Dependency " + failed_id + " raised " + failed_what, "celery.exceptions");
      meta.date_done = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      meta.task_id = body_id;
      Status st = store_results({{meta_key(body_id), celery::encode_meta(meta)}});
      if (!st.ok()) log_line(st.message());
    }
    return std::nullopt;
  }
  return celery::chord_message(m, celery::chord_body(m), results.dump());
}

Status CeleryStore::set_progress(const LeaseRef& lease, double fraction) {
  if (lease.token >= kFirstToken) {
    return find(lease.id, lease.token, false)
               ? ok_status()
               : failed_precondition_error("setting progress: stale holder of " + lease.id);
  }
  return inner_->set_progress(lease, fraction);
}

Result<TaskInfo> CeleryStore::celery_task_info(std::string_view id) {
  RUNQ_ASSIGN_OR_RETURN(RedisPool::Handle conn, backend_.acquire());
  RedisArgs get{"GET"};
  get.add_copy(meta_key(id));
  RUNQ_ASSIGN_OR_RETURN(Reply r, conn->call(get, "reading a celery result"));
  TaskInfo info;
  info.id = std::string(id);
  if (r->type == REDIS_REPLY_NIL) {
    internal::MutexLock lock(mu_);
    if (!sent_.contains(info.id)) return not_found_error("no task " + info.id);
    info.state = TaskState::kPending;
    return info;
  }
  RUNQ_ASSIGN_OR_RETURN(celery::MetaView meta, celery::decode_meta(reply_text(r.get())));
  internal::ResultRecord rec;
  rec.id = info.id;
  if (meta.status == "SUCCESS") {
    rec.state = TaskState::kSuccess;
    rec.value = meta.result_json;
  } else if (meta.status == "FAILURE") {
    rec.state = TaskState::kFailure;
  } else if (meta.status == "REVOKED") {
    rec.state = meta.exc_message == "expired" ? TaskState::kExpired : TaskState::kRevoked;
  } else if (meta.status == "RETRY") {
    rec.state = TaskState::kRetry;
  } else {
    rec.state = meta.status == "STARTED" ? TaskState::kStarted : TaskState::kPending;
  }
  if (rec.state != TaskState::kSuccess) {
    rec.error_type = meta.exc_type;
    rec.error = meta.exc_message;
  }
  info.state = rec.state == TaskState::kStarted ? TaskState::kReserved : rec.state;
  if (rec.state != TaskState::kPending) info.result = internal::encode_result(rec);
  return info;
}

Result<TaskInfo> CeleryStore::get_task(std::string_view id, Millis now) {
  Result<TaskInfo> info = inner_->get_task(id, now);
  if (info.ok() || !is_not_found(info.status())) return info;
  return celery_task_info(id);
}

Result<TaskInfo> CeleryStore::wait_task(std::string_view id, Millis timeout_ms) {
  bool ours = false;
  {
    internal::MutexLock lock(mu_);
    ours = sent_.contains(std::string(id));
  }
  if (!ours) {
    Result<TaskInfo> info = inner_->wait_task(id, timeout_ms);
    if (info.ok() || !is_not_found(info.status())) return info;
  }
  // As Celery's AsyncResult.get(): SUBSCRIBE to the result channel, then GET, then wait for a
  // ready state on the channel.
  RUNQ_ASSIGN_OR_RETURN(std::unique_ptr<internal::RedisConnection> conn,
                        internal::RedisConnection::open(backend_.endpoint()));
  RedisArgs sub{"SUBSCRIBE"};
  sub.add_copy(meta_key(id));
  RUNQ_RETURN_IF_ERROR(conn->send(sub, "waiting for a celery result"));
  RUNQ_RETURN_IF_ERROR(conn->read_reply("waiting for a celery result").status());
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max<Millis>(timeout_ms, 0));
  for (;;) {
    RUNQ_ASSIGN_OR_RETURN(TaskInfo info, celery_task_info(id));
    if (is_final(info.state)) return info;
    Millis left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
    if (left <= 0 || !conn->wait_readable(left)) {
      return deadline_exceeded_error("waiting for celery task " + std::string(id));
    }
    RUNQ_RETURN_IF_ERROR(conn->read_reply("waiting for a celery result").status());
  }
}

void CeleryStore::publish_event(const std::string& type, nlohmann::json fields) {
  const std::string& host = hostname_;
  fields["hostname"] = host;
  fields["utcoffset"] = 0;
  fields["pid"] = static_cast<int>(::getpid());
  fields["clock"] = clock_.fetch_add(1) + 1;
  fields["timestamp"] =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  fields["type"] = type;
  std::string key = type;
  std::replace(key.begin(), key.end(), '-', '.');
  Result<RedisPool::Handle> conn = broker_.acquire();
  if (!conn.ok()) return;
  std::string body = fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  RedisArgs pub{"PUBLISH"};
  pub.add_copy(celery::event_channel(opts_.broker.db, key));
  pub.add_copy(celery::event_message(key, body, host));
  (void)(*conn)->call(pub, "publishing a celery event");
}

std::string CeleryStore::active_json() {
  nlohmann::json out = nlohmann::json::array();
  internal::MutexLock lock(mu_);
  for (const auto& [token, f] : inflight_) {
    out.push_back({{"id", f.msg.id},
                   {"name", f.msg.task},
                   {"args", nlohmann::json::parse(f.msg.args, nullptr, false)},
                   {"kwargs", nlohmann::json::parse(f.msg.kwargs, nullptr, false)},
                   {"type", f.msg.task},
                   {"hostname", hostname_},
                   {"time_start", nullptr},
                   {"acknowledged", false},
                   {"delivery_info",
                    {{"exchange", f.msg.exchange},
                     {"routing_key", f.msg.routing_key},
                     {"priority", f.msg.priority},
                     {"redelivered", f.msg.redelivered}}},
                   {"worker_pid", static_cast<int>(::getpid())}});
  }
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<StoreStats> CeleryStore::stats(Millis now) {
  RUNQ_ASSIGN_OR_RETURN(StoreStats out, inner_->stats(now));
  RUNQ_ASSIGN_OR_RETURN(RedisPool::Handle conn, broker_.acquire());
  std::vector<RedisArgs> llen;
  llen.reserve(lists_.size() + 1);
  std::vector<const RedisArgs*> cmds;
  for (const std::string& l : lists_) {
    llen.emplace_back(RedisArgs{"LLEN", l});
    cmds.push_back(&llen.back());
  }
  llen.emplace_back(RedisArgs{"LLEN", dead_key_});
  cmds.push_back(&llen.back());
  std::vector<Reply> replies;
  RUNQ_RETURN_IF_ERROR(conn->pipeline(cmds, &replies, "counting celery queues"));
  auto count = [&](std::size_t i) -> std::int64_t {
    return replies[i] && replies[i]->type == REDIS_REPLY_INTEGER ? replies[i]->integer : 0;
  };
  // lists_ is step-major: for each priority step, every queue.
  for (std::size_t q = 0; q < opts_.queues.size(); ++q) {
    QueueStats qs;
    qs.queue = "celery:" + opts_.queues[q];
    for (std::size_t step = 0; step < 4; ++step)
      qs.pending += count(step * opts_.queues.size() + q);
    if (q == 0) qs.dead = count(lists_.size());  // the dead list is shared by the queues
    if (qs.pending > 0 || qs.dead > 0) out.queues.push_back(std::move(qs));  // as the contract
  }
  return out;
}

Status CeleryStore::heartbeat(const WorkerInfo& info) {
  RUNQ_RETURN_IF_ERROR(inner_->heartbeat(info));
  bool first = false;
  {
    internal::MutexLock lock(mu_);
    if (!control_) {
      first = true;
      internal::celery::Control::Hooks hooks;
      hooks.active = [this] { return active_json(); };
      hooks.revoke = [this](const std::string& id, bool terminate) {
        internal::MutexLock l(mu_);
        revoked_[id] = revoked_[id] || terminate;
        log_line("revoke of " + id + " received" + (terminate ? " (terminate)" : ""));
      };
      control_ = std::make_unique<internal::celery::Control>(broker_.endpoint(), hostname_,
                                                             std::move(hooks));
    }
  }
  double load[3] = {0, 0, 0};
  ::getloadavg(load, 3);
  publish_event(first ? "worker-online" : "worker-heartbeat",
                {{"freq", 2.0},
                 {"active", info.running},
                 {"processed", processed_.load()},
                 {"loadavg", {load[0], load[1], load[2]}},
                 {"sw_ident", "runq"},
                 {"sw_ver", "0.1"},
                 {"sw_sys", "Linux"}});
  return ok_status();
}

Status CeleryStore::remove_worker(std::string_view worker_id) {
  publish_event("worker-offline", {{"freq", 2.0}, {"active", 0}});
  return inner_->remove_worker(worker_id);
}

Result<std::vector<RevokeRequest>> CeleryStore::revoke_requests(std::span<const std::string> ids) {
  Result<std::vector<RevokeRequest>> inner = inner_->revoke_requests(ids);
  std::vector<RevokeRequest> out = inner.ok() ? std::move(*inner) : std::vector<RevokeRequest>{};
  internal::MutexLock lock(mu_);
  for (const std::string& id : ids) {
    auto it = revoked_.find(id);
    if (it != revoked_.end()) out.push_back({id, it->second});
  }
  return out;
}

Status CeleryStore::enqueue(std::span<const NewTask> tasks, Millis now) {
  std::vector<NewTask> rest;
  std::vector<std::pair<std::string, std::string>> pushes;  // list, element
  std::vector<std::string> ids;
  for (const NewTask& t : tasks) {
    if (!is_celery_queue(t.queue)) {
      rest.push_back(t);
      continue;
    }
    if (!t.limits.empty()) {  // Celery's own queues carry no runq limits: refused, not dropped
      return failed_precondition_error(
          "enqueueing task '" + t.id + "': queue '" + t.queue +
          "' is a Celery queue, where runq does not enforce rate limits or per-key concurrency");
    }
    RUNQ_ASSIGN_OR_RETURN(internal::TaskMessage tm, internal::decode_message(t.body));
    // A Celery message has no place for runq's workflow links: refused, not sent without them
    // (a chain would stop silently after this step, a dependent would run at once).
    if (t.links.any() || !tm.workflow.empty()) {
      return failed_precondition_error(
          "enqueueing task '" + t.id + "' (" + tm.name + "): queue '" + t.queue +
          "' is a Celery queue, and runq workflows (chain, group, chord, depends_on, link) "
          "cannot travel in Celery messages; send the workflow to a runq queue (one not in "
          "the store URL's queues=), or use Celery's canvas from Python");
    }
    celery::Outgoing m;
    m.id = t.id;
    m.task = tm.name;
    m.args = tm.args;
    m.queue = t.queue;
    m.priority = t.priority;
    m.eta = t.eta > now ? t.eta : 0;
    m.expires = tm.expires;
    m.time_limit = tm.time_limit;
    m.soft_time_limit = tm.soft_time_limit;
    m.ignore_result = tm.ignore_result;
    pushes.emplace_back(celery::priority_list(t.queue, t.priority), celery::encode_message(m));
    ids.push_back(t.id);
  }
  if (!pushes.empty()) {
    RUNQ_ASSIGN_OR_RETURN(RedisPool::Handle conn, broker_.acquire());
    RedisArgs multi{"MULTI"}, exec{"EXEC"};
    std::vector<RedisArgs> lpush;
    std::vector<const RedisArgs*> cmds{&multi};
    lpush.reserve(pushes.size());
    for (const auto& [list, element] : pushes) {
      lpush.emplace_back(RedisArgs{"LPUSH", list, element});
      cmds.push_back(&lpush.back());
    }
    cmds.push_back(&exec);
    std::vector<Reply> replies;
    RUNQ_RETURN_IF_ERROR(conn->pipeline(cmds, &replies, "sending celery messages"));
    internal::MutexLock lock(mu_);
    for (std::string& id : ids) {
      if (sent_.insert(id).second) sent_order_.push_back(std::move(id));
    }
    while (sent_order_.size() > kSentKept) {
      sent_.erase(sent_order_.front());
      sent_order_.pop_front();
    }
  }
  return rest.empty() ? ok_status() : inner_->enqueue(rest, now);
}

}  // namespace

std::string celery_dead_key(const CeleryStoreOptions& options) {
  return options.broker.key_prefix + "celery.dead";
}

std::string celery_scheduled_key(const CeleryStoreOptions& options) {
  return options.broker.key_prefix + "celery.scheduled";
}

Result<std::unique_ptr<Store>> new_celery_store(const CeleryStoreOptions& options) {
  RUNQ_ASSIGN_OR_RETURN(std::unique_ptr<Store> inner, new_redis_store(options.broker));
  auto store = std::make_unique<CeleryStore>(options, std::move(inner));
  return checked_store(std::move(store), options.broker.max_body_bytes);
}

StoreBackendInfo celery_store_backend() {
  auto open = [](std::string_view url) -> Result<std::unique_ptr<Store>> {
    RUNQ_ASSIGN_OR_RETURN(CeleryStoreOptions opts, parse_celery_url(url));
    return new_celery_store(opts);
  };
  // Each fresh test store gets its own key prefix and Celery queue on the one test server.
  // The scheme is "celery" (a test name cannot hold '+'); "celery+redis" is its alias.
  return {"celery",
          "celery+redis://host[:port][/db][?backend=redis://...&queues=celery]",
          open,
          {"celery+redis://127.0.0.1:{port}/0?prefix=t{n}:&queues=celery{n}", "redis-server", true},
          "celery+redis"};
}

}  // namespace runq
