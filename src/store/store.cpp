// The Store contract's argument checks, applied once above every backend (checked_store), and
// the default implementations of the Store methods a backend may override to save round trips.
#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>

#include "runq/store.hpp"
#include "store/backend.hpp"
#include "store/task_list.hpp"

namespace runq {

Result<std::vector<Delivery>> Store::wait_and_reserve(const ReserveRequest& req, Millis timeout_ms,
                                                      const Clock& clock) {
  Status waited = wait_for_work(req.queues, timeout_ms);
  if (!waited.ok() && !is_deadline_exceeded(waited)) return waited;
  ReserveRequest now = req;
  now.now = clock.now_ms();
  return reserve(now);
}

Result<TaskState> Store::revoke(const Revocation& r, Millis) {
  return failed_precondition_error("revoking task '" + r.id +
                                   "': this store does not support revoke");
}

Result<std::vector<RevokeRequest>> Store::revoke_requests(std::span<const std::string>) {
  return failed_precondition_error("reading revoke requests: this store does not support revoke");
}

Status Store::set_queue_paused(std::string_view queue, bool paused) {
  return failed_precondition_error(std::string(paused ? "pausing" : "resuming") + " queue '" +
                                   std::string(queue) +
                                   "': this store does not support queue controls");
}

Result<std::vector<Result<TaskInfo>>> Store::get_tasks(std::span<const std::string> ids,
                                                       Millis now) {
  std::vector<Result<TaskInfo>> out;
  out.reserve(ids.size());
  for (const std::string& id : ids) {
    Result<TaskInfo> info = get_task(id, now);
    if (!info.ok() && !is_not_found(info.status())) return info.status();
    out.push_back(std::move(info));
  }
  return out;
}

Status Store::set_queue_limit(std::string_view queue, std::int64_t) {
  return failed_precondition_error("limiting queue '" + std::string(queue) +
                                   "': this store does not support queue controls");
}

Result<std::vector<QueueControl>> Store::queue_controls() {
  return failed_precondition_error(
      "reading queue controls: this store does not support queue controls");
}

bool Store::enforces_task_limits() const { return false; }

Result<std::vector<RateLimitState>> Store::rate_limits(Millis) {
  return failed_precondition_error("reading rate limits: this store does not support rate limits");
}

namespace {

bool has_unique(std::span<const NewTask> tasks) {
  return std::any_of(tasks.begin(), tasks.end(),
                     [](const NewTask& t) { return !t.unique.key.empty(); });
}

}  // namespace

Result<std::vector<std::string>> Store::enqueue_unique(std::span<const NewTask> tasks, Millis now) {
  if (has_unique(tasks)) {
    return failed_precondition_error(
        "enqueueing tasks: this store does not support unique keys (unique_key)");
  }
  RUNQ_RETURN_IF_ERROR(enqueue(tasks, now));
  return std::vector<std::string>(tasks.size());
}

namespace {

// The checks below run on every call, so they compare only: messages are built on failure.

std::string quoted(std::string_view id) { return "'" + std::string(id) + "'"; }

Status check_body(std::string_view what, const std::string& body, std::size_t max_body_bytes) {
  if (body.size() <= max_body_bytes) return ok_status();
  return too_large_error(std::string(what) + ": the body is " + std::to_string(body.size()) +
                         " bytes, over the limit of " + std::to_string(max_body_bytes) +
                         " bytes (max_body_bytes)");
}

// Flow-control limits of a task: keys of a sane length, and a limit with each key.
template <typename What>
Status check_limits(const NewTask& t, const What& what) {
  const TaskLimits& l = t.limits;
  for (const std::string* key : {&l.rate_key, &l.concurrency_key}) {
    if (key->size() > kMaxLimitKeyBytes) {
      return invalid_argument_error(what() + ": the limit key is " + std::to_string(key->size()) +
                                    " bytes, over the limit of " +
                                    std::to_string(kMaxLimitKeyBytes));
    }
  }
  if (l.rate_key.empty() != (l.rate_count == 0 && l.rate_period_ms == 0) ||
      l.concurrency_key.empty() != (l.max_concurrency == 0)) {
    return invalid_argument_error(what() + ": a limit without a key (or a key without a " +
                                  "limit); an empty key is no limit");
  }
  if (!l.rate_key.empty() && (l.rate_count < 1 || l.rate_period_ms < 1)) {
    return invalid_argument_error(what() + ": rate limit '" + l.rate_key + "' needs a count and " +
                                  "a period of at least 1, not " + std::to_string(l.rate_count) +
                                  " per " + std::to_string(l.rate_period_ms) + " ms");
  }
  if (!l.concurrency_key.empty() && l.max_concurrency < 1) {
    return invalid_argument_error(what() + ": concurrency key '" + l.concurrency_key +
                                  "' needs max_concurrency of at least 1, not " +
                                  std::to_string(l.max_concurrency));
  }
  return ok_status();
}

Status check_task(const NewTask& t, std::size_t max_body_bytes) {
  if (t.id.empty()) return invalid_argument_error("enqueueing a task: the id is empty");
  auto what = [&t] { return "enqueueing task " + quoted(t.id); };
  if (t.queue.empty()) return invalid_argument_error(what() + ": the queue name is empty");
  if (t.priority < kMinPriority || t.priority > kMaxPriority) {
    return invalid_argument_error(what() + ": priority " + std::to_string(t.priority) +
                                  " is outside 0..9");
  }
  if (t.max_deliveries < 1) {
    return invalid_argument_error(what() + ": max_deliveries must be at least 1, not " +
                                  std::to_string(t.max_deliveries));
  }
  if (t.body.size() > max_body_bytes) return check_body(what(), t.body, max_body_bytes);
  if (t.unique.key.size() > kMaxUniqueKeyBytes) {
    return invalid_argument_error(
        what() + ": the unique key is " + std::to_string(t.unique.key.size()) +
        " bytes, over the limit of " + std::to_string(kMaxUniqueKeyBytes) + " bytes");
  }
  if (t.unique.for_ms < 0) {
    return invalid_argument_error(what() + ": unique_for must not be negative, not " +
                                  std::to_string(t.unique.for_ms) + " ms");
  }
  if (!(t.limits == TaskLimits{})) return check_limits(t, what);
  return ok_status();
}

// The batch-local dependency rules of WorkflowLinks: a task may depend only on tasks earlier in
// its batch (or already stored, which the backend checks), so that no cycle can form.
Status check_batch_links(std::span<const NewTask> tasks, bool supported) {
  std::unordered_map<std::string_view, std::size_t> position;
  bool any = false;
  for (const NewTask& t : tasks) any = any || t.links.any();
  if (!any) return ok_status();
  if (!supported) {
    return failed_precondition_error("enqueueing task " + quoted(tasks.front().id) +
                                     ": this store does not support workflows (dependencies)");
  }
  for (std::size_t i = 0; i < tasks.size(); ++i) position.try_emplace(tasks[i].id, i);
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    for (const std::string& dep : tasks[i].links.depends_on) {
      auto what = [&] { return "enqueueing task " + quoted(tasks[i].id) + ": dependency "; };
      if (dep.empty()) return invalid_argument_error(what() + "'' is an empty id");
      if (dep == tasks[i].id) {
        return invalid_argument_error(what() + quoted(dep) +
                                      " is the task itself (a dependency cycle)");
      }
      auto it = position.find(dep);
      if (it != position.end() && it->second > i) {
        return invalid_argument_error(
            what() + quoted(dep) +
            " comes later in the same batch (dependencies must be enqueued first, so that no "
            "cycle can form)");
      }
    }
  }
  return ok_status();
}

Status check_queues(std::string_view what, const std::vector<std::string>& queues) {
  if (queues.empty()) return invalid_argument_error(std::string(what) + ": no queues given");
  for (const std::string& q : queues) {
    if (q.empty()) return invalid_argument_error(std::string(what) + ": a queue name is empty");
  }
  return ok_status();
}

Status check_lease_ms(std::string_view what, Millis lease_ms) {
  if (lease_ms >= 1) return ok_status();
  return invalid_argument_error(std::string(what) + ": lease_ms must be at least 1, not " +
                                std::to_string(lease_ms));
}

Status check_reserve(const ReserveRequest& req) {
  RUNQ_RETURN_IF_ERROR(check_queues("reserving tasks", req.queues));
  if (req.max < 1) {
    return invalid_argument_error("reserving tasks: max must be at least 1, not " +
                                  std::to_string(req.max));
  }
  return check_lease_ms("reserving tasks", req.lease_ms);
}

bool is_ack_state(TaskState s) {
  return s == TaskState::kSuccess || s == TaskState::kFailure || s == TaskState::kExpired ||
         s == TaskState::kRevoked;
}

Status check_settlement(const Settlement& s, std::size_t max_body_bytes) {
  if (s.id.empty()) return invalid_argument_error("settling a task: the id is empty");
  auto what = [&s] { return "settling task " + quoted(s.id); };
  if (s.outcome == Outcome::kAck && !is_ack_state(s.state)) {
    return invalid_argument_error(what() + ": an ack needs state success, failure, expired or " +
                                  "revoked, not " + std::string(task_state_name(s.state)));
  }
  if (s.result_ttl < 0) {
    return invalid_argument_error(what() + ": result_ttl must not be negative, not " +
                                  std::to_string(s.result_ttl));
  }
  if (s.outcome == Outcome::kRetry && s.body.size() > max_body_bytes) {
    return check_body(what(), s.body, max_body_bytes);
  }
  for (const NewTask& t : s.then.tasks) RUNQ_RETURN_IF_ERROR(check_task(t, max_body_bytes));
  return ok_status();
}

Status check_name(std::string_view what, std::string_view name) {
  if (!name.empty()) return ok_status();
  return invalid_argument_error(std::string(what) + ": the name is empty");
}

// Unique keys and workflow links do not mix in one batch yet: a batch with a unique key holds
// no task with dependencies (or a canceled step).
Status check_unique_without_links(std::span<const NewTask> tasks) {
  for (const NewTask& t : tasks) {
    if (t.links.any()) {
      return invalid_argument_error("enqueueing task " + quoted(t.id) +
                                    ": a batch with unique keys cannot hold workflow steps "
                                    "(dependencies); enqueue them separately");
    }
  }
  return ok_status();
}

// Owns a backend and checks every call's arguments before forwarding it.
class CheckedStore final : public StoreWrapper {
 public:
  CheckedStore(std::unique_ptr<Store> backend, std::size_t max_body_bytes)
      : StoreWrapper(backend.get()), backend_(std::move(backend)), max_body_(max_body_bytes) {}

