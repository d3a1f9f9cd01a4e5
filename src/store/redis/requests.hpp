// Encoding store requests as script arguments for the redis:// store, and validating them
// first (nothing is sent for a request that would be refused).
#pragma once

#include <hiredis/hiredis.h>

#include <span>
#include <string>
#include <vector>

#include "runq/status.hpp"
#include "runq/store.hpp"
#include "store/redis/connection.hpp"

namespace runq::internal {

// id, queue, priority, eta, max_deliveries, body (borrowed from `t`).
void add_task_args(RedisArgs& args, const NewTask& t);

// The tasks of a batch without repeated ids: the first of each id wins, as if enqueued in turn.
std::vector<const NewTask*> distinct_ids(std::span<const NewTask> tasks);
// now, then the batch laid out for enqueue.lua (ids, records, bodies, ready lists and
// scheduled sets). Borrows from the tasks.
void add_enqueue_args(RedisArgs& args, Millis now, std::span<const NewTask* const> tasks);
// A task's limits as P tlimits stores them (flow_lib.lua):
// rate_key \x1f count \x1f period_ms \x1f concurrency_key \x1f max_concurrency.
std::string limits_arg(const TaskLimits& l);

// outcome, id, token, state, result, number, text: see settle.lua.
void add_settlement_args(RedisArgs& args, const Settlement& s);

// ---- workflows (workflow_lib.lua) ----
// Whether the task has WorkflowLinks (it then travels in the trailing workflow section).
// The ARGV index (1-based, ARGV[1] = the key prefix) of the next argument of an FCALL built by
// RedisStore::script_call ("FCALL", name, "0", prefix, ...).
inline int workflow_section_start(const RedisArgs& args) { return args.size() - 2; }
// The 10 items of one task of the workflow section.
void add_linked_task_args(RedisArgs& args, const NewTask& t);
// Ends the workflow section that starts at ARGV index `at`.
void end_workflow_section(RedisArgs& args, int at);
// The follow-ups of `settlements` as settle.lua's workflow section (nothing when none).
void add_follow_up_args(RedisArgs& args, std::span<const Settlement> settlements);

// One flag per element of an array of 0/1 integers.
std::vector<bool> parse_flags(const redisReply* r);

}  // namespace runq::internal
