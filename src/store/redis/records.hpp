// The stored forms of tasks and worker heartbeats in the redis:// store, read back into the
// public structs. Layout: see the top of src/store/redis_store.cpp.
#pragma once

#include <hiredis/hiredis.h>

#include <optional>
#include <string>
#include <string_view>

#include "runq/status.hpp"
#include "runq/store.hpp"

namespace runq::internal {

// A live task from HGETALL of its hash (an array of field, value pairs, not empty).
// DataLoss when the state is not one runq writes.
Result<TaskInfo> task_from_hash(std::string_view id, const redisReply* pairs, std::string_view key);

// A finished task from its record "state \x1f expires \x1f deliveries \x1f priority \x1f
// progress \x1f result". NotFound when it expired at `now`; DataLoss when malformed.
Result<TaskInfo> task_from_finished(std::string_view id, std::string_view record, Millis now);

std::string worker_to_json(const WorkerInfo& w);
std::optional<WorkerInfo> worker_from_json(std::string_view text);

}  // namespace runq::internal
