// runq/error.hpp — the one exception family of runq's typed user API.
//
// Store, admin and internal calls return runq::Status / runq::Result and never throw. The
// user-facing typed API (App::task, TaskHandle::delay, AsyncResult::get, runq::cron...)
// reports failures by throwing runq::Error or one of its subclasses below, the way
// std::future::get throws. Catch `const runq::Error&` to handle them all; branch on
// `e.status().code()` (or the subclass), never on what().
//
//   try {
//     int v = r.get(5s);
//   } catch (const runq::TaskFailed& e) {   // the task ran and failed
//     log(e.task_id(), e.error_type(), e.what());
//   } catch (const runq::Timeout&) {        // not finished yet; r can be waited on again
//   }
//
// Known exceptions to "only runq::Error": encoding an argument nlohmann-json refuses (a
// std::string that is not valid UTF-8) throws nlohmann::json::type_error from
// TaskHandle::delay, and std::bad_alloc may escape anywhere.
//
// Thread safety: exception objects are immutable values; copies may be used from any thread.
#pragma once

#include <stdexcept>
#include <string>

#include "runq/status.hpp"
#include "runq/store.hpp"

namespace runq {

// Base of every exception runq throws. `status()` carries the code a caller can branch on
// and what() returns `status().message()` (without the code name). Thrown directly for
// errors that have no subclass: a task name registered twice (AlreadyExists) or empty
// (InvalidArgument); an enqueue refused (InvalidArgument, TooLarge, or the store's code, e.g.
// Unavailable; ResourceExhausted is thrown as QueueFull); a store that cannot be opened or read; a
// result that does not convert to the AsyncResult's type (DataLoss).
class Error : public std::runtime_error {
 public:
  // REQUIRES: !status.ok().
  explicit Error(Status status)
      : std::runtime_error(status.message()), status_(std::move(status)) {}
  // The code and message of the failure.
  const Status& status() const { return status_; }

 private:
  Status status_;
};

// Thrown by AsyncResult::get() when the task reached a final state other than SUCCESS:
// FAILURE (the body threw, with no retries left, or its arguments did not fit), DEAD
// (dead-lettered, e.g. an unknown task name or too many lapsed leases), EXPIRED (its
// `expires` passed before it started) or REVOKED. The task will not run again unless an
// admin requeues it. status().code() is FailedPrecondition.
class TaskFailed : public Error {
 public:
  // `message` becomes what(): the task's last error message, or the state's name when the
  // task recorded none.
  TaskFailed(std::string task_id, TaskState state, std::string error_type, std::string message)
      : Error(failed_precondition_error(std::move(message))),
        task_id_(std::move(task_id)),
        state_(state),
        error_type_(std::move(error_type)) {}
  // The id of the task that failed.
  const std::string& task_id() const { return task_id_; }
  // Its final state: kFailure, kDead, kExpired, kRevoked, or kCanceled (a workflow step that
  // never ran because a dependency failed; error_type "runq::Canceled").
  TaskState state() const { return state_; }
  // The type of the last error: the demangled C++ type of the exception the body threw
  // (e.g. "std::runtime_error"), or one of runq's own: "runq::BadArguments",
  // "runq::RetryRequest" (Context::retry with no retries left), "runq::Expired",
  // "runq::DeadLetter". May be empty when no error was recorded.
  const std::string& error_type() const { return error_type_; }

 private:
  std::string task_id_;
  TaskState state_;
  std::string error_type_;
};

// Thrown by AsyncResult::get of a chord body (runq/workflow.hpp) that did not run because
// members failed for good. what() names the failed members (id, task, state, error), the first
// five of them. error_type() is "runq::ChordError".
class ChordError : public TaskFailed {
 public:
  using TaskFailed::TaskFailed;
};

// Thrown by AsyncResult::get(timeout) when the task was not final within `timeout`, or when
// the store had no record of it (an unknown id, or a record that expired). The task may
// still run and finish: calling get() again waits again.
// status().code() is DeadlineExceeded.
class Timeout : public Error {
 public:
  explicit Timeout(std::string message) : Error(deadline_exceeded_error(std::move(message))) {}
};

// Thrown by the enqueue calls (TaskHandle::delay, apply, delay_many, App::send) when a bounded
// queue has no room for the call's tasks (App::limit_queue, `runq queue limit`), after waiting
// up to EnqueueOptions::block_when_full for room when that is set. Nothing of the call was
// enqueued. what() reads "enqueueing task 'NAME': ... queue 'Q' is full (N tasks)".
// status().code() is ResourceExhausted, which the store also uses when it is out of space
// (SQLite's disk full, Redis at maxmemory): then the message says so instead. Either way the
// call may succeed later, unchanged. A message over AppOptions::max_payload_bytes is not
// QueueFull: it is a runq::Error with TooLarge, and retrying cannot help.
class QueueFull : public Error {
 public:
  explicit QueueFull(Status status) : Error(std::move(status)) {}
};

// Thrown by runq::cron(), runq::every() and Schedule::in_zone() for an invalid expression,
// interval or time zone. what() names the bad field (the same text parse_cron returns).
// status().code() is InvalidArgument.
class InvalidSchedule : public Error {
 public:
  explicit InvalidSchedule(std::string message)
      : Error(invalid_argument_error(std::move(message))) {}
};

}  // namespace runq
