#include "app/workflow_step.hpp"

#include <cstdint>

#include "app/internal/task_builder.hpp"
#include "runq/app.hpp"

namespace runq::internal {
namespace {

// How many failed members a ChordError lists by name.
constexpr std::size_t kListedFailures = 5;

struct ParentResult {
  TaskState state = TaskState::kPending;
  std::string task;
  std::string value;  // JSON text; empty = null
  std::string error_type, error;
};

Result<ParentResult> read_parent(const Result<TaskInfo>& info) {
  if (!info.ok()) return info.status();
  ParentResult out;
  out.state = info->state;
  if (info->state == TaskState::kCanceled) {
    out.error_type = "runq::Canceled";
    out.error = info->dead_reason;
  }
  if (!info->result.empty()) {
    Result<ResultRecord> rec = decode_result(info->result);
    if (rec.ok()) {
      out.task = rec->task;
      out.value = rec->value;
      out.error_type = rec->error_type;
      out.error = rec->error;
    }
  }
  if (info->state == TaskState::kDead && out.error.empty()) out.error = info->dead_reason;
  return out;
}

std::string failure_line(const std::string& id, const ParentResult& r) {
  std::string line = id;
  if (!r.task.empty()) line += " (" + r.task + ")";
  line += " ended " + std::string(task_state_name(r.state));
  if (!r.error.empty()) {
    line += ": ";
    if (!r.error_type.empty()) line += r.error_type + ": ";
    line += r.error;
  }
  return line;
}

}  // namespace

std::vector<std::string> workflow_parents(const nlohmann::json& workflow, std::size_t limit) {
  std::vector<std::string> out;
  if (!workflow.is_object()) return out;
  for (const char* key : {"parents", "depends_on"}) {
    auto it = workflow.find(key);
    if (it == workflow.end() || !it->is_array()) continue;
    for (const nlohmann::json& p : *it) {
      if (out.size() >= limit) return out;
      if (p.is_string()) {
        out.push_back(p.get<std::string>());
      } else if (p.is_object()) {
        const std::string base = p.value("base", "");
        const std::size_t to = p.value("to", std::size_t{0});
        for (std::size_t i = p.value("from", std::size_t{0}); i < to && out.size() < limit; ++i) {
          out.push_back(base + "-" + std::to_string(i));
        }
      }
    }
  }
  return out;
}

std::size_t workflow_parent_count(const nlohmann::json& workflow) {
  std::size_t n = 0;
  if (!workflow.is_object()) return n;
  for (const char* key : {"parents", "depends_on"}) {
    auto it = workflow.find(key);
    if (it == workflow.end() || !it->is_array()) continue;
    for (const nlohmann::json& p : *it) {
      if (p.is_string()) ++n;
      if (p.is_object()) {
        const std::size_t from = p.value("from", std::size_t{0}),
                          to = p.value("to", std::size_t{0});
        n += to > from ? to - from : 0;
      }
    }
  }
  return n;
}

Result<std::optional<StepFailure>> bind_parents(Store& store, const nlohmann::json& workflow,
                                                nlohmann::json* args, Millis now,
                                                std::size_t max_aggregate_bytes) {
  auto parents_it = workflow.find("parents");
  if (parents_it == workflow.end() || !parents_it->is_array()) return std::optional<StepFailure>{};
  const bool group = workflow.value("group", false);
  const bool pass = workflow.value("pass", false);
  const bool allow_failures = workflow.value("allow_failures", false);
  nlohmann::json only_parents = {{"parents", *parents_it}};
  std::vector<std::string> parents = workflow_parents(only_parents);

  nlohmann::json values = nlohmann::json::array();
  std::vector<std::string> failed;
  std::size_t bytes = 0;
  // The parents' records, read in one batch (Store::get_tasks: one round trip per 512 on Redis).
  RUNQ_ASSIGN_OR_RETURN(std::vector<Result<TaskInfo>> infos, store.get_tasks(parents, now));
  for (std::size_t i = 0; i < parents.size(); ++i) {
    const std::string& id = parents[i];
    Result<ParentResult> r = read_parent(infos[i]);
    if (!r.ok()) {
      if (!is_not_found(r.status())) return r.status();
      return std::optional<StepFailure>{StepFailure{
          "runq::WorkflowError", "the result of " + id +
                                     " is no longer stored (its result_ttl passed before this "
                                     "step ran); keep result_ttl longer than the workflow"}};
    }
    bytes += r->value.size();
    if (bytes > max_aggregate_bytes) {
      return std::optional<StepFailure>{StepFailure{
          "runq::WorkflowError",
          "the results of the " + std::to_string(parents.size()) + " parent task(s) are over " +
              std::to_string(max_aggregate_bytes) +
              " bytes (16 x AppOptions::max_payload_bytes); return smaller results, e.g. a "
              "key to the data"}};
    }
    bool ok = r->state == TaskState::kSuccess;
    if (!ok) failed.push_back(failure_line(id, *r));
    if (!pass) continue;
    nlohmann::json value = nullptr;
    if (ok && !r->value.empty()) {
      value = nlohmann::json::parse(r->value, nullptr, false);
      if (value.is_discarded()) value = nullptr;
    }
    if (allow_failures) {
      nlohmann::json m = {{"id", id},
                          {"state", task_state_name(r->state)},
                          {"error_type", r->error_type},
                          {"error", r->error}};
      if (ok) m["value"] = std::move(value);
      values.push_back(std::move(m));
    } else {
      values.push_back(std::move(value));
    }
  }
  if (!failed.empty() && !allow_failures) {
    std::string msg = std::to_string(failed.size()) + " of " + std::to_string(parents.size()) +
                      (group ? " chord member(s) failed: " : " parent task(s) failed: ");
    for (std::size_t i = 0; i < failed.size() && i < kListedFailures; ++i) {
      msg += (i > 0 ? "; " : "") + failed[i];
    }
    if (failed.size() > kListedFailures) {
      msg += "; and " + std::to_string(failed.size() - kListedFailures) + " more";
    }
    return std::optional<StepFailure>{StepFailure{"runq::ChordError", msg}};
  }
  if (pass) {
    if (!args->is_array()) *args = nlohmann::json::array();
    nlohmann::json first =
        group ? std::move(values) : (values.empty() ? nlohmann::json(nullptr) : values[0]);
    args->insert(args->begin(), std::move(first));
  }
  return std::optional<StepFailure>{};
}

std::vector<NewTask> callback_tasks(const App& app, const nlohmann::json& workflow, bool success,
                                    const std::string& value_json, const FailedTask& failed,
                                    Millis now, std::vector<std::string>* skipped) {
  std::vector<NewTask> out;
  auto it = workflow.find(success ? "link" : "link_error");
  if (it == workflow.end() || !it->is_array()) return out;
  for (const nlohmann::json& j : *it) {
    SignatureData sig;
    try {
      sig = j.get<SignatureData>();
      if (sig.takes_parent) {
        nlohmann::json first = success
                                   ? nlohmann::json::parse(value_json.empty() ? "null" : value_json)
                                   : nlohmann::json(failed);
        sig.args.insert(sig.args.begin(), std::move(first));
      }
    } catch (const nlohmann::json::exception& e) {
      skipped->push_back(std::string("a malformed callback: ") + e.what());
      continue;
    }
    EnqueueOptions opts;
    if (!sig.id.empty()) opts.id(sig.id);
    if (!sig.queue.empty()) opts.queue(sig.queue);
    if (sig.priority) opts.priority(*sig.priority);
    if (sig.countdown > 0) opts.countdown(std::chrono::milliseconds(sig.countdown));
    if (sig.expires_in > 0) opts.expires(std::chrono::milliseconds(sig.expires_in));
    const TaskDefinition* def = app.find_task(sig.task);
    BuildContext ctx{now, app.max_payload_bytes(), false, {}, {}};
    Result<NewTask> t =
        build_task(sig.task, sig.args.dump(), def ? def->options : TaskOptions{}, opts, ctx);
    if (!t.ok()) {
      skipped->push_back("callback '" + sig.task + "': " + t.status().message());
      continue;
    }
    out.push_back(std::move(t).value());
  }
  return out;
}

}  // namespace runq::internal