  // A batch with a unique key goes through the backend's enqueue_unique (a store without
  // unique jobs refuses it); a plain batch takes the plain path, with no extra work.
  Status enqueue(std::span<const NewTask> tasks, Millis now) override {
    for (const NewTask& t : tasks) {
      RUNQ_RETURN_IF_ERROR(check_task(t, max_body_));
      RUNQ_RETURN_IF_ERROR(check_enforced(t));
    }
    RUNQ_RETURN_IF_ERROR(check_batch_links(tasks, backend_->supports_workflows()));
    if (has_unique(tasks)) {
      RUNQ_RETURN_IF_ERROR(check_unique_without_links(tasks));
      return backend_->enqueue_unique(tasks, now).status();
    }
    return backend_->enqueue(tasks, now);
  }

  Result<std::vector<std::string>> enqueue_unique(std::span<const NewTask> tasks,
                                                  Millis now) override {
    for (const NewTask& t : tasks) {
      RUNQ_RETURN_IF_ERROR(check_task(t, max_body_));
      RUNQ_RETURN_IF_ERROR(check_enforced(t));
    }
    RUNQ_RETURN_IF_ERROR(check_batch_links(tasks, backend_->supports_workflows()));
    if (has_unique(tasks)) RUNQ_RETURN_IF_ERROR(check_unique_without_links(tasks));
    if (!has_unique(tasks)) {
      RUNQ_RETURN_IF_ERROR(backend_->enqueue(tasks, now));
      return std::vector<std::string>(tasks.size());
    }
    return backend_->enqueue_unique(tasks, now);
  }

