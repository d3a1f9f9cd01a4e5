// MemoryStore: the reference model of the Store contract (include/runq/store.hpp).
//
// Every task lives in `tasks_`; each state has exactly one index that holds its id:
//   pending            -> ready_[queue], ordered by (higher priority, earlier enqueue)
//   scheduled / retry  -> scheduled_, ordered by eta
//   reserved           -> leased_, ordered by lease expiry
//   dead               -> dead_, ordered by time of death
//   other final states -> finished_, ordered by when the record expires
//   waiting            -> none (dependents_ maps each dependency to the tasks waiting on it)
// Every change of state goes through unlink() / link(), which keeps that invariant. One mutex
// guards everything, which makes every call atomic with respect to every other.
//
// Conventions where the contract leaves a choice (other backends may differ):
// - a task keeps its enqueue position (`seq`) when it returns to its queue (release, lapse,
//   retry, retry_dead);
// - a holder is current only while its task is RESERVED under its token: a task whose lapsed
//   lease was returned to its queue has no holder until it is handed out again;
// - a finished task's record (state, result) is kept for `result_ttl`, with or without a
//   result value;
// - wait_task returns on a final state only: the result record a retry may leave does not end
//   the wait (the SQLite store does the same).
#include "store/memory_store.hpp"

#include "store/backend.hpp"
#include "store/flow.hpp"
#include "store/rate_bucket.hpp"
#include "store/task_list.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <iterator>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <tuple>

namespace runq {
namespace {

using Clock = std::chrono::steady_clock;

// A due scheduled task or a lapsed lease is noticed by wait_for_work within at most this long
// after the time it was expected (wait_for_work has no `now`; it estimates from the latest
// `now` it saw). Also the shortest such wait, so a caller whose clock lags cannot spin.
constexpr Millis kMinTimedWaitMs = 5;

struct TaskRec {
  std::string id;
  std::string queue;
  int priority = 0;
  int max_deliveries = 1;
  std::uint64_t seq = 0;  // enqueue order
  TaskState state = TaskState::kPending;
  Millis eta = 0;
  int deliveries = 0;
  std::uint64_t token = 0;
  std::string worker_id;
  Millis lease_expires = 0;
  double progress = 0;
  std::string body;
  std::string result;
  Millis result_expires = 0;
  std::string dead_reason;
  Millis died_at = 0;
  std::uint64_t died_order = 0;  // ties of died_at: order of death
  Millis record_expires = 0;     // final (not dead): when the record is dropped
  Millis enqueued = 0;           // the enqueue's `now` (list_tasks order)
  std::string task;              // NewTask::task
  // A revoke request pending while RESERVED; cleared by any settlement.
  bool revoke_requested = false;
  bool revoke_terminate = false;
  std::string revoke_result;  // stored if a lapsed lease ends the task REVOKED
  Millis revoke_ttl = 0;
  TaskLimits limits;    // NewTask::limits
  bool parked = false;  // SCHEDULED without an eta: waits for a concurrency slot of its key
  // Workflows: how many dependencies are still unfinished (WAITING while > 0).
  int waiting_for = 0;
  bool allow_dependency_failure = false;
  std::string unique_key;  // the unique key it holds ("" = none, or released)
  bool unique_until_start = false;
};

// Who holds a unique key, and until when (0 = until released).
struct UniqueHold {
  std::string id;
  Millis expires = 0;
};

// How long a CANCELED record is kept (the default result ttl).
constexpr Millis kCanceledTtlMs = 86'400'000;

using internal::kParkedEta;

using ReadyKey = std::tuple<int, std::uint64_t, std::string>;    // (-priority, seq, id)
using TimeKey = std::pair<Millis, std::string>;                  // (time, id)
using DeadKey = std::tuple<Millis, std::uint64_t, std::string>;  // (died_at, order, id)

bool is_scheduled(TaskState s) { return s == TaskState::kScheduled || s == TaskState::kRetry; }

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

class MemoryStore final : public Store {
 public:
  explicit MemoryStore(const MemoryStoreOptions& options) : options_(options) {}

  Status enqueue(std::span<const NewTask> tasks, Millis now) override {
    std::lock_guard lock(mu_);
    observe(now);
    RUNQ_RETURN_IF_ERROR(check_room(tasks));
    RUNQ_RETURN_IF_ERROR(check_dependencies(tasks, now));
    for (const NewTask& t : tasks) add_task(t, now);
    signal_work();
    return ok_status();
  }

  Result<std::vector<std::string>> enqueue_unique(std::span<const NewTask> tasks,
                                                  Millis now) override {
    std::lock_guard lock(mu_);
    observe(now);
    RUNQ_RETURN_IF_ERROR(check_room(tasks));
    std::vector<std::string> held(tasks.size());
    for (std::size_t i = 0; i < tasks.size(); ++i) held[i] = add_task(tasks[i], now);
    signal_work();
    return held;
  }
  bool supports_workflows() const override { return true; }

