// The loop a process-pool child runs: read deliveries from the worker's socket, run each on
// the TaskRunner, write the outcome back. One task at a time, in arrival order; the worker
// keeps the next one queued in the socket so the child never waits for it (pipelining).
//
// The main thread reads the socket and runs each task as its frame arrives. A second thread
// raises the running task's cancellation flag when the worker queues kCancelSignal for it
// (sigqueue with the task's sequence number: the main thread is busy running the task, not
// reading) or when its soft time limit passes. When the worker closes the socket the child
// exits 0.
#pragma once

#include <signal.h>

#include <cstdint>

#include "app/task_runner.hpp"

namespace runq::internal {

// The signal by which the worker asks a child to cancel a task; blocked in every thread of a
// child from its start (the zygote blocks it before the child's code runs).
inline constexpr int kCancelSignal = SIGUSR1;

struct ChildOptions {
  std::uint64_t max_tasks = 0;      // retire after this many tasks (0 = never)
  std::uint64_t max_rss_bytes = 0;  // retire once resident memory exceeds this after a task
};

// Runs until the socket closes or the child retires; returns the exit code (0).
int child_main(int fd, const TaskRunner& runner, ChildOptions opts);

}  // namespace runq::internal
