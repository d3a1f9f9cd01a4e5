// Enqueue with flow control: waiting for room in a bounded queue (EnqueueOptions::
// block_when_full), used by App's enqueue calls.
#pragma once

#include <span>

#include "runq/clock.hpp"
#include "runq/status.hpp"
#include "runq/store.hpp"

namespace runq::internal {

// store.enqueue(tasks, now); while it answers ResourceExhausted (a bounded queue is full) and
// `block_ms` of steady time have not passed, waits (5 ms, doubling up to 100 ms) and tries
// again with a fresh `clock` now. Returns the last answer.
Status enqueue_with_room(Store& store, std::span<const NewTask> tasks, Millis now, Millis block_ms,
                         const Clock& clock);

}  // namespace runq::internal
