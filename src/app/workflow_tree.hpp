// A workflow step's tree, one level down: the tasks it takes its inputs from (a chain's
// previous step, a chord's members) and the tasks it depends on, each with its task name and
// state, as `runq result` and GET /api/v1/tasks/{id} show them.
//
// Cost: at most `counted` task records read, in one Store::get_tasks batch; ids past that are
// only counted. Thread safety: a pure function of its arguments; `store` is used as Store
// allows (any thread).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runq/store.hpp"

namespace runq::internal {

struct WorkflowMember {
  std::string id;
  std::string task;   // task name; empty when the store no longer knows it
  std::string state;  // task_state_name, or "unknown" for an id the store does not know
};

struct WorkflowTree {
  bool group = false;                         // the inputs are a group (a chord's members)
  std::size_t total = 0;                      // parents + dependencies named by the step
  std::vector<WorkflowMember> shown;          // the first `shown` of them
  std::map<std::string, std::size_t> counts;  // state name -> count, over the counted ones
  std::size_t counted = 0;                    // how many were read (min(total, counted))
};

// Reads the tree of the step whose TaskStatus::workflow text is `workflow` (empty or not an
// object: an empty tree). Errors of the batch read leave the members "unknown".
WorkflowTree load_workflow_tree(Store& store, const std::string& workflow, Millis now,
                                std::size_t shown, std::size_t counted);

// {"group", "depends_on_count", "counted", "members": [{"id","task","state"}], "more",
//  "states": {state: count}} — "more" is how many members are not listed.
nlohmann::json workflow_tree_json(const WorkflowTree& tree);

}  // namespace runq::internal