  Result<std::vector<Delivery>> reserve(const ReserveRequest& req) override {
    RUNQ_RETURN_IF_ERROR(check_reserve(req));
    return backend_->reserve(req);
  }

  Status wait_for_work(const std::vector<std::string>& queues, Millis timeout_ms) override {
    RUNQ_RETURN_IF_ERROR(check_queues("waiting for work", queues));
    return backend_->wait_for_work(queues, timeout_ms);
  }

  Result<std::vector<Delivery>> wait_and_reserve(const ReserveRequest& req, Millis timeout_ms,
                                                 const Clock& clock) override {
    RUNQ_RETURN_IF_ERROR(check_reserve(req));
    return backend_->wait_and_reserve(req, timeout_ms, clock);
  }

  Result<std::vector<bool>> extend(std::span<const LeaseRef> leases, Millis lease_ms,
                                   Millis now) override {
    RUNQ_RETURN_IF_ERROR(check_lease_ms("extending leases", lease_ms));
    return backend_->extend(leases, lease_ms, now);
  }

  Result<std::vector<bool>> settle(std::span<const Settlement> settlements, Millis now) override {
    for (const Settlement& s : settlements) {
      RUNQ_RETURN_IF_ERROR(check_settlement(s, max_body_));
      if (s.then.tasks.empty()) continue;
      if (!backend_->supports_workflows()) {
        return failed_precondition_error("settling task " + quoted(s.id) +
                                         ": this store does not support workflows (follow-ups)");
      }
      RUNQ_RETURN_IF_ERROR(check_batch_links(s.then.tasks, true));
      for (const NewTask& t : s.then.tasks) RUNQ_RETURN_IF_ERROR(check_enforced(t));
    }
    return backend_->settle(settlements, now);
  }

