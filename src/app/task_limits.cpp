// The flow-control limits of one call (NewTask::limits), from the task's registration
// (TaskOptions::rate_limit, max_concurrency) and the call (EnqueueOptions::rate_limit_key,
// concurrency_key). Buckets and slots are per task name, then per key.
#include <string>

#include "app/internal/task_builder.hpp"

namespace runq::internal {
namespace {

constexpr std::size_t kMaxUserKeyBytes = 200;

Status check_key(const std::string& task, std::string_view what, const std::string& key) {
  if (key.size() <= kMaxUserKeyBytes) return ok_status();
  return invalid_argument_error("enqueueing task '" + task + "': the " + std::string(what) +
                                " is " + std::to_string(key.size()) + " bytes, over the limit of " +
                                std::to_string(kMaxUserKeyBytes));
}

std::string bucket(const std::string& task, const std::string& key) {
  return key.empty() ? task : task + "/" + key;
}

}  // namespace

Status check_task_limits(const std::string& task, const TaskOptions& topts) {
  if (!topts.rate_limit().empty()) {
    Result<RateLimit> rate = parse_rate_limit(topts.rate_limit());
    if (!rate.ok()) return rate.status().with_context("registering task '" + task + "'");
  }
  if (topts.max_concurrency() < 0) {
    return invalid_argument_error("registering task '" + task + "': max_concurrency " +
                                  std::to_string(topts.max_concurrency()) +
                                  " is negative (0: no limit)");
  }
  return ok_status();
}

Result<TaskLimits> task_limits(const std::string& task, const TaskOptions& topts,
                               const EnqueueOptions& opts) {
  TaskLimits l;
  RUNQ_RETURN_IF_ERROR(check_key(task, "rate_limit_key", opts.rate_limit_key()));
  RUNQ_RETURN_IF_ERROR(check_key(task, "concurrency_key", opts.concurrency_key()));
  if (!topts.rate_limit().empty()) {
    RUNQ_ASSIGN_OR_RETURN(RateLimit rate, parse_rate_limit(topts.rate_limit()));
    l.rate_key = bucket(task, opts.rate_limit_key());
    l.rate_count = rate.count;
    l.rate_period_ms = rate.period_ms;
  }
  if (topts.max_concurrency() > 0) {
    l.concurrency_key = bucket(task, opts.concurrency_key());
    l.max_concurrency = topts.max_concurrency();
  } else if (!opts.concurrency_key().empty()) {
    return invalid_argument_error("enqueueing task '" + task + "': concurrency_key '" +
                                  opts.concurrency_key() +
                                  "' given, but the task has no max_concurrency (TaskOptions)");
  }
  return l;
}

}  // namespace runq::internal
