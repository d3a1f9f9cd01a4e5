// The loop a process-pool child runs: read deliveries from the worker's socket, run each on
// the TaskRunner, write the outcome back. One task at a time, in arrival order; the worker
// keeps the next one queued in the socket so the child never waits for it (pipelining).
//
// The child's second thread reads the socket: it queues deliveries, raises a task's
// cancellation flag on a kCancel frame or when the task's soft time limit passes, and notices
// the worker closing the socket (the child then finishes its task and exits 0).
#pragma once

#include <cstdint>

#include "app/task_runner.hpp"

namespace runq::internal {

struct ChildOptions {
  std::uint64_t max_tasks = 0;      // retire after this many tasks (0 = never)
  std::uint64_t max_rss_bytes = 0;  // retire once resident memory exceeds this after a task
};

// Runs until the socket closes or the child retires; returns the exit code (0).
int child_main(int fd, const TaskRunner& runner, ChildOptions opts);

}  // namespace runq::internal
