// Task ids: random, unique across hosts and processes, sortable by creation time.
#pragma once

#include <string>

namespace runq::internal {

// 26 characters: 10 of millisecond timestamp + 16 of randomness (Crockford base32, ULID-like).
std::string new_task_id();
// A worker id: "HOST:PID:RANDOM".
std::string new_worker_id();
std::string host_name();

}  // namespace runq::internal
