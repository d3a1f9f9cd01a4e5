// Enqueue with flow control: waiting for room in a bounded queue (EnqueueOptions::
// block_when_full), used by App's enqueue calls.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "runq/clock.hpp"
#include "runq/status.hpp"
#include "runq/store.hpp"

namespace runq::internal {

// store.enqueue(tasks, now); while it answers ResourceExhausted (a bounded queue is full) and
// `block_ms` of steady time have not passed, waits (5 ms, doubling up to 100 ms) and tries
// again with a fresh `clock` now. Returns the last answer. When a task has a unique key, it
// calls store.enqueue_unique instead and, if `held` is given, stores its answer there (one
// string per task: the id holding the key of a task not added, else ""); otherwise *held is
// left empty.
Status enqueue_with_room(Store& store, std::span<const NewTask> tasks, Millis now, Millis block_ms,
                         const Clock& clock, std::vector<std::string>* held = nullptr);

}  // namespace runq::internal
