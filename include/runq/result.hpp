// runq/result.hpp — AsyncResult<T>: the handle delay() returns, to read a task's state and
// result later (from this process or, by id, from any other).
//
// get() blocks until the task is final (waiting on the store's notification, not polling),
// then returns the value or throws TaskFailed; Timeout if it did not finish in time.
// Thread safety: an AsyncResult may be used from any thread; it must not outlive its App.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runq/error.hpp"
#include "runq/status.hpp"
#include "runq/store.hpp"

namespace runq {

// One failed attempt.
struct AttemptError {
  int attempt = 0;
  std::string type;
  std::string message;
  Millis at = 0;
};

// Everything known about a task's outcome.
struct TaskStatus {
  std::string id;
  std::string task;  // task name (empty while unknown)
  TaskState state = TaskState::kPending;
  std::string value;       // JSON text of the result (SUCCESS), else empty
  std::string error_type;  // last error (FAILURE, RETRY, DEAD, EXPIRED)
  std::string error;
  std::vector<AttemptError> errors;  // every failed attempt, oldest first
  int attempts = 0;
  double progress = 0;
  Millis enqueued = 0, started = 0, finished = 0;
  Millis next_run = 0;  // RETRY / SCHEDULED: when it runs next
  std::string worker;
  std::string queue;
  std::string dead_reason;
};

// Reads a task's status. Errors: NotFound (unknown id or result expired); Unavailable.
// `now` decides which results have expired.
Result<TaskStatus> read_task_status(Store& store, std::string_view id,
                                    Millis now = Clock::system().now_ms());
// Waits until the task is final (or has a stored result), then reads it.
// Errors: DeadlineExceeded; NotFound; Unavailable.
Result<TaskStatus> wait_task_status(Store& store, std::string_view id, Millis timeout_ms);

template <typename T>
class AsyncResult {
 public:
  // `clock` (not owned; the App's) gives "now" for result expiry.
  AsyncResult(std::shared_ptr<Store> store, std::string id, const Clock* clock = &Clock::system())
      : store_(std::move(store)), id_(std::move(id)), clock_(clock) {}

  const std::string& id() const { return id_; }

  // Current state; PENDING if the store does not know the id (yet). Throws runq::Error when
  // the store cannot be read.
  TaskState state() const { return status_or_throw().state; }
  // True once the task is final (SUCCESS, FAILURE, EXPIRED, REVOKED, DEAD).
  bool ready() const { return is_final(state()); }
  // The full record. Throws runq::Error when the store cannot be read.
  TaskStatus status() const { return status_or_throw(); }

  // Waits up to `timeout` and returns the value. Throws TaskFailed if the task ended in any
  // state but SUCCESS, Timeout if it is not final in time, runq::Error on store errors.
  T get(std::chrono::milliseconds timeout = std::chrono::seconds(30)) const {
    Result<TaskStatus> st = wait_task_status(*store_, id_, timeout.count());
    if (!st.ok()) {
      if (is_deadline_exceeded(st.status()) || is_not_found(st.status())) {
        throw Timeout("waiting for task " + id_ + ": not finished within " +
                      std::to_string(timeout.count()) + " ms");
      }
      throw Error(st.status());
    }
    if (st->state != TaskState::kSuccess) {
      if (!is_final(st->state)) {
        throw Timeout("waiting for task " + id_ + ": still " +
                      std::string(task_state_name(st->state)) + " after " +
                      std::to_string(timeout.count()) + " ms");
      }
      std::string msg = st->error.empty() ? std::string(task_state_name(st->state)) : st->error;
      throw TaskFailed(id_, st->state, st->error_type, msg);
    }
    if constexpr (std::is_void_v<T>) {
      return;
    } else {
      try {
        return nlohmann::json::parse(st->value.empty() ? "null" : st->value).get<T>();
      } catch (const nlohmann::json::exception& e) {
        throw Error(data_loss_error("reading result of task " + id_ + ": " + e.what()));
      }
    }
  }

 private:
  TaskStatus status_or_throw() const {
    Result<TaskStatus> st = read_task_status(*store_, id_, clock_->now_ms());
    if (st.ok()) return std::move(st).value();
    if (is_not_found(st.status())) {
      TaskStatus pending;
      pending.id = id_;
      return pending;
    }
    throw Error(st.status());
  }

  std::shared_ptr<Store> store_;
  std::string id_;
  const Clock* clock_;
};

}  // namespace runq
