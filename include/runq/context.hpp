// runq/context.hpp — what a running task knows about itself, and the calls it may make on
// its own run: report progress, ask for a retry, notice cancellation.
//
// A task whose FIRST parameter is `runq::Context&` receives one; the other parameters are
// its JSON arguments as usual:
//   app.task("report", [](runq::Context& ctx, std::string day) {
//     for (int i = 0; i < 100 && !ctx.cancelled(); ++i) { work(day, i); ctx.progress(i / 100.0); }
//   });
// The Context lives for one attempt: a retry gets a new one with attempt() + 1.
//
// Thread safety: a Context belongs to the one thread running the attempt, and must not be
// used after the task body returned. cancelled() and stop_token() may be read from any
// thread; the worker requests the stop from its own threads.
#pragma once

#include <chrono>
#include <functional>
#include <stop_token>
#include <string>

#include "runq/clock.hpp"

namespace runq {

// Thrown by Context::retry(). Deliberately not derived from std::exception so that a task's
// own `catch (const std::exception&)` does not swallow it; let it propagate (a `catch (...)`
// that does not rethrow cancels the retry request).
struct RetryRequest {
  Millis delay_ms = 0;  // run the next attempt this long after this one ended
};

class Context {
 public:
  // Built by the worker for each attempt; tests of task bodies may build one directly.
  // `on_progress` receives progress() calls (none: they are dropped); `stop` is the
  // cancellation flag (a default std::stop_token: cancelled() is always false).
  // Never throws beyond std::bad_alloc.
  Context(std::string id, std::string task_name, int attempt, int max_retries,
          std::function<void(double)> on_progress = {}, std::stop_token stop = {})
      : id_(std::move(id)),
        task_name_(std::move(task_name)),
        attempt_(attempt),
        max_retries_(max_retries),
        on_progress_(std::move(on_progress)),
        stop_(std::move(stop)) {}

  // The task id (what delay() returned in its AsyncResult). Stable across retries.
  const std::string& id() const { return id_; }
  // The registered task name.
  const std::string& task_name() const { return task_name_; }
  // 1 for the first run, 2 for the first retry... A redelivery after a lapsed lease runs the
  // same attempt number again.
  int attempt() const { return attempt_; }
  // The retries this task may have in total (TaskOptions::max_retries of the worker's
  // registration): the task is on its last try when attempt() > max_retries().
  int max_retries() const { return max_retries_; }

  // Reports progress in [0, 1] (values outside are clamped), visible in TaskStatus::progress
  // and `runq result` while the task runs. Cheap to call often: the worker stores at most
  // one update per 200 ms (and always a 1.0), dropping the others; a store error is ignored.
  // A no-op in eager mode.
  void progress(double fraction) {
    if (on_progress_) on_progress_(fraction);
  }

  // Ends this attempt and asks for another one after `delay` instead of the backoff
  // (counted against max_retries, but not subject to TaskOptions::retry_on; when no retry
  // is left the task ends FAILURE with error type "runq::RetryRequest"). Throws
  // RetryRequest: do not catch it. Eager mode ignores the delay.
  [[noreturn]] void retry(std::chrono::milliseconds delay) { throw RetryRequest{to_millis(delay)}; }

  // True once the task should stop early: its soft time limit passed
  // (TaskOptions::time_limit), the worker's shutdown grace period ran out, or its lease was
  // lost to another worker (whose run will count; this one's result will be refused). Once
  // true it stays true. Long tasks should poll it and return or throw; nothing forces them.
  bool cancelled() const { return stop_.stop_requested(); }
  // The same flag as a std::stop_token, for std::condition_variable_any waits,
  // std::stop_callback or a std::jthread the task starts.
  std::stop_token stop_token() const { return stop_; }

 private:
  std::string id_;
  std::string task_name_;
  int attempt_;
  int max_retries_;
  std::function<void(double)> on_progress_;
  std::stop_token stop_;
};

}  // namespace runq
