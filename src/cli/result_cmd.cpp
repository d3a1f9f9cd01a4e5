// `result ID [--wait D] [--json]`: a task's state, value or errors, and — for a task that is
// not final — why it is not running yet.
#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/cli_support.hpp"
#include "cli/commands.hpp"
#include "core/duration.hpp"
#include "runq/app.hpp"
#include "runq/result.hpp"

namespace runq::internal {
namespace {

constexpr std::string_view kCmd = "result";

struct Report {
  TaskStatus status;
  Millis lease_expires = 0;
  std::string why;  // empty for final tasks
};

bool worker_listens(const WorkerInfo& w, const std::string& queue) {
  return std::find(w.queues.begin(), w.queues.end(), queue) != w.queues.end();
}

std::string explain_queued(const TaskStatus& st, const StoreStats& stats, Millis now) {
  int listeners = 0;
  for (const WorkerInfo& w : stats.workers) listeners += worker_listens(w, st.queue);
  const std::string no_worker = "no live worker listens on queue '" + st.queue +
                                "'; start one with `worker --queues " + st.queue + "`";
  bool waiting = st.state == TaskState::kScheduled || st.state == TaskState::kRetry;
  if (waiting && st.next_run > now) {
    std::string why =
        st.state == TaskState::kRetry ? "waiting to retry; next attempt at " : "scheduled for ";
    why += describe_time(st.next_run, now);
    return listeners > 0 ? why : why + "; " + no_worker;
  }
  if (listeners == 0) return no_worker;
  std::int64_t pending = 0;
  for (const QueueStats& q : stats.queues) {
    if (q.queue == st.queue) pending = q.pending;
  }
  return "waiting in queue '" + st.queue + "' (" + std::to_string(pending) + " pending, " +
         std::to_string(listeners) + " live worker(s) listening)";
}

std::string explain_reserved(const Report& r, const StoreStats& stats, Millis now) {
  const TaskStatus& st = r.status;
  bool alive = std::any_of(stats.workers.begin(), stats.workers.end(),
                           [&](const WorkerInfo& w) { return w.id == st.worker; });
  if (alive) {
    return "running on worker " + st.worker + "; its lease expires " +
           relative_time(r.lease_expires, now) + " and is renewed while the task runs";
  }
  if (r.lease_expires > now) {
    return "reserved by worker " + st.worker + ", which stopped heartbeating; its lease lapses " +
           relative_time(r.lease_expires, now) + ", then the task is redelivered";
  }
  return "reserved by worker " + st.worker + ", which stopped heartbeating; its lease lapsed " +
         relative_time(r.lease_expires, now) + " and the task is redelivered on the next reserve";
}

std::string explain(const Report& r, Store& store, Millis now) {
  Result<StoreStats> stats = store.stats(now);
  if (!stats.ok()) return "unknown (reading store stats failed: " + stats.status().message() + ")";
  TaskState s = r.status.state;
  if (s == TaskState::kReserved || s == TaskState::kStarted)
    return explain_reserved(r, *stats, now);
  return explain_queued(r.status, *stats, now);
}

// Reads the task, waiting up to `wait_ms` for a final state. NotFound for an unknown id.
Result<Report> load(Store& store, const std::string& id, Millis wait_ms, const Clock& clock) {
  Report r;
  if (wait_ms > 0) {
    Result<TaskStatus> st = wait_task_status(store, id, wait_ms);
    if (!st.ok() && !is_deadline_exceeded(st.status())) return st.status();
    if (st.ok()) r.status = std::move(st).value();
  }
  if (r.status.id.empty() || !is_final(r.status.state)) {
    RUNQ_ASSIGN_OR_RETURN(r.status, read_task_status(store, id));
  }
  if (!is_final(r.status.state)) {
    Millis now = clock.now_ms();  // after the wait
    Result<TaskInfo> info = store.get_task(id, now);
    if (info.ok()) r.lease_expires = info->lease_expires;
    r.why = explain(r, store, now);
  }
  return r;
}

std::string state_upper(TaskState s) {
  std::string name(task_state_name(s));
  std::transform(name.begin(), name.end(), name.begin(), ::toupper);
  return name;
}

nlohmann::json value_json(const std::string& text) {
  if (text.empty()) return nullptr;
  nlohmann::json v = nlohmann::json::parse(text, nullptr, false);
  return v.is_discarded() ? nlohmann::json(text) : v;
}

void print_json(const Report& r) {
  const TaskStatus& st = r.status;
  nlohmann::json errors = nlohmann::json::array();
  for (const AttemptError& e : st.errors) {
    errors.push_back({{"attempt", e.attempt},
                      {"type", e.type},
                      {"message", e.message},
                      {"at", time_json(e.at)}});
  }
  nlohmann::json j = {{"id", st.id},
                      {"task", st.task},
                      {"state", task_state_name(st.state)},
                      {"value", value_json(st.value)},
                      {"error_type", st.error_type},
                      {"error", st.error},
                      {"errors", errors},
                      {"attempts", st.attempts},
                      {"progress", st.progress},
                      {"queue", st.queue},
                      {"worker", st.worker},
                      {"enqueued", time_json(st.enqueued)},
                      {"started", time_json(st.started)},
                      {"finished", time_json(st.finished)},
                      {"next_run", time_json(st.next_run)},
                      {"lease_expires", time_json(r.lease_expires)},
                      {"dead_reason", st.dead_reason},
                      {"final", is_final(st.state)}};
  if (!r.why.empty()) j["why"] = r.why;
  std::printf("%s\n", j.dump().c_str());
}

void line(const char* label, const std::string& value) {
  if (!value.empty() && value != "-") std::printf("%-10s %s\n", label, value.c_str());
}

void print_human(const Report& r, Millis now) {
  const TaskStatus& st = r.status;
  line("id:", st.id);
  line("task:", st.task);
  line("state:", state_upper(st.state));
  if (st.state == TaskState::kSuccess) line("value:", st.value.empty() ? "null" : st.value);
  if (!st.error.empty())
    line("error:", st.error_type.empty() ? st.error : st.error_type + ": " + st.error);
  if (!st.dead_reason.empty() && st.dead_reason != st.error) line("reason:", st.dead_reason);
  if (st.attempts > 0) line("attempts:", std::to_string(st.attempts));
  if (!is_final(st.state) && st.progress > 0)
    line("progress:", std::to_string(int(st.progress * 100)) + "%");
  line("queue:", st.queue);
  line("worker:", st.worker);
  line("enqueued:", describe_time(st.enqueued, now));
  line("started:", describe_time(st.started, now));
  line("finished:", describe_time(st.finished, now));
  if (!is_final(st.state)) line("next run:", describe_time(st.next_run, now));
  line("why:", r.why);
  if (st.errors.empty()) return;
  std::printf("errors (oldest first):\n");
  for (const AttemptError& e : st.errors) {
    std::printf("  attempt %d at %s: %s: %s\n", e.attempt, format_time(e.at).c_str(),
                e.type.c_str(), e.message.c_str());
  }
}

int exit_code(TaskState s) {
  if (s == TaskState::kSuccess) return kExitOk;
  return is_final(s) ? kExitFailure : kExitNotReady;
}

}  // namespace

int run_result_cmd(App& app, const ResultArgs& a) {
  Millis wait_ms = 0;
  if (!a.wait.empty()) {
    Result<Millis> w = parse_duration_option("--wait", a.wait);
    if (!w.ok()) return fail(kCmd, w.status());
    wait_ms = *w;
  }
  Result<std::shared_ptr<Store>> store = open_app_store(app);
  if (!store.ok()) return fail(kCmd, store.status());
  Result<Report> r = load(**store, a.id, wait_ms, app.clock());
  if (!r.ok()) {
    if (is_not_found(r.status()))
      return fail(kCmd, "unknown task id '" + a.id + "' (never enqueued, or its result expired)",
                  kExitUnknown);
    return fail(kCmd, r.status());
  }
  if (a.json) {
    print_json(*r);
  } else {
    print_human(*r, app.clock().now_ms());
  }
  return exit_code(r->status.state);
}

}  // namespace runq::internal