  Result<std::vector<Delivery>> reserve(const ReserveRequest& req) override {
    std::lock_guard lock(mu_);
    observe(req.now);
    promote_due(req.now);
    reclaim_lapsed(req.now);
    std::vector<Delivery> out;
    for (const std::string& queue : req.queues) {
      if (is_paused(queue)) continue;
      // hand_out() and admit() may erase the queue's entry in ready_, so look it up every time.
      for (auto it = ready_.find(queue); it != ready_.end() && std::ssize(out) < req.max;
           it = ready_.find(queue)) {
        TaskRec& rec = tasks_.at(std::get<2>(*it->second.begin()));
        if (!rec.limits.empty() && !admit(rec, req.now)) continue;  // moved aside
        out.push_back(hand_out(rec, req));
      }
    }
    return out;
  }

  Status wait_for_work(const std::vector<std::string>& queues, Millis timeout_ms) override {
    std::unique_lock lock(mu_);
    if (has_ready(queues)) return ok_status();
    Millis wait_ms = std::min(std::max<Millis>(timeout_ms, 0), until_next_due(queues));
    std::uint64_t seen = work_gen_;
    work_cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return work_gen_ != seen; });
    return ok_status();
  }

  Result<std::vector<bool>> extend(std::span<const LeaseRef> leases, Millis lease_ms,
                                   Millis now) override {
    std::lock_guard lock(mu_);
    observe(now);
    std::vector<bool> flags;
    for (const LeaseRef& l : leases) {
      TaskRec* rec = holder(l);
      if (rec != nullptr) {
        unlink(*rec);
        rec->lease_expires = now + lease_ms;
        link(*rec);
      }
      flags.push_back(rec != nullptr);
    }
    return flags;
  }

  Result<std::vector<bool>> settle(std::span<const Settlement> settlements, Millis now) override {
    std::lock_guard lock(mu_);
    observe(now);
    for (const Settlement& s : settlements) {
      RUNQ_RETURN_IF_ERROR(check_dependencies(s.then.tasks, now));
    }
    std::vector<bool> flags;
    for (const Settlement& s : settlements) {
      TaskRec* rec = holder({s.id, s.token});
      if (rec == nullptr) {
        ++duplicates_;
      } else {
        apply(*rec, s, now);
        for (const NewTask& t : s.then.tasks) add_task(t, now);
        if (!s.then.tasks.empty()) signal_work();
      }
      flags.push_back(rec != nullptr);
    }
    task_cv_.notify_all();
    return flags;
  }

  Status set_progress(const LeaseRef& lease, double fraction) override {
    std::lock_guard lock(mu_);
    if (tasks_.find(lease.id) == tasks_.end()) {
      return not_found_error("set_progress: no task '" + lease.id + "'");
    }
    TaskRec* rec = holder(lease);
    if (rec == nullptr) {
      return failed_precondition_error("set_progress: task '" + lease.id +
                                       "' is not held under token " + std::to_string(lease.token));
    }
    rec->progress = fraction;
    return ok_status();
  }

  Status heartbeat(const WorkerInfo& info) override {
    std::lock_guard lock(mu_);
    workers_[info.id] = info;
    return ok_status();
  }

  Status remove_worker(std::string_view worker_id) override {
    std::lock_guard lock(mu_);
    if (workers_.erase(std::string(worker_id)) == 0) {
      return not_found_error("remove_worker: no worker '" + std::string(worker_id) + "'");
    }
    return ok_status();
  }

  Result<TaskInfo> get_task(std::string_view id, Millis now) override {
    std::lock_guard lock(mu_);
    observe(now);
    auto it = tasks_.find(std::string(id));
    if (it == tasks_.end() || record_expired(it->second, now)) {
      return not_found_error("get_task: no task '" + std::string(id) + "'");
    }
    return info_of(it->second, now);
  }

  Result<TaskInfo> wait_task(std::string_view id, Millis timeout_ms) override {
    const std::string key(id);
    auto deadline = Clock::now() + std::chrono::milliseconds(std::max<Millis>(timeout_ms, 0));
    std::unique_lock lock(mu_);
    while (true) {
      auto it = tasks_.find(key);
      if (it == tasks_.end()) return not_found_error("wait_task: no task '" + key + "'");
      if (is_final(it->second.state)) {
        return info_of(it->second, latest_now_);
      }
      if (Clock::now() >= deadline) {
        return deadline_exceeded_error("wait_task: task '" + key + "' did not finish within " +
                                       std::to_string(timeout_ms) + " ms");
      }
      task_cv_.wait_until(lock, deadline);
    }
  }

