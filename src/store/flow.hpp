// Flow-control helpers shared by the store backends: the error every backend returns when an
// enqueue would overfill a bounded queue (Store::set_queue_limit), so that the message is the
// same on every store.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "runq/status.hpp"

namespace runq::internal {

// ResourceExhausted "enqueueing tasks: queue 'NAME' is full (N tasks)".
inline Status queue_full_error(std::string_view queue, std::int64_t max_length) {
  return resource_exhausted_error("enqueueing tasks: queue '" + std::string(queue) + "' is full (" +
                                  std::to_string(max_length) + " tasks)");
}

}  // namespace runq::internal
