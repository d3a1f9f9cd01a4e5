// App::explain: where a task stands and why it is not running (yet), from the task, its lease
// and the store's statistics (live workers per queue).
#include <algorithm>

#include <nlohmann/json.hpp>

#include "app/workflow_step.hpp"
#include "core/duration.hpp"
#include "core/message.hpp"
#include "runq/app.hpp"
#include "runq/error.hpp"

namespace runq {
namespace {

using Reason = TaskExplanation::Reason;

bool listens(const WorkerInfo& w, const std::string& queue) {
  return std::find(w.queues.begin(), w.queues.end(), queue) != w.queues.end();
}

std::string no_worker_sentence(const std::string& queue) {
  return "no live worker listens on queue '" + queue + "'; start one with `worker --queues " +
         queue + "`";
}

// SCHEDULED, RETRY, PENDING: waiting for its time, or for a worker.
void explain_queued(TaskExplanation& e, const StoreStats& stats, Millis now) {
  const TaskStatus& st = e.status;
  for (const WorkerInfo& w : stats.workers) e.live_workers += listens(w, st.queue);
  for (const QueueStats& q : stats.queues) {
    if (q.queue == st.queue) e.queue_pending = q.pending;
  }
  bool waiting = st.state == TaskState::kScheduled || st.state == TaskState::kRetry;
  if (waiting && st.next_run > now) {
    bool retry = st.state == TaskState::kRetry;
    e.reason = retry ? Reason::kWaitingToRetry : Reason::kScheduled;
    e.reasons.push_back((retry ? "waiting to retry; next attempt at " : "scheduled for ") +
                        internal::describe_time(st.next_run, now));
    if (e.live_workers == 0) e.reasons.push_back(no_worker_sentence(st.queue));
    return;
  }
  if (e.live_workers == 0) {
    e.reason = Reason::kNoWorker;
    e.reasons.push_back(no_worker_sentence(st.queue));
    return;
  }
  e.reason = Reason::kQueued;
  e.reasons.push_back("waiting in queue '" + st.queue + "' (" + std::to_string(e.queue_pending) +
                      " pending, " + std::to_string(e.live_workers) + " live worker(s) listening)");
}

// RESERVED, STARTED: on a live worker, or on one that stopped heartbeating.
void explain_reserved(TaskExplanation& e, const StoreStats& stats, Millis now) {
  const TaskStatus& st = e.status;
  for (const WorkerInfo& w : stats.workers) e.live_workers += listens(w, st.queue);
  bool alive = std::any_of(stats.workers.begin(), stats.workers.end(),
                           [&](const WorkerInfo& w) { return w.id == st.worker; });
  std::string when = internal::relative_time(e.lease_expires, now);
  if (alive) {
    e.reason = Reason::kRunning;
    e.reasons.push_back("running on worker " + st.worker + "; its lease expires " + when +
                        " and is renewed while the task runs");
  } else if (e.lease_expires > now) {
    e.reason = Reason::kWorkerLost;
    e.reasons.push_back("reserved by worker " + st.worker +
                        ", which stopped heartbeating; its lease lapses " + when +
                        ", then the task is redelivered");
  } else {
    e.reason = Reason::kLeaseLapsed;
    e.reasons.push_back("reserved by worker " + st.worker +
                        ", which stopped heartbeating; its lease lapsed " + when +
                        " and the task is redelivered on the next reserve");
  }
}

// A queued task of a paused queue: the pause comes first, whatever else holds it.
void explain_paused(TaskExplanation& e, Store& store) {
  Result<std::vector<QueueControl>> controls = store.queue_controls();
  if (!controls.ok()) return;  // no queue controls in this store: nothing is paused
  const std::string& q = e.status.queue;
  bool paused = std::any_of(controls->begin(), controls->end(),
                            [&](const QueueControl& c) { return c.queue == q && c.paused; });
  if (!paused) return;
  if (e.reason == Reason::kQueued || e.reason == Reason::kNoWorker) e.reason = Reason::kQueuePaused;
  e.reasons.insert(e.reasons.begin(), "queue '" + q + "' is paused; `runq queue resume " + q +
                                          "` lets workers take its tasks again");
}

// Flow control, from the task's registration (unknown to a process that did not register it):
// a SCHEDULED task without an eta is parked for a concurrency slot; a rate-limited one may
// have been scheduled by its bucket.
void explain_limits(TaskExplanation& e, const TaskDefinition* def) {
  if (def == nullptr || e.status.state != TaskState::kScheduled) return;
  const TaskOptions& o = def->options;
  if (e.status.next_run == 0 && o.max_concurrency() > 0) {
    e.reasons.insert(e.reasons.begin(),
                     "waits for a concurrency slot: at most " +
                         std::to_string(o.max_concurrency()) + " task(s) of '" + def->name +
                         "' with its concurrency key run at once; it goes back to its queue "
                         "when one of them ends");
  } else if (!o.rate_limit().empty()) {
    e.reasons.push_back("task '" + def->name + "' is rate-limited to " + o.rate_limit() +
                        ": reserve schedules a task whose bucket is empty for its turn");
  }
}

void explain_final(TaskExplanation& e) {
  e.reason = Reason::kFinal;
  if (e.status.state == TaskState::kDead && !e.status.dead_reason.empty())
    e.reasons.push_back("dead-lettered: " + e.status.dead_reason);
  if (e.status.state == TaskState::kCanceled && !e.status.error.empty())
    e.reasons.push_back("canceled: " + e.status.error);
}

// WAITING: names the first unfinished dependencies (reads at most kMaxDependencyReads).
void explain_waiting(TaskExplanation& e, Store& store, const TaskInfo& info, Millis now) {
  constexpr int kMaxDependencyReads = 64;
  constexpr std::size_t kMaxNamed = 3;
  e.reason = Reason::kWaiting;
  std::vector<std::string> deps;
  std::size_t total = 0;
  Result<internal::TaskMessage> m = internal::decode_message(info.body);
  if (m.ok() && !m->workflow.empty()) {
    nlohmann::json wf = nlohmann::json::parse(m->workflow, nullptr, false);
    deps = internal::workflow_parents(wf, kMaxDependencyReads);
    total = internal::workflow_parent_count(wf);
  }
  std::vector<std::string> open;
  int reads = 0;
  for (const std::string& d : deps) {
    if (open.size() >= kMaxNamed || ++reads > kMaxDependencyReads) break;
    Result<TaskInfo> dep = store.get_task(d, now);
    if (dep.ok() && !is_final(dep->state)) {
      open.push_back(d + " (" + std::string(task_state_name(dep->state)) + ")");
    }
  }
  std::string text = "waiting for its dependencies";
  if (total > 0) text += " (" + std::to_string(total) + " in all)";
  if (!open.empty()) {
    text += "; unfinished: ";
    for (std::size_t i = 0; i < open.size(); ++i) text += (i > 0 ? ", " : "") + open[i];
  }
  e.reasons.push_back(text);
}

}  // namespace

std::string TaskExplanation::why() const {
  std::string out;
  for (const std::string& r : reasons) out += (out.empty() ? "" : "; ") + r;
  return out;
}

Result<TaskExplanation> App::explain(std::string_view id) {
  std::shared_ptr<Store> s;
  try {
    s = store();
  } catch (const Error& err) {
    return err.status();
  }
  TaskExplanation e;
  RUNQ_ASSIGN_OR_RETURN(e.status, read_task_status(*s, id, clock_->now_ms()));
  if (is_final(e.status.state)) {
    explain_final(e);
    return e;
  }
  Millis now = clock_->now_ms();
  Result<TaskInfo> info = s->get_task(id, now);
  if (info.ok()) e.lease_expires = info->lease_expires;
  if (info.ok() && info->state == TaskState::kWaiting) {
    explain_waiting(e, *s, *info, now);
    return e;
  }
  Result<StoreStats> stats = s->stats(now);
  if (!stats.ok()) {
    e.reason = Reason::kUnknown;
    e.reasons.push_back("unknown (reading store stats failed: " + stats.status().message() + ")");
    return e;
  }
  TaskState st = e.status.state;
  if (st == TaskState::kReserved || st == TaskState::kStarted) {
    explain_reserved(e, *stats, now);
  } else {
    explain_queued(e, *stats, now);
    explain_limits(e, find_task(e.status.task));
    explain_paused(e, *s);
  }
  return e;
}

}  // namespace runq