  // The model walks one (enqueued, id) index and checks every filter on the entries it reads,
  // within the same budget as the other stores.
  Result<TaskPage> list_tasks(const TaskFilter& filter, std::string_view cursor, std::size_t limit,
                              Millis now) override {
    std::lock_guard lock(mu_);
    RUNQ_ASSIGN_OR_RETURN(internal::ListCursor c, internal::parse_list_cursor(cursor));
    internal::ListBound bound = internal::list_upper_bound(filter, c);
    internal::PageBuilder page(filter, limit);
    auto it = std::make_reverse_iterator(listed_.lower_bound({bound.enqueued, bound.id}));
    for (; it != listed_.rend() && it->first >= filter.enqueued_from; ++it) {
      if (!page.add(it->first, it->second, summary(it->second, now))) {
        return page.finish(std::next(it) == listed_.rend() ||
                           std::next(it)->first < filter.enqueued_from);
      }
    }
    return page.finish(true);
  }

  Result<StoreStats> stats(Millis now) override {
    std::lock_guard lock(mu_);
    observe(now);
    std::map<std::string, QueueStats> per_queue;
    for (const auto& [id, rec] : tasks_) count_in(per_queue, rec);
    StoreStats out;
    for (auto& [name, q] : per_queue) {
      q.queue = name;
      out.queues.push_back(q);
    }
    for (const auto& [id, w] : workers_) {
      if (w.expires > now) out.workers.push_back(w);
    }
    out.completed = completed_;
    out.failed = failed_;
    out.duplicates = duplicates_;
    return out;
  }

  Result<std::vector<DeadTask>> list_dead(std::size_t limit) override {
    std::lock_guard lock(mu_);
    std::vector<DeadTask> out;
    for (const DeadKey& key : dead_) {
      if (out.size() >= limit) break;
      const TaskRec& rec = tasks_.at(std::get<2>(key));
      out.push_back({rec.id, rec.queue, rec.dead_reason, rec.died_at, rec.body});
    }
    return out;
  }

  Result<std::int64_t> retry_dead(std::span<const std::string> ids, Millis now) override {
    std::lock_guard lock(mu_);
    observe(now);
    std::vector<std::string> chosen;
    if (ids.empty()) {
      for (const DeadKey& key : dead_) chosen.push_back(std::get<2>(key));
    } else {
      chosen.assign(ids.begin(), ids.end());
    }
    std::int64_t n = 0;
    for (const std::string& id : chosen) {
      auto it = tasks_.find(id);
      if (it == tasks_.end() || it->second.state != TaskState::kDead) continue;
      TaskRec& rec = it->second;
      unlink(rec);
      rec.state = TaskState::kPending;
      rec.deliveries = 0;
      rec.dead_reason.clear();
      rec.died_at = 0;
      link(rec);
      ++n;
    }
    if (n > 0) signal_work();
    return n;
  }

  Result<std::int64_t> purge_dead() override {
    std::lock_guard lock(mu_);
    return erase_if([](const TaskRec& r) { return r.state == TaskState::kDead; });
  }

  Result<std::int64_t> purge_queue(std::string_view queue) override {
    std::lock_guard lock(mu_);
    return erase_if([&](const TaskRec& r) {
      return r.queue == queue && (r.state == TaskState::kPending || is_scheduled(r.state));
    });
  }

  Result<std::int64_t> cleanup(Millis now) override {
    std::lock_guard lock(mu_);
    observe(now);
    std::int64_t n = erase_if([&](const TaskRec& r) { return record_expired(r, now); });
    n += erase_if([&](const TaskRec& r) {
      return r.state == TaskState::kDead && r.died_at + options_.dead_retention_ms <= now;
    });
    for (auto& [id, rec] : tasks_) {
      if (!rec.result.empty() && rec.result_expires <= now) {
        rec.result.clear();
        ++n;
      }
    }
    n += std::erase_if(workers_, [&](const auto& kv) { return kv.second.expires <= now; });
    return n;
  }

  Result<TaskState> revoke(const Revocation& r, Millis now) override {
    std::lock_guard lock(mu_);
    observe(now);
    auto it = tasks_.find(r.id);
    if (it == tasks_.end() || record_expired(it->second, now))
      return not_found_error("revoke: no task '" + r.id + "'");
    TaskRec& rec = it->second;
    if (is_final(rec.state)) return rec.state;
    if (rec.state == TaskState::kReserved) {
      rec.revoke_requested = true;
      rec.revoke_terminate = rec.revoke_terminate || r.terminate;
      rec.revoke_result = r.result;
      rec.revoke_ttl = r.result_ttl;
      return TaskState::kReserved;
    }
    end_revoked(rec, r.result, r.result_ttl, now);
    return TaskState::kRevoked;
  }

  Result<std::vector<RevokeRequest>> revoke_requests(std::span<const std::string> ids) override {
    std::lock_guard lock(mu_);
    std::vector<RevokeRequest> out;
    for (const std::string& id : ids) {
      auto it = tasks_.find(id);
      if (it != tasks_.end() && it->second.revoke_requested)
        out.push_back({id, it->second.revoke_terminate});
    }
    return out;
  }

