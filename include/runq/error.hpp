// runq/error.hpp — the one exception family of runq's typed user API.
//
// Store, admin and internal calls return runq::Status / runq::Result and never throw. The
// user-facing typed API (App::task, TaskHandle::delay, AsyncResult::get, runq::cron...) throws
// only runq::Error and its subclasses below, like std::future::get does.
#pragma once

#include <stdexcept>
#include <string>

#include "runq/status.hpp"
#include "runq/store.hpp"

namespace runq {

// Base of every exception runq throws. `status()` carries the code a caller can branch on.
class Error : public std::runtime_error {
 public:
  explicit Error(Status status)
      : std::runtime_error(status.message()), status_(std::move(status)) {}
  const Status& status() const { return status_; }

 private:
  Status status_;
};

// AsyncResult::get(): the task ended in a state other than SUCCESS (FAILURE, DEAD, EXPIRED,
// REVOKED). what() is the task's error message; error_type() the exception type it threw.
class TaskFailed : public Error {
 public:
  TaskFailed(std::string task_id, TaskState state, std::string error_type, std::string message)
      : Error(failed_precondition_error(std::move(message))),
        task_id_(std::move(task_id)),
        state_(state),
        error_type_(std::move(error_type)) {}
  const std::string& task_id() const { return task_id_; }
  TaskState state() const { return state_; }
  const std::string& error_type() const { return error_type_; }

 private:
  std::string task_id_;
  TaskState state_;
  std::string error_type_;
};

// AsyncResult::get(timeout): no final state within the timeout. The task may still finish.
class Timeout : public Error {
 public:
  explicit Timeout(std::string message) : Error(deadline_exceeded_error(std::move(message))) {}
};

// runq::cron(), every(), Schedule::in_zone(): an invalid expression, interval or time zone.
// The message names the bad field.
class InvalidSchedule : public Error {
 public:
  explicit InvalidSchedule(std::string message)
      : Error(invalid_argument_error(std::move(message))) {}
};

}  // namespace runq
