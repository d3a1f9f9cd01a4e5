// runq/result.hpp — AsyncResult<T>: the handle delay() returns, to read a task's state and
// result later (from this process or, by id, from any other); and TaskStatus, everything
// known about one task, with the non-throwing calls that read it.
//
//   runq::AsyncResult<int> r = add.delay(2, 3);
//   r.state();         // PENDING, RESERVED, RETRY, SUCCESS...: one store read, never blocks
//   int v = r.get();   // blocks until final: the value, or TaskFailed / Timeout
//   std::string id = r.id();  // another process: read_task_status(store, id)
//
// get() blocks until the task is final (waiting on the store's notification where the
// backend has one, not by polling), then returns the value or throws TaskFailed; Timeout if
// it did not finish in time. Store errors are thrown as runq::Error (runq/error.hpp).
// read_task_status / wait_task_status are the same reads as Result values, for code that
// does not want exceptions (the CLI, admin tools).
//
// Thread safety: an AsyncResult is an immutable handle (a store pointer, an id, a clock);
// its methods are const and may be called from any number of threads at once, and copies
// are independent. REQUIRES: it does not outlive the Clock it was given (the App's).
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

// One failed attempt, as recorded by the worker that ran it.
struct AttemptError {
  int attempt = 0;      // 1 for the first run, 2 for the first retry...
  std::string type;     // demangled exception type, e.g. "std::runtime_error"
  std::string message;  // its what(), truncated to 4096 bytes
  Millis at = 0;        // when the attempt ended (ms since the Unix epoch)
};

// Everything known about a task's outcome, merged from the store's record, the task message
// and the stored result. Times are ms since the Unix epoch, 0 when unknown. A running task
// reads kReserved (stores do not distinguish "started").
struct TaskStatus {
  std::string id;
  std::string task;  // task name (empty while unknown)
  TaskState state = TaskState::kPending;
  std::string value;                 // JSON text of the result (SUCCESS), else empty
  std::string error_type;            // type of the last error (FAILURE, RETRY, DEAD, EXPIRED)
  std::string error;                 // its message; for DEAD without one, the dead-letter reason
  std::vector<AttemptError> errors;  // every failed attempt, oldest first
  int attempts = 0;                  // attempts run so far (the last one's number)
  double progress = 0;               // last progress the worker stored, 0..1
  Millis enqueued = 0, started = 0, finished = 0;  // started/finished: of the last attempt
  Millis next_run = 0;                             // RETRY / SCHEDULED: when it runs next
  std::string worker;       // the worker holding it (RESERVED) or that ran it last
  std::string queue;        // the queue it was enqueued to (kept in the result once finished;
                            // empty for a result written before results kept it)
  std::string dead_reason;  // DEAD: why it was dead-lettered; CANCELED: which dependency failed
  // JSON array text of the arguments while the store keeps the task body (queued, scheduled,
  // retrying, reserved, dead); empty once the task finished (results do not keep arguments).
  std::string args;
  // Workflows: its place in a workflow, JSON object text ("parents": ids whose results it
  // takes, "group": whether they are a group, "depends_on": EnqueueOptions::depends_on ids);
  // empty for a task outside any workflow.
  std::string workflow;
};

// Reads a task's status once; never blocks. `now` decides which results have expired.
// Errors: NotFound (unknown id, or its record expired after result_ttl);
// Unavailable (the store is down; retry); DataLoss (the store's record is unreadable).
// Thread safety: as Store: any thread.
Result<TaskStatus> read_task_status(Store& store, std::string_view id,
                                    Millis now = Clock::system().now_ms());
// Waits up to `timeout_ms` until the task is final (is_final: SUCCESS, FAILURE, EXPIRED,
// REVOKED, DEAD), then reads it as read_task_status does. Waits through retries.
// Errors: DeadlineExceeded (not final in time); NotFound (see read_task_status);
// Unavailable. Thread safety: any thread; blocks only the caller.
Result<TaskStatus> wait_task_status(Store& store, std::string_view id, Millis timeout_ms);

// The result handle of one task, typed by the body's return type T (void allowed;
// nlohmann::json for App::send). T must be readable with nlohmann-json's get<T>() (a
// from_json overload).
template <typename T>
class AsyncResult {
 public:
  // A handle on task `id` in `store`; `clock` (not owned; the App's) gives "now" for result
  // expiry. Never throws and does not touch the store: a handle for an id that does not
  // exist is valid and reads PENDING. REQUIRES: store is non-null; clock outlives the handle.
  // `added`: what added() answers.
  AsyncResult(std::shared_ptr<Store> store, std::string id, const Clock* clock = &Clock::system(),
              bool added = true)
      : store_(std::move(store)), id_(std::move(id)), clock_(clock), added_(added) {}

  // The task id (EnqueueOptions::id, or the generated one; for a call not added, the id of
  // the task that holds its unique key).
  const std::string& id() const { return id_; }

  // Unique jobs: false when the enqueue added nothing because another task held its unique
  // key (EnqueueOptions::unique_key, TaskOptions::unique); this handle then reads that task.
  // True for every other enqueue (also one skipped because its id existed).
  bool added() const { return added_; }

  // Current state, from one store read; never blocks. PENDING if the store does not know
  // the id (not enqueued yet, never, or its result expired). Throws runq::Error when the
  // store cannot be read.
  TaskState state() const { return status_or_throw().state; }
  // True once the task is final (SUCCESS, FAILURE, EXPIRED, REVOKED, DEAD).
  bool ready() const { return is_final(state()); }
  // The full record, from one store read (same rules as state(): an unknown id gives a
  // PENDING record with only `id` set). Throws runq::Error when the store cannot be read.
  TaskStatus status() const { return status_or_throw(); }

  // Waits up to `timeout` for a final state and returns the value (nothing for void).
  // Throws TaskFailed if the task ended in any state but SUCCESS; Timeout if it is not final
  // in time, or the store has no record of it (unknown id, expired record); runq::Error with
  // DataLoss if the value does not convert to T; runq::Error on other store errors. May be
  // called again after a Timeout, and repeatedly after success (each call reads the store).
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
      if (st->error_type == "runq::ChordError") {
        throw ChordError(id_, st->state, st->error_type, msg);
      }
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
  bool added_ = true;
};

}  // namespace runq
