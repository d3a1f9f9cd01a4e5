// The one place a call (task name, JSON arguments, options) becomes the NewTask a store
// enqueues: App's delay/apply/send and the periodic scheduler's ticks both build through it,
// so both apply the same checks.
#pragma once

#include <cstddef>
#include <string>

#include "runq/clock.hpp"
#include "runq/options.hpp"
#include "runq/status.hpp"
#include "runq/store.hpp"

namespace runq::internal {

struct BuildContext {
  Millis now = 0;                     // the message's `created`, base of countdown/expires
  std::size_t max_payload_bytes = 0;  // largest encoded message accepted
  bool eager = false;                 // eager mode ignores eta and countdown
  std::string schedule;               // periodic schedule name, empty for a direct call
  std::string workflow;               // the message's workflow object text (workflow steps)
};

// The stored form of one call. The id is `opts.id()`, or a new random id when empty.
// Errors: InvalidArgument (priority outside 0..9, empty queue name); TooLarge (the encoded
// message is larger than `ctx.max_payload_bytes`).
Result<NewTask> build_task(const std::string& name, std::string args_json, const TaskOptions& topts,
                           const EnqueueOptions& opts, const BuildContext& ctx);

// Flow control: the limits of one call of `task` (NewTask::limits), from its registration and
// the call's keys. Errors: InvalidArgument (a malformed rate, a key over 200 bytes, a
// concurrency_key without max_concurrency).
Result<TaskLimits> task_limits(const std::string& task, const TaskOptions& topts,
                               const EnqueueOptions& opts);

// The registration-time check of a task's flow-control options: InvalidArgument for a
// malformed rate_limit or a negative max_concurrency, naming the task.
Status check_task_limits(const std::string& task, const TaskOptions& topts);

}  // namespace runq::internal