  Result<bool> claim_tick(std::string_view schedule, Millis tick, const NewTask& task,
                          Millis now) override {
    std::lock_guard lock(mu_);
    observe(now);
    ScheduleState& s = schedule_of(schedule);
    if (s.paused || s.last_tick >= tick) return false;
    RUNQ_RETURN_IF_ERROR(check_room(std::span(&task, 1)));
    s.last_tick = tick;
    add_task(task, now);
    signal_work();
    return true;
  }

  Result<std::vector<ScheduleState>> list_schedules() override {
    std::lock_guard lock(mu_);
    std::vector<ScheduleState> out;
    for (const auto& [name, s] : schedules_) out.push_back(s);
    return out;
  }

  Status put_schedule_info(std::string_view schedule, std::string_view info) override {
    std::lock_guard lock(mu_);
    schedule_of(schedule).info = std::string(info);
    return ok_status();
  }

  Status set_schedule_paused(std::string_view schedule, bool paused) override {
    std::lock_guard lock(mu_);
    auto it = schedules_.find(std::string(schedule));
    if (it == schedules_.end()) {
      return not_found_error("set_schedule_paused: no schedule '" + std::string(schedule) + "'");
    }
    it->second.paused = paused;
    return ok_status();
  }

  Status set_queue_paused(std::string_view queue, bool paused) override {
    std::lock_guard lock(mu_);
    control_of(queue).paused = paused;
    drop_if_default(queue);
    if (!paused) signal_work();
    return ok_status();
  }

  Status set_queue_limit(std::string_view queue, std::int64_t max_length) override {
    std::lock_guard lock(mu_);
    control_of(queue).max_length = max_length;
    drop_if_default(queue);
    return ok_status();
  }

  Result<std::vector<QueueControl>> queue_controls() override {
    std::lock_guard lock(mu_);
    std::vector<QueueControl> out;
    for (const auto& [name, c] : controls_) out.push_back(c);
    return out;
  }

  bool enforces_task_limits() const override { return true; }

  Result<std::vector<RateLimitState>> rate_limits(Millis now) override {
    std::lock_guard lock(mu_);
    std::vector<RateLimitState> out;
    for (const auto& [key, r] : rates_) {
      out.push_back({key, r.count, r.period_ms,
                     internal::rate_started_last_period(r.bucket, r.period_ms, now),
                     internal::rate_next_free_ms(r.bucket, r.count, r.period_ms, now)});
    }
    return out;
  }

 private:
  // ---- flow control: rate limits and per-key concurrency (mu_ held) ----------------------

  struct Rate {
    std::int64_t count = 0;
    Millis period_ms = 0;
    internal::RateBucket bucket;
  };

  // Whether the PENDING task `rec` may be handed out now under its limits. If not, moves it
  // aside (SCHEDULED until its rate slot, or parked until a concurrency slot frees) and
  // returns false.
  bool admit(TaskRec& rec, Millis now) {
    const TaskLimits& l = rec.limits;
    if (!l.concurrency_key.empty() && held_[l.concurrency_key] >= l.max_concurrency) {
      unlink(rec);
      rec.state = TaskState::kScheduled;
      rec.eta = kParkedEta;
      rec.parked = true;
      link(rec);
      return false;
    }
    if (!l.rate_key.empty()) {
      Rate& r = rates_[l.rate_key];
      r.count = l.rate_count;
      r.period_ms = l.rate_period_ms;
      Millis again = internal::rate_take(r.bucket, r.count, r.period_ms, now);
      if (again != 0) {
        unlink(rec);
        rec.state = TaskState::kScheduled;
        rec.eta = again;
        link(rec);
        return false;
      }
    }
    return true;
  }

  // A task of `key` left RESERVED: a free slot goes to the longest-parked task of the key.
  void free_slot(const std::string& key) {
    auto parked = parked_.find(key);
    if (parked == parked_.end()) return;
    TaskRec& next = tasks_.at(parked->second.begin()->second);
    auto held = held_.find(key);
    if (held != held_.end() && held->second >= next.limits.max_concurrency) return;
    unlink(next);
    next.state = TaskState::kPending;
    next.eta = 0;
    next.parked = false;
    link(next);
    signal_work();
  }

  // ---- flow control (mu_ held) ----------------------------------------------------------

  QueueControl& control_of(std::string_view queue) {
    auto [it, added] = controls_.try_emplace(std::string(queue));
    if (added) it->second.queue = std::string(queue);
    return it->second;
  }

  void drop_if_default(std::string_view queue) {
    auto it = controls_.find(std::string(queue));
    if (it != controls_.end() && !it->second.paused && it->second.max_length == 0) {
      controls_.erase(it);
    }
  }

