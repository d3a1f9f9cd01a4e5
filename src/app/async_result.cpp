#include "core/message.hpp"
#include "runq/result.hpp"

namespace runq {
namespace {

TaskStatus to_status(const TaskInfo& info) {
  TaskStatus st;
  st.id = info.id;
  st.state = info.state;
  st.queue = info.queue;
  st.progress = info.progress;
  st.dead_reason = info.dead_reason;
  st.next_run = info.eta;
  st.worker = info.worker_id;
  if (!info.result.empty()) {
    Result<internal::ResultRecord> rec = internal::decode_result(info.result);
    if (rec.ok()) {
      st.task = rec->task;
      if (st.queue.empty()) st.queue = rec->queue;
      st.value = rec->value;
      st.error_type = rec->error_type;
      st.error = rec->error;
      for (const auto& e : rec->errors) st.errors.push_back({e.attempt, e.type, e.message, e.at});
      st.attempts = rec->attempts;
      st.enqueued = rec->enqueued;
      st.started = rec->started;
      st.finished = rec->finished;
      if (rec->next_run) st.next_run = rec->next_run;
      if (!rec->worker.empty() && st.worker.empty()) st.worker = rec->worker;
      st.workflow = rec->workflow;
    }
  }
  if (!info.body.empty()) {
    Result<internal::TaskMessage> m = internal::decode_message(info.body);
    if (m.ok()) {
      st.args = std::move(m->args);
      if (st.workflow.empty()) st.workflow = m->workflow;
      if (st.queue.empty()) st.queue = m->queue;
      if (st.task.empty()) {
        st.task = m->name;
        st.enqueued = m->created;
        st.attempts = std::max(st.attempts, m->attempt - 1);
      }
    }
  }
  if (st.state == TaskState::kDead && st.error.empty()) st.error = info.dead_reason;
  if (st.state == TaskState::kCanceled && st.error.empty()) {
    st.error_type = "runq::Canceled";
    st.error = info.dead_reason;
  }
  return st;
}

// A CANCELED workflow step names the dependency that failed ("dependency <id> ended
// failure"); this adds that task's own error, so the reader sees what went wrong.
void add_cause(Store& store, TaskStatus& st, Millis now) {
  if (st.state != TaskState::kCanceled) return;
  constexpr std::string_view kPrefix = "dependency ";
  if (st.error.rfind(kPrefix, 0) != 0) return;
  std::size_t end = st.error.find(' ', kPrefix.size());
  if (end == std::string::npos) return;
  std::string dep = st.error.substr(kPrefix.size(), end - kPrefix.size());
  Result<TaskInfo> info = store.get_task(dep, now);
  if (!info.ok()) return;
  TaskStatus cause = to_status(*info);
  if (!cause.task.empty()) st.error += " (task " + cause.task + ")";
  if (!cause.error.empty() && cause.state != TaskState::kCanceled) {
    st.error += ": " + (cause.error_type.empty() ? "" : cause.error_type + ": ") + cause.error;
  }
}

}  // namespace

Result<TaskStatus> read_task_status(Store& store, std::string_view id, Millis now) {
  RUNQ_ASSIGN_OR_RETURN(TaskInfo info, store.get_task(id, now));
  TaskStatus st = to_status(info);
  add_cause(store, st, now);
  return st;
}

Result<TaskStatus> wait_task_status(Store& store, std::string_view id, Millis timeout_ms) {
  RUNQ_ASSIGN_OR_RETURN(TaskInfo info, store.wait_task(id, timeout_ms));
  TaskStatus st = to_status(info);
  add_cause(store, st, Clock::system().now_ms());
  return st;
}

}  // namespace runq
