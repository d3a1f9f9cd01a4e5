// runq/status.hpp — error values used by every fallible runq call.
//
// A `Status` is either OK or carries a `StatusCode` and a message. `Result<T>` holds a `T` or a
// non-OK `Status`. Both are cheap to move and are `[[nodiscard]]`: ignoring one is a bug.
// Callers branch on the code (`is_unavailable(s)`), never on the message. Messages read
// "what we were doing: cause".
//
// Thread safety: values; no shared state.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace runq {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller passed something malformed; retrying will not help
  kNotFound,            // the named task, queue, schedule or worker does not exist
  kAlreadyExists,       // creating something that exists
  kFailedPrecondition,  // state does not allow it (e.g. a stale lease token)
  kUnavailable,         // transient: store down or busy; retry with backoff
  kDeadlineExceeded,    // a wait timed out
  kCancelled,           // the operation was cancelled (shutdown, revoke)
  kResourceExhausted,   // a size or capacity limit was hit
  kDataLoss,            // stored bytes could not be decoded
  kInternal,            // a bug or an unexpected backend reply
};

// Returns the fixed name of `code`, e.g. "NOT_FOUND".
std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NOT_FOUND: message", or "OK".
  std::string to_string() const;
  // Returns a copy whose message is prefixed with "context: ".
  Status with_context(std::string_view context) const;
  void ignore_error() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

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
inline Status data_loss_error(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status internal_error(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

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
inline bool is_data_loss(const Status& s) { return s.code() == StatusCode::kDataLoss; }
inline bool is_internal(const Status& s) { return s.code() == StatusCode::kInternal; }

// Holds a T or a non-OK Status.
// REQUIRES: a Result is never constructed from an OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // OK when holding a value.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  // REQUIRES: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T value_or(T fallback) const { return ok() ? std::get<T>(v_) : std::move(fallback); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace runq

#define RUNQ_CONCAT_INNER_(a, b) a##b
#define RUNQ_CONCAT_(a, b) RUNQ_CONCAT_INNER_(a, b)

// Returns the Status of `expr` from the enclosing function when it is not OK.
#define RUNQ_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::runq::Status runq_status_ = (expr);        \
    if (!runq_status_.ok()) return runq_status_; \
  } while (0)

// `RUNQ_ASSIGN_OR_RETURN(auto x, f());` declares x from a Result or returns its Status.
#define RUNQ_ASSIGN_OR_RETURN(lhs, expr) \
  RUNQ_ASSIGN_OR_RETURN_IMPL_(RUNQ_CONCAT_(runq_result_, __LINE__), lhs, expr)
#define RUNQ_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
