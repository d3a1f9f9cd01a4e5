// Unique jobs: the key a task takes (TaskOptions::unique, EnqueueOptions::unique_key), built
// into NewTask::unique by build_task.
#pragma once

#include <string>
#include <string_view>

#include "runq/options.hpp"
#include "runq/status.hpp"
#include "runq/store.hpp"

namespace runq::internal {

// "<name>:<64 hex digits of the SHA-256 of the canonical arguments>": the arguments parsed
// and written again by nlohmann-json (object keys sorted, no spaces), so two calls with equal
// arguments get one key however their JSON was spelled.
// Errors: InvalidArgument (`args_json` is not JSON).
Result<std::string> default_unique_key(std::string_view name, std::string_view args_json);

// The unique options of a call of task `name`: none unless `opts` has a key or `topts` is
// unique; the per-call unique_for / unique_until override the task's.
// Errors: InvalidArgument (an empty key; unique_for or unique_until without a key).
Result<UniqueOptions> unique_options(std::string_view name, std::string_view args_json,
                                     const TaskOptions& topts, const EnqueueOptions& opts);

}  // namespace runq::internal