  bool is_paused(const std::string& queue) const {
    auto it = controls_.find(queue);
    return it != controls_.end() && it->second.paused;
  }

  // QueueFull unless every bounded queue has room for all of `tasks` that go to it.
  Status check_room(std::span<const NewTask> tasks) const {
    if (controls_.empty()) return ok_status();
    std::map<std::string, std::int64_t> adding;
    for (const NewTask& t : tasks) ++adding[t.queue];
    for (const auto& [queue, n] : adding) {
      auto it = controls_.find(queue);
      if (it == controls_.end() || it->second.max_length == 0) continue;
      if (queued_length(queue) + n > it->second.max_length) {
        return internal::queue_full_error(queue, it->second.max_length)
            .with_context("enqueueing tasks");
      }
    }
    return ok_status();
  }

  // PENDING + SCHEDULED (and RETRY) tasks of `queue`.
  std::int64_t queued_length(const std::string& queue) const {
    auto ready = ready_.find(queue);
    std::int64_t n = ready == ready_.end() ? 0 : std::ssize(ready->second);
    for (const auto& [eta, id] : scheduled_) n += tasks_.at(id).queue == queue ? 1 : 0;
    return n;
  }

  // ---- the per-state indexes -----------------------------------------------------------

  void unlink(const TaskRec& r) {
    if (r.state == TaskState::kWaiting) return;
    if (r.parked) {
      auto it = parked_.find(r.limits.concurrency_key);
      it->second.erase({r.seq, r.id});
      if (it->second.empty()) parked_.erase(it);
    }
    if (r.state == TaskState::kReserved && !r.limits.concurrency_key.empty()) {
      auto held = held_.find(r.limits.concurrency_key);
      if (--held->second <= 0) held_.erase(held);
      freed_.push_back(r.limits.concurrency_key);
    }
    if (r.state == TaskState::kPending) {
      auto it = ready_.find(r.queue);
      it->second.erase({-r.priority, r.seq, r.id});
      if (it->second.empty()) ready_.erase(it);
    } else if (is_scheduled(r.state)) {
      scheduled_.erase({r.eta, r.id});
    } else if (r.state == TaskState::kReserved) {
      leased_.erase({r.lease_expires, r.id});
    } else if (r.state == TaskState::kDead) {
      dead_.erase({r.died_at, r.died_order, r.id});
    } else {
      finished_.erase({r.record_expires, r.id});
    }
  }

  void link(const TaskRec& r) {
    if (r.state == TaskState::kWaiting) return;
    if (r.parked) parked_[r.limits.concurrency_key].insert({r.seq, r.id});
    if (r.state == TaskState::kReserved && !r.limits.concurrency_key.empty()) {
      ++held_[r.limits.concurrency_key];
    }
    if (r.state == TaskState::kPending) {
      ready_[r.queue].insert({-r.priority, r.seq, r.id});
    } else if (is_scheduled(r.state)) {
      scheduled_.insert({r.eta, r.id});
    } else if (r.state == TaskState::kReserved) {
      leased_.insert({r.lease_expires, r.id});
    } else if (r.state == TaskState::kDead) {
      dead_.insert({r.died_at, r.died_order, r.id});
    } else {
      finished_.insert({r.record_expires, r.id});
    }
    while (!freed_.empty()) {  // after the change: free_slot() links another task
      std::string key = std::move(freed_.back());
      freed_.pop_back();
      free_slot(key);
    }
  }

  // ---- transitions (mu_ held) -------------------------------------------------------------