  // Out-of-range values are clamped, not refused: a fraction computed as done/total may
  // overshoot 1 by rounding, and failing the task for that would help nobody.
  Status set_progress(const LeaseRef& lease, double fraction) override {
    if (std::isnan(fraction)) {
      return invalid_argument_error("setting progress of task " + quoted(lease.id) +
                                    ": the fraction is NaN");
    }
    return backend_->set_progress(lease, std::clamp(fraction, 0.0, 1.0));
  }

  Status heartbeat(const WorkerInfo& info) override {
    if (info.id.empty())
      return invalid_argument_error("recording a heartbeat: the worker id is empty");
    return backend_->heartbeat(info);
  }

  Result<TaskPage> list_tasks(const TaskFilter& filter, std::string_view cursor, std::size_t limit,
                              Millis now) override {
    if (limit < 1 || limit > kMaxListLimit) {
      return invalid_argument_error("listing tasks: limit " + std::to_string(limit) +
                                    " is outside 1.." + std::to_string(kMaxListLimit));
    }
    if (filter.enqueued_before > 0 && filter.enqueued_before <= filter.enqueued_from) {
      return invalid_argument_error("listing tasks: enqueued_before is not after enqueued_from");
    }
    RUNQ_RETURN_IF_ERROR(internal::parse_list_cursor(cursor).status());
    return backend_->list_tasks(filter, cursor, limit, now);
  }

  Result<std::int64_t> purge_queue(std::string_view queue) override {
    if (queue.empty()) return invalid_argument_error("purging a queue: the queue name is empty");
    return backend_->purge_queue(queue);
  }

  Result<TaskState> revoke(const Revocation& r, Millis now) override {
    if (r.id.empty()) return invalid_argument_error("revoking a task: the task id is empty");
    if (r.result_ttl < 0) {
      return invalid_argument_error("revoking task " + quoted(r.id) +
                                    ": the result ttl is negative");
    }
    return backend_->revoke(r, now);
  }

  Result<bool> claim_tick(std::string_view schedule, Millis tick, const NewTask& task,
                          Millis now) override {
    RUNQ_RETURN_IF_ERROR(check_name("claiming a schedule tick", schedule));
    RUNQ_RETURN_IF_ERROR(check_task(task, max_body_));
    RUNQ_RETURN_IF_ERROR(check_enforced(task));
    if (!task.unique.key.empty()) {
      return invalid_argument_error("claiming a tick of schedule " + quoted(schedule) +
                                    ": a periodic task cannot have a unique key (each tick "
                                    "fires once already)");
    }
    RUNQ_RETURN_IF_ERROR(check_batch_links({&task, 1}, backend_->supports_workflows()));
    return backend_->claim_tick(schedule, tick, task, now);
  }

  Status put_schedule_info(std::string_view schedule, std::string_view info) override {
    RUNQ_RETURN_IF_ERROR(check_name("saving a schedule", schedule));
    return backend_->put_schedule_info(schedule, info);
  }

  Status set_queue_paused(std::string_view queue, bool paused) override {
    RUNQ_RETURN_IF_ERROR(check_name(paused ? "pausing a queue" : "resuming a queue", queue));
    return backend_->set_queue_paused(queue, paused);
  }

  Status set_queue_limit(std::string_view queue, std::int64_t max_length) override {
    RUNQ_RETURN_IF_ERROR(check_name("limiting a queue", queue));
    if (max_length < 0) {
      return invalid_argument_error("limiting queue " + quoted(queue) + ": the limit " +
                                    std::to_string(max_length) +
                                    " is negative (0 removes the limit)");
    }
    return backend_->set_queue_limit(queue, max_length);
  }

 private:
  // A limit the backend would not enforce is refused, never dropped.
  Status check_enforced(const NewTask& t) const {
    if (t.limits.empty() || backend_->enforces_task_limits()) return ok_status();
    return failed_precondition_error(
        "enqueueing task " + quoted(t.id) +
        ": this store does not enforce rate limits or per-key concurrency (TaskLimits); use "
        "sqlite:, redis:// or memory:, or register the task without them");
  }

  std::unique_ptr<Store> backend_;
  const std::size_t max_body_;
};

}  // namespace

std::unique_ptr<Store> checked_store(std::unique_ptr<Store> backend, std::size_t max_body_bytes) {
  return std::make_unique<CheckedStore>(std::move(backend), max_body_bytes);
}

}  // namespace runq
