// The worker's side of a workflow step (runq/workflow.hpp): before the body runs, the results
// of the step's parents are read from the store and passed as its first argument (a chord
// body's vector, or a ChordError when members failed); after it ends, its link / link_error
// callbacks become follow-up tasks of its settlement.
//
// Thread safety: pure functions of their arguments; `store` is used as Store allows (any
// thread).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/message.hpp"
#include "runq/store.hpp"
#include "runq/workflow.hpp"

namespace runq {
class App;
}

namespace runq::internal {

// The parent ids a workflow object names ("parents": ids, and {"base","from","to"} runs of
// ids "<base>-<from>" .. "<base>-<to - 1>"), in order, then its "depends_on" ids. At most
// `limit` of them.
std::vector<std::string> workflow_parents(const nlohmann::json& workflow,
                                          std::size_t limit = SIZE_MAX);
// How many ids workflow_parents would return without a limit.
std::size_t workflow_parent_count(const nlohmann::json& workflow);

// Why a step cannot run: it ends FAILURE at once (running it again cannot help).
struct StepFailure {
  std::string type;     // "runq::ChordError", "runq::WorkflowError"
  std::string message;  // names the failed members / the missing result
};

// Reads the parents named in `workflow` (the message's workflow object) and, when the step
// takes them, puts their result first in `args`: one parent's value, or the vector of a
// group's values (or of MemberResult objects when it allows failures). Fails when a group
// member did not succeed (unless allowed), when a parent's result is no longer stored, or when
// the gathered results are larger than `max_aggregate_bytes`. Store errors other than NotFound
// are returned as a Status (the delivery is retried).
Result<std::optional<StepFailure>> bind_parents(Store& store, const nlohmann::json& workflow,
                                                nlohmann::json* args, Millis now,
                                                std::size_t max_aggregate_bytes);

// The callbacks to enqueue with a step's final settlement: `link` on success (a partial one
// receives `value_json` first), `link_error` on failure (a partial one receives `failed`).
// A callback that cannot be built (bad options, too large) is skipped and reported in
// `*skipped` (one line each).
std::vector<NewTask> callback_tasks(const App& app, const nlohmann::json& workflow, bool success,
                                    const std::string& value_json, const FailedTask& failed,
                                    Millis now, std::vector<std::string>* skipped);

}  // namespace runq::internal