  // Adds `t` unless its id exists or another task holds its unique key; returns the id of
  // that holder ("" otherwise).
  std::string add_task(const NewTask& t, Millis now) {
    // A finished record whose ttl passed no longer holds its id (as on the other stores).
    if (auto old = tasks_.find(t.id); old != tasks_.end() && !summary(t.id, now)) {
      unlink(old->second);
      listed_.erase({old->second.enqueued, t.id});
      tasks_.erase(old);
    }
    if (!t.unique.key.empty()) {
      auto held = unique_.find(t.unique.key);
      if (held != unique_.end() && held->second.id != t.id &&
          (held->second.expires == 0 || held->second.expires > now)) {
        return held->second.id;
      }
    }
    if (tasks_.count(t.id) != 0) return "";  // idempotent per id
    TaskRec rec;
    if (!t.unique.key.empty()) {
      unique_[t.unique.key] = {t.id, t.unique.for_ms > 0 ? now + t.unique.for_ms : 0};
      rec.unique_key = t.unique.key;
      rec.unique_until_start = t.unique.until_start;
    }
    rec.id = t.id;
    rec.queue = t.queue;
    rec.priority = t.priority;
    rec.max_deliveries = t.max_deliveries;
    rec.seq = ++next_seq_;
    rec.eta = t.eta;
    rec.state = t.eta <= now ? TaskState::kPending : TaskState::kScheduled;
    rec.body = t.body;
    rec.enqueued = now;
    rec.task = t.task;
    rec.limits = t.limits;
    rec.allow_dependency_failure = t.links.allow_dependency_failure;
    listed_.insert({now, t.id});
    // Workflows: a dependency that already ended is resolved now; the others are counted.
    std::string cancel = t.links.canceled;
    for (const std::string& dep : t.links.depends_on) {
      if (!cancel.empty()) break;
      const TaskRec& d = tasks_.at(dep);
      if (!is_final(d.state)) {
        std::vector<std::string>& waiters = dependents_[dep];
        if (std::find(waiters.begin(), waiters.end(), t.id) != waiters.end()) continue;
        waiters.push_back(t.id);
        ++rec.waiting_for;
      } else if (d.state != TaskState::kSuccess && !rec.allow_dependency_failure) {
        cancel = dependency_failed(dep, d.state);
      }
    }
    if (!cancel.empty()) {
      for (const std::string& dep : t.links.depends_on) std::erase(dependents_[dep], t.id);
      rec.waiting_for = 0;
      rec.state = TaskState::kCanceled;
      rec.dead_reason = cancel;
      rec.record_expires = now + kCanceledTtlMs;
      rec.body.clear();
    } else if (rec.waiting_for > 0) {
      rec.state = TaskState::kWaiting;
    }
    TaskState state = rec.state;
    link(tasks_.emplace(t.id, std::move(rec)).first->second);
    if (state == TaskState::kCanceled) resolve_dependents(t.id, state, now);
    return "";
  }

  // Gives up the unique key `rec` holds, if it still holds it (it may have lapsed and gone to
  // another task).
  void release_unique(TaskRec& rec) {
    if (rec.unique_key.empty()) return;
    auto it = unique_.find(rec.unique_key);
    if (it != unique_.end() && it->second.id == rec.id) unique_.erase(it);
    rec.unique_key.clear();
  }

  // Why a task waiting on `dep` is canceled: the root cause when `dep` was itself canceled.
  std::string dependency_failed(const std::string& dep, TaskState state) const {
    if (state == TaskState::kCanceled) return tasks_.at(dep).dead_reason;
    return "dependency " + dep + " ended " + std::string(task_state_name(state));
  }

  // The store-side rule of WorkflowLinks: every dependency exists (or comes earlier in
  // `tasks`; checked_store refused the later ones).
  Status check_dependencies(std::span<const NewTask> tasks, Millis now) const {
    std::set<std::string_view> batch;
    for (const NewTask& t : tasks) {
      for (const std::string& dep : t.links.depends_on) {
        if (batch.count(dep) != 0) continue;
        auto it = tasks_.find(dep);
        if (it == tasks_.end() || record_expired(it->second, now)) {
          return invalid_argument_error("enqueueing task '" + t.id + "': dependency '" + dep +
                                        "' does not exist (never enqueued, or its record "
                                        "expired)");
        }
      }
      batch.insert(t.id);
    }
    return ok_status();
  }

  // Task `id` just ended in final `state`: counts it for every task waiting on it, queueing
  // those it was the last for and cancelling those it fails (which cascades).
  void resolve_dependents(const std::string& id, TaskState state, Millis now) {
    std::vector<std::pair<std::string, TaskState>> ended{{id, state}};
    while (!ended.empty()) {
      auto [dep, dep_state] = ended.back();
      ended.pop_back();
      auto it = dependents_.find(dep);
      if (it == dependents_.end()) continue;
      std::vector<std::string> waiters = std::move(it->second);
      dependents_.erase(it);
      for (const std::string& w : waiters) {
        auto wit = tasks_.find(w);
        if (wit == tasks_.end() || wit->second.state != TaskState::kWaiting) continue;
        TaskRec& rec = wit->second;
        if (dep_state == TaskState::kSuccess || rec.allow_dependency_failure) {
          if (--rec.waiting_for > 0) continue;
          rec.state = rec.eta <= now ? TaskState::kPending : TaskState::kScheduled;
          link(rec);
          signal_work();
        } else {
          rec.state = TaskState::kCanceled;
          rec.waiting_for = 0;
          rec.dead_reason = dependency_failed(dep, dep_state);
          rec.record_expires = now + kCanceledTtlMs;
          rec.body.clear();
          link(rec);
          task_cv_.notify_all();
          ended.emplace_back(w, TaskState::kCanceled);
        }
      }
    }
  }

  void promote_due(Millis now) {
    while (!scheduled_.empty() && scheduled_.begin()->first <= now) {
      TaskRec& rec = tasks_.at(scheduled_.begin()->second);
      unlink(rec);
      rec.state = TaskState::kPending;
      link(rec);
    }
  }

