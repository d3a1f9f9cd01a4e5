// runq/context.hpp — what a running task knows about itself.
//
// A task whose first parameter is `runq::Context&` receives one:
//   app.task("report", [](runq::Context& ctx, std::string day) { ctx.progress(0.5); ... });
// Thread safety: a Context belongs to the one thread running the task, except cancelled() /
// stop_token(), which the worker sets from other threads.
#pragma once

#include <chrono>
#include <functional>
#include <stop_token>
#include <string>

#include "runq/clock.hpp"

namespace runq {

// Thrown by Context::retry(). Deliberately not derived from std::exception so that a task's
// own `catch (const std::exception&)` does not swallow it; let it propagate.
struct RetryRequest {
  Millis delay_ms = 0;
};

class Context {
 public:
  // Built by the worker; tests of task bodies may build one directly.
  Context(std::string id, std::string task_name, int attempt, int max_retries,
          std::function<void(double)> on_progress = {}, std::stop_token stop = {})
      : id_(std::move(id)),
        task_name_(std::move(task_name)),
        attempt_(attempt),
        max_retries_(max_retries),
        on_progress_(std::move(on_progress)),
        stop_(std::move(stop)) {}

  // The task id (what delay() returned in its AsyncResult).
  const std::string& id() const { return id_; }
  const std::string& task_name() const { return task_name_; }
  // 1 for the first run, 2 for the first retry...
  int attempt() const { return attempt_; }
  int max_retries() const { return max_retries_; }

  // Reports progress in [0, 1], visible in `runq result` / `status` while the task runs.
  // Cheap to call often: the worker forwards at most a few updates per second.
  void progress(double fraction) {
    if (on_progress_) on_progress_(fraction);
  }

  // Ends this attempt and asks for another one after `delay` (counted against max_retries;
  // when none are left the task ends FAILURE). Throws RetryRequest: do not catch it.
  [[noreturn]] void retry(std::chrono::milliseconds delay) { throw RetryRequest{to_millis(delay)}; }

  // True once the task should stop early: its soft time limit passed, the worker is shutting
  // down hard, or its lease was lost to another worker. Long tasks should poll it.
  bool cancelled() const { return stop_.stop_requested(); }
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
