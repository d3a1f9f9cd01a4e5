#include "app/workflow_tree.hpp"

#include <span>

#include "app/workflow_step.hpp"
#include "core/message.hpp"

namespace runq::internal {
namespace {

// The task name from the stored result record, else from the task body.
std::string task_name(const TaskInfo& info) {
  if (!info.result.empty()) {
    Result<ResultRecord> rec = decode_result(info.result);
    if (rec.ok() && !rec->task.empty()) return rec->task;
  }
  if (!info.body.empty()) {
    Result<TaskMessage> m = decode_message(info.body);
    if (m.ok()) return m->name;
  }
  return {};
}

}  // namespace

WorkflowTree load_workflow_tree(Store& store, const std::string& workflow, Millis now,
                                std::size_t shown, std::size_t counted) {
  WorkflowTree t;
  if (workflow.empty()) return t;
  nlohmann::json wf = nlohmann::json::parse(workflow, nullptr, false);
  if (!wf.is_object()) return t;
  t.group = wf.value("group", false);
  t.total = workflow_parent_count(wf);
  std::vector<std::string> ids = workflow_parents(wf, counted);
  t.counted = ids.size();
  Result<std::vector<Result<TaskInfo>>> infos =
      store.get_tasks(std::span<const std::string>(ids), now);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    WorkflowMember m{ids[i], {}, "unknown"};
    if (infos.ok() && i < infos->size() && (*infos)[i].ok()) {
      const TaskInfo& info = *(*infos)[i];
      m.state = std::string(task_state_name(info.state));
      if (t.shown.size() < shown) m.task = task_name(info);
    }
    ++t.counts[m.state];
    if (t.shown.size() < shown) t.shown.push_back(std::move(m));
  }
  return t;
}

nlohmann::json workflow_tree_json(const WorkflowTree& tree) {
  nlohmann::json members = nlohmann::json::array();
  for (const WorkflowMember& m : tree.shown)
    members.push_back({{"id", m.id}, {"task", m.task}, {"state", m.state}});
  return {
      {"group", tree.group}, {"depends_on_count", tree.total},         {"counted", tree.counted},
      {"members", members},  {"more", tree.total - tree.shown.size()}, {"states", tree.counts}};
}

}  // namespace runq::internal