  void reclaim_lapsed(Millis now) {
    while (!leased_.empty() && leased_.begin()->first <= now) {
      TaskRec& rec = tasks_.at(leased_.begin()->second);
      if (rec.revoke_requested) {  // its holder died: it ends as revoked, not run again
        end_revoked(rec, rec.revoke_result, rec.revoke_ttl, now);
        continue;
      }
      unlink(rec);
      if (rec.deliveries >= rec.max_deliveries) {
        rec.state = TaskState::kDead;
        rec.died_at = now;
        rec.died_order = ++next_death_;
        release_unique(rec);
        rec.dead_reason = "lease lapsed " + std::to_string(rec.deliveries) +
                          " times (max_deliveries " + std::to_string(rec.max_deliveries) +
                          "); last holder: worker '" + rec.worker_id + "'";
        task_cv_.notify_all();
        link(rec);
        resolve_dependents(rec.id, rec.state, now);
        continue;
      } else {
        rec.state = TaskState::kPending;
        signal_work();
      }
      link(rec);
    }
  }

  Delivery hand_out(TaskRec& rec, const ReserveRequest& req) {
    unlink(rec);
    rec.state = TaskState::kReserved;
    rec.deliveries += 1;
    rec.token = ++next_token_;
    rec.worker_id = req.worker_id;
    rec.lease_expires = req.now + req.lease_ms;
    rec.progress = 0;
    if (rec.unique_until_start) release_unique(rec);
    link(rec);
    return {rec.id, rec.queue, rec.body, rec.token, rec.deliveries, rec.lease_expires};
  }

  // Ends a queued, scheduled or reserved task REVOKED, as a kAck settlement would.
  void end_revoked(TaskRec& rec, const std::string& result, Millis ttl, Millis now) {
    Settlement s;
    s.outcome = Outcome::kAck;
    s.state = TaskState::kRevoked;
    s.result = result;
    s.result_ttl = ttl;
    apply(rec, s, now);
    task_cv_.notify_all();
  }

  void apply(TaskRec& rec, const Settlement& s, Millis now) {
    unlink(rec);
    rec.parked = false;
    rec.revoke_requested = rec.revoke_terminate = false;
    rec.revoke_result.clear();
    if (!s.result.empty()) {
      rec.result = s.result;
      rec.result_expires = now + s.result_ttl;
    }
    switch (s.outcome) {
      case Outcome::kAck:
        release_unique(rec);
        rec.state = s.state;
        rec.record_expires = now + s.result_ttl;
        rec.body.clear();
        ++completed_;
        if (s.state == TaskState::kFailure) ++failed_;
        break;
      case Outcome::kRetry:
        rec.state = TaskState::kRetry;
        rec.eta = s.retry_at;
        rec.deliveries = 0;
        if (!s.body.empty()) rec.body = s.body;
        break;
      case Outcome::kDeadLetter:
        release_unique(rec);
        rec.state = TaskState::kDead;
        rec.dead_reason = s.reason;
        rec.died_at = now;
        rec.died_order = ++next_death_;
        break;
      case Outcome::kRelease:
        rec.state = TaskState::kPending;
        rec.deliveries = std::max(0, rec.deliveries - 1);
        break;
    }
    link(rec);
    if (s.outcome == Outcome::kRetry || s.outcome == Outcome::kRelease) signal_work();
    if (is_final(rec.state)) resolve_dependents(rec.id, rec.state, now);
  }

