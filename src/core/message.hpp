// The task message and result record: what runq stores as a task body and as a result, and
// their JSON codec (docs/wire-format.md specifies the format).
//
// Thread safety: plain values and pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "runq/clock.hpp"
#include "runq/status.hpp"
#include "runq/store.hpp"

namespace runq::internal {

// One failed attempt, kept in the message (for retries) and in the final result.
struct ErrorRecord {
  int attempt = 0;
  std::string type;     // exception type, e.g. "std::runtime_error"
  std::string message;  // truncated to kMaxErrorMessage bytes
  Millis at = 0;

  bool operator==(const ErrorRecord&) const = default;
};

inline constexpr std::size_t kMaxErrorMessage = 4096;

// The body of a task in the store.
struct TaskMessage {
  std::string id;
  std::string name;         // registered task name
  std::string args = "[]";  // JSON array text, one element per argument
  std::string queue{kDefaultQueue};
  int priority = kDefaultPriority;
  Millis created = 0;
  Millis eta = 0;        // 0 = run now
  Millis expires = 0;    // 0 = never; a task starting after this ends EXPIRED
  int attempt = 1;       // 1-based number of the attempt this delivery runs
  int max_retries = -1;  // -1 = the registered task's option
  bool ignore_result = false;
  Millis result_ttl = 86'400'000;
  std::string schedule;             // periodic schedule that produced it, if any
  Millis time_limit = 0;            // hard limit per attempt; 0 = the registered task's option
  Millis soft_time_limit = 0;       // soft limit per attempt; 0 = the registered task's option
  int crashes = 0;                  // attempts that ended with their worker process crashing
  std::vector<ErrorRecord> errors;  // earlier failed attempts, oldest first
  std::string workflow;             // JSON object text: its place in a workflow; empty if none
};

// What a result key holds.
struct ResultRecord {
  std::string id;
  std::string task;   // task name
  std::string queue;  // the queue it was enqueued to; empty in records written before it
  TaskState state = TaskState::kPending;
  std::string value;       // JSON text of the return value; empty if none
  std::string error_type;  // last error
  std::string error;
  std::vector<ErrorRecord> errors;  // every failed attempt, oldest first
  int attempts = 0;
  Millis enqueued = 0;
  Millis started = 0;
  Millis finished = 0;
  Millis next_run = 0;  // RETRY: when the next attempt runs
  std::string worker;
  std::string workflow;  // the message's workflow object (JSON text), empty if none
};

std::string encode_message(const TaskMessage& m);
// Errors: DataLoss "decoding task message: <parse error>" for malformed or truncated input,
// a missing/mistyped required field (id, name, args), or a number that does not fit its field
// (e.g. "priority":1e300).
Result<TaskMessage> decode_message(std::string_view body);
// As above, but moves the parsed argument array into `*args` (TaskMessage::args stays empty):
// the worker's path, which saves printing and re-parsing the arguments.
Result<TaskMessage> decode_message(std::string_view body, nlohmann::json* args);

std::string encode_result(const ResultRecord& r);
// Errors: DataLoss "decoding result record: <cause>" for malformed input, an unknown state, a
// mistyped field, or a number that does not fit its field.
Result<ResultRecord> decode_result(std::string_view text);
// decode_result without its fast path (message_scan.hpp): the general JSON decoder alone, which
// the fast path must agree with (the result_record fuzz target checks it).
Result<ResultRecord> decode_result_dom(std::string_view text);

// JSON object text of an error history (used by `runq result --json`).
std::string encode_errors(const std::vector<ErrorRecord>& errors);

}  // namespace runq::internal
