// runq/status.hpp — error values used by every fallible runq call: Status, Result<T>, and the
// macros that propagate them.
//
// A `Status` is either OK or carries a `StatusCode` and a message. `Result<T>` holds a `T` or
// a non-OK `Status`. Both are returned by value, are cheap to move and are `[[nodiscard]]`:
// ignoring one is a compile warning (an error under -Werror), so a deliberately ignored
// Status says so with `ignore_error()` or a `(void)` cast.
//
// Callers branch on the code (`is_unavailable(s)`), never on the message: messages are for
// people and may change in any release. Messages read "what we were doing: cause", e.g.
// "enqueueing task 'add': database is locked"; `with_context` adds the outer "what".
//
// Store, admin and internal calls return these and never throw. The typed user API (App,
// TaskHandle, AsyncResult) throws them wrapped in runq::Error instead (runq/error.hpp).
//
// Thread safety: Status and Result are plain values with no shared state. Distinct objects
// may be used from different threads freely; one object follows the rules of the types it
// holds (const access from many threads at once is safe).
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace runq {

// What went wrong, coarsely enough to decide what to do next. The set is abseil's, minus
// the codes runq has no use for. Each comment says when runq returns the code and whether
// retrying the same call can help.
enum class StatusCode {
  kOk = 0,  // success; the only code of an OK Status
  // The caller passed something malformed (an empty queue name, a priority outside 0..9,
  // an unknown store URL scheme). Retrying the same call cannot help.
  kInvalidArgument,
  // The named task, schedule or worker does not exist (or a task's result has expired).
  kNotFound,
  // Creating something that exists, e.g. registering a task name twice.
  kAlreadyExists,
  // The system is not in a state that allows the call, e.g. a lease token that is no longer
  // the current holder's, or a store that cannot be used as configured (Redis
  // authentication refused, SQLite unable to use WAL mode). Retrying unchanged will not help.
  kFailedPrecondition,
  // Transient: the store is down, unreachable or busy. Nothing was changed; retry with
  // backoff.
  kUnavailable,
  // A wait ended before what it waited for happened (AsyncResult::get, Store::wait_task).
  kDeadlineExceeded,
  // The operation was cancelled before it completed.
  kCancelled,
  // No room right now: a bounded queue is full (Store::set_queue_limit), or the store is out
  // of space (SQLite's disk full, Redis at maxmemory). Nothing was changed; retrying later,
  // once workers have drained the queue or space is freed, can help.
  kResourceExhausted,
  // A value is over a size limit: a task message over AppOptions::max_payload_bytes, a body
  // over the store's max_body_bytes, or a value SQLite cannot hold. Nothing was changed;
  // retrying the same call cannot help (pass large data by reference: a path or a key).
  kTooLarge,
  // Stored bytes could not be decoded (a malformed record, an unknown state name, a result
  // that does not convert to the requested type). Retrying reads the same bytes again.
  kDataLoss,
  // A bug in runq, or a backend reply runq did not expect.
  kInternal,
};

// The fixed upper-case name of `code`: "OK", "INVALID_ARGUMENT", "NOT_FOUND",
// "ALREADY_EXISTS", "FAILED_PRECONDITION", "UNAVAILABLE", "DEADLINE_EXCEEDED", "CANCELLED",
// "RESOURCE_EXHAUSTED", "TOO_LARGE", "DATA_LOSS", "INTERNAL"; "UNKNOWN" for a value outside
// the enum.
std::string_view status_code_name(StatusCode code);

// Success, or a code and a message saying what failed. Prefer the factories below
// (`not_found_error(msg)`) to the constructor; test with the predicates (`is_not_found(s)`).
class [[nodiscard]] Status {
 public:
  // OK, with an empty message.
  Status() = default;
  // A status with `code` and `message`. An OK code with a message is still OK (ok() is
  // true), and to_string() drops the message.
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  // True when the code is kOk.
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  // The message as given (empty for OK). For people and logs; do not parse it.
  const std::string& message() const { return message_; }
  // "NOT_FOUND: message" (status_code_name, ": ", message), or "OK" for any OK status.
  std::string to_string() const;
  // A copy whose message is prefixed with "context: ", same code. An OK status is returned
  // unchanged. Use it to say what the caller was doing when a callee failed.
  Status with_context(std::string_view context) const;
  // Does nothing: marks a Status as deliberately ignored, which silences [[nodiscard]].
  void ignore_error() const {}

  // Equal when both the code and the message are equal.
  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Factories: a Status of the named code with message `m` ("what we were doing: cause").
// ok_status() is the OK value, for returning success explicitly.
inline Status ok_status() { return Status(); }
inline Status invalid_argument_error(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status not_found_error(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status already_exists_error(std::string m) {
  return {StatusCode::kAlreadyExists, std::move(m)};
}
inline Status failed_precondition_error(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status unavailable_error(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status deadline_exceeded_error(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}
inline Status cancelled_error(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
inline Status resource_exhausted_error(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status too_large_error(std::string m) { return {StatusCode::kTooLarge, std::move(m)}; }
inline Status data_loss_error(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status internal_error(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Predicates: true when `s` carries the named code. The way to branch on an error.
inline bool is_invalid_argument(const Status& s) {
  return s.code() == StatusCode::kInvalidArgument;
}
inline bool is_not_found(const Status& s) { return s.code() == StatusCode::kNotFound; }
inline bool is_already_exists(const Status& s) { return s.code() == StatusCode::kAlreadyExists; }
inline bool is_failed_precondition(const Status& s) {
  return s.code() == StatusCode::kFailedPrecondition;
}
inline bool is_unavailable(const Status& s) { return s.code() == StatusCode::kUnavailable; }
inline bool is_deadline_exceeded(const Status& s) {
  return s.code() == StatusCode::kDeadlineExceeded;
}
inline bool is_cancelled(const Status& s) { return s.code() == StatusCode::kCancelled; }
inline bool is_resource_exhausted(const Status& s) {
  return s.code() == StatusCode::kResourceExhausted;
}
inline bool is_too_large(const Status& s) { return s.code() == StatusCode::kTooLarge; }
inline bool is_data_loss(const Status& s) { return s.code() == StatusCode::kDataLoss; }
inline bool is_internal(const Status& s) { return s.code() == StatusCode::kInternal; }

// Holds a T (success) or a non-OK Status (failure): the return type of a fallible call that
// produces a value. Both constructors are implicit, so a function returning Result<T> may
// `return value;` or `return not_found_error("...");`.
//
//   Result<TaskInfo> info = store.get_task(id, now);
//   if (!info.ok()) return info.status();   // or RUNQ_ASSIGN_OR_RETURN below
//   use(info->state);
//
// REQUIRES: a Result is never constructed from an OK Status (checked by assert() in debug
// builds; in a build with NDEBUG such a Result reports !ok() with an OK status()).
// REQUIRES: T is not Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  // Success holding `value`.
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  // Failure holding `status`. REQUIRES: !status.ok().
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok());
  }

  // True when a value is held.
  bool ok() const { return std::holds_alternative<T>(v_); }
  // The held error, or an OK Status when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  // The held value, by reference (moved out of an rvalue Result). The operators are
  // shorthands for value(). REQUIRES: ok(); otherwise std::bad_variant_access is thrown.
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  // A copy of the value when ok(), else `fallback`.
  T value_or(T fallback) const { return ok() ? std::get<T>(v_) : std::move(fallback); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace runq

// Implementation details of the macros below.
#define RUNQ_CONCAT_INNER_(a, b) a##b
#define RUNQ_CONCAT_(a, b) RUNQ_CONCAT_INNER_(a, b)

// Evaluates `expr` (a Status) once and returns it from the enclosing function when it is not
// OK. The enclosing function must return Status or a Result<U>.
#define RUNQ_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::runq::Status runq_status_ = (expr);        \
    if (!runq_status_.ok()) return runq_status_; \
  } while (0)

// `RUNQ_ASSIGN_OR_RETURN(auto x, f());` evaluates f() (a Result<T>) once: on success it
// declares (or assigns) `x` with the moved value; on failure it returns the Status from the
// enclosing function (which must return Status or a Result<U>). It expands to several
// statements: do not use it as the body of an unbraced if/else, and use it at most once per
// source line.
#define RUNQ_ASSIGN_OR_RETURN(lhs, expr) \
  RUNQ_ASSIGN_OR_RETURN_IMPL_(RUNQ_CONCAT_(runq_result_, __LINE__), lhs, expr)
#define RUNQ_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