  // Erases every task matching `pred`. Returns how many.
  template <typename Pred>
  std::int64_t erase_if(Pred pred) {
    std::int64_t n = 0;
    for (auto it = tasks_.begin(); it != tasks_.end();) {
      if (pred(it->second)) {
        release_unique(it->second);
        unlink(it->second);
        listed_.erase({it->second.enqueued, it->first});
        it = tasks_.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    if (n > 0) task_cv_.notify_all();
    return n;
  }

  // ---- queries (mu_ held) --------------------------------------------------------------

  // The listed form of task `id`; nullopt when its finished record expired.
  std::optional<TaskSummary> summary(const std::string& id, Millis now) const {
    const TaskRec& r = tasks_.at(id);
    bool finished = !is_scheduled(r.state) && r.state != TaskState::kPending &&
                    r.state != TaskState::kReserved && r.state != TaskState::kDead &&
                    r.state != TaskState::kWaiting;
    if (finished && r.record_expires <= now) return std::nullopt;
    return TaskSummary{r.id, r.queue, r.task, r.state, r.enqueued};
  }

  // The task if (id, token) is its current holder.
  TaskRec* holder(const LeaseRef& l) {
    auto it = tasks_.find(l.id);
    if (it == tasks_.end()) return nullptr;
    TaskRec& rec = it->second;
    return rec.state == TaskState::kReserved && rec.token == l.token ? &rec : nullptr;
  }

  bool record_expired(const TaskRec& r, Millis now) const {
    return is_final(r.state) && r.state != TaskState::kDead && r.record_expires <= now;
  }

  TaskInfo info_of(const TaskRec& r, Millis now) const {
    TaskInfo info;
    info.id = r.id;
    info.state = r.state;
    bool queued = !is_final(r.state);
    info.queue = queued ? r.queue : "";
    info.priority = r.priority;
    info.eta = r.parked ? 0 : r.eta;
    info.deliveries = r.deliveries;
    if (r.state == TaskState::kReserved) {
      info.worker_id = r.worker_id;
      info.lease_expires = r.lease_expires;
    }
    info.progress = r.progress;
    if (r.result_expires > now) info.result = r.result;
    info.dead_reason = r.dead_reason;
    if (queued || r.state == TaskState::kDead) info.body = r.body;
    return info;
  }

  void count_in(std::map<std::string, QueueStats>& per_queue, const TaskRec& r) const {
    if (r.state == TaskState::kPending) {
      ++per_queue[r.queue].pending;
    } else if (is_scheduled(r.state)) {
      ++per_queue[r.queue].scheduled;
    } else if (r.state == TaskState::kReserved) {
      ++per_queue[r.queue].running;
    } else if (r.state == TaskState::kDead) {
      ++per_queue[r.queue].dead;
    }
  }

  bool has_ready(const std::vector<std::string>& queues) const {
    for (const std::string& q : queues) {
      if (ready_.count(q) != 0 && !is_paused(q)) return true;
    }
    return false;
  }

  // How long (ms, in the callers' time) until a scheduled task of `queues` becomes due or a
  // lease lapses, judged from the latest `now` seen; at least kMinTimedWaitMs.
  Millis until_next_due(const std::vector<std::string>& queues) const {
    Millis next = std::numeric_limits<Millis>::max();
    for (const auto& [eta, id] : scheduled_) {
      if (contains(queues, tasks_.at(id).queue)) {
        next = eta;
        break;
      }
    }
    if (!leased_.empty()) next = std::min(next, leased_.begin()->first);
    if (next == std::numeric_limits<Millis>::max()) return next;
    return std::max(next - latest_now_, kMinTimedWaitMs);
  }

  ScheduleState& schedule_of(std::string_view name) {
    auto [it, added] = schedules_.try_emplace(std::string(name));
    if (added) it->second.name = std::string(name);
    return it->second;
  }

  void signal_work() {
    ++work_gen_;
    work_cv_.notify_all();
  }

  void observe(Millis now) { latest_now_ = std::max(latest_now_, now); }

  const MemoryStoreOptions options_;
  std::mutex mu_;
  std::condition_variable work_cv_;  // something became ready (enqueue, release, retry...)
  std::condition_variable task_cv_;  // a task settled, died or was deleted
  std::uint64_t work_gen_ = 0;
  std::map<std::string, TaskRec> tasks_;
  std::map<std::string, std::set<ReadyKey>> ready_;
  std::set<TimeKey> scheduled_;
  std::set<TimeKey> leased_;
  std::set<DeadKey> dead_;
  std::set<TimeKey> finished_;
  std::set<TimeKey> listed_;  // (enqueued, id) of every task in tasks_: list_tasks
  std::map<std::string, WorkerInfo> workers_;
  std::map<std::string, ScheduleState> schedules_;
  std::map<std::string, QueueControl> controls_;  // queues with a control set (flow control)
  std::map<std::string, Rate> rates_;             // rate-limit buckets by key
  std::map<std::string, int> held_;               // concurrency key -> tasks RESERVED
  std::map<std::string, std::set<std::pair<std::uint64_t, std::string>>> parked_;  // (seq, id)
  std::vector<std::string> freed_;  // concurrency keys whose task left RESERVED (see unlink)
  std::map<std::string, UniqueHold> unique_;                    // held unique keys (unique jobs)
  std::map<std::string, std::vector<std::string>> dependents_;  // dependency -> waiting ids
  std::uint64_t next_seq_ = 0;
  std::uint64_t next_token_ = 0;
  std::uint64_t next_death_ = 0;
  std::uint64_t completed_ = 0;
  std::uint64_t failed_ = 0;
  std::uint64_t duplicates_ = 0;
  Millis latest_now_ = 0;
};

}  // namespace

std::unique_ptr<Store> new_memory_store(const MemoryStoreOptions& options) {
  return checked_store(std::make_unique<MemoryStore>(options), options.max_body_bytes);
}

Status check_memory_url(std::string_view url) {
  if (url != "memory" && url != "memory:") {
    return invalid_argument_error("opening store '" + std::string(url) +
                                  "': memory: takes no path");
  }
  return ok_status();
}

StoreBackendInfo memory_store_backend() {
  auto open = [](std::string_view url) -> Result<std::unique_ptr<Store>> {
    RUNQ_RETURN_IF_ERROR(check_memory_url(url));
    return new_memory_store();
  };
  return {"memory", "memory:", open, {"memory:", "", false}};
}

}  // namespace runq
