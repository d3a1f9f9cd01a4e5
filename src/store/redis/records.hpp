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

// What the store holds for one live task: its packed record (a field of P tasks, see
// common.lua) and the fields of the side hashes (empty when absent).
struct LiveRecord {
  std::string_view record;
  std::string_view body;
  std::string_view result;
  std::string_view reason;
  std::string_view key;  // where the record is, for messages
};

// A live task from its record. DataLoss when the record is malformed or its state is not one
// runq writes.
Result<TaskInfo> task_from_record(std::string_view id, const LiveRecord& r);

// A finished task from its record "state \x1f expires \x1f deliveries \x1f priority \x1f
// progress \x1f result". NotFound when it expired at `now`; DataLoss when malformed.
Result<TaskInfo> task_from_finished(std::string_view id, std::string_view record, Millis now);

std::string worker_to_json(const WorkerInfo& w);
std::optional<WorkerInfo> worker_from_json(std::string_view text);

}  // namespace runq::internal
