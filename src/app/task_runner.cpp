#include "app/task_runner.hpp"

#include <cxxabi.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <typeinfo>

#include <nlohmann/json.hpp>

#include "app/workflow_step.hpp"
#include "core/message.hpp"
#include "core/message_scan.hpp"
#include "runq/app.hpp"

namespace runq::internal {
namespace {

std::string demangle(const char* name) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                             std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(name);
}

std::string truncate(std::string s) {
  if (s.size() > kMaxErrorMessage) s.resize(kMaxErrorMessage);
  return s;
}

double jitter01() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
}

// Identifies the in-flight exception: its demangled type and message.
void describe_current_exception(std::string* type, std::string* message) {
  try {
    throw;
  } catch (const std::exception& e) {
    *type = demangle(typeid(e).name());
    *message = truncate(e.what());
  } catch (...) {
    std::type_info* ti = abi::__cxa_current_exception_type();
    *type = ti ? demangle(ti->name()) : "unknown";
    *message = "non-standard exception of type " + *type;
  }
}

Settlement dead_letter(const Delivery& d, std::string reason, ResultRecord rec) {
  Settlement s;
  s.outcome = Outcome::kDeadLetter;
  s.id = d.id;
  s.token = d.token;
  s.state = TaskState::kDead;
  rec.state = TaskState::kDead;
  if (rec.queue.empty()) rec.queue = d.queue;
  rec.error_type = "runq::DeadLetter";
  rec.error = reason;
  s.reason = std::move(reason);
  s.result = encode_result(rec);
  return s;
}

// The message's workflow object (empty object when it has none or it does not parse).
nlohmann::json workflow_of(const TaskMessage& msg) {
  if (msg.workflow.empty()) return nlohmann::json::object();
  nlohmann::json wf = nlohmann::json::parse(msg.workflow, nullptr, false);
  return wf.is_object() ? wf : nlohmann::json::object();
}

// Adds the link_error callbacks of a task that ended for good without success.
void add_error_callbacks(const App& app, const TaskMessage& msg, const ResultRecord& rec,
                         Settlement& s, Millis now) {
  if (msg.workflow.empty()) return;
  FailedTask failed{msg.id, msg.name, std::string(task_state_name(s.state)), rec.error_type,
                    rec.error};
  std::vector<std::string> skipped;
  s.then.tasks = callback_tasks(app, workflow_of(msg), false, "", failed, now, &skipped);
  for (const std::string& why : skipped) {
    std::fprintf(stderr, "runq: task %s: link_error callback not enqueued: %s\n", msg.id.c_str(),
                 why.c_str());
  }
}

}  // namespace

RunOutcome TaskRunner::run(const Delivery& d, std::stop_token stop,
                           const std::function<void(double)>& progress) const {
  Millis now = app_.clock().now_ms();
  ResultRecord rec;
  rec.id = d.id;
  rec.worker = worker_id_;
  rec.started = now;

  nlohmann::json args;
  Result<TaskMessage> decoded = decode_message(d.body, &args);
  if (!decoded.ok()) {
    rec.finished = now;
    return {dead_letter(d, decoded.status().message(), std::move(rec))};
  }
  TaskMessage& msg = *decoded;
  rec.task = msg.name;
  rec.queue = msg.queue;
  rec.enqueued = msg.created;
  rec.attempts = msg.attempt;
  rec.errors = msg.errors;
  rec.workflow = msg.workflow;

  Settlement s;
  s.id = d.id;
  s.token = d.token;
  s.result_ttl = msg.result_ttl;

  if (msg.expires > 0 && now > msg.expires) {
    rec.state = s.state = TaskState::kExpired;
    rec.error_type = "runq::Expired";
    rec.error = "expired at " + std::to_string(msg.expires) + " before it started";
    rec.finished = now;
    s.result = encode_result(rec);
    return {std::move(s)};
  }
  const TaskDefinition* def = app_.find_task(msg.name);
  if (def == nullptr) {
    rec.finished = now;
    Settlement dead = dead_letter(d, "unknown task '" + msg.name + "'", rec);
    rec.error_type = "runq::DeadLetter";
    rec.error = dead.reason;
    add_error_callbacks(app_, msg, rec, dead, now);
    return {std::move(dead)};
  }
  int max_retries = msg.max_retries >= 0 ? msg.max_retries : def->options.max_retries();

  // A workflow step: its parents' results become its first argument.
  const nlohmann::json wf = workflow_of(msg);
  nlohmann::json own_args;  // a retry stores the arguments without the parents' results
  if (wf.contains("parents")) {
    own_args = args;
    std::shared_ptr<Store> store = const_cast<App&>(app_).store();
    Result<std::optional<StepFailure>> bound =
        bind_parents(*store, wf, &args, now, 16 * app_.max_payload_bytes());
    if (!bound.ok()) {  // the store is unreachable: try again soon, as the same attempt
      s.outcome = Outcome::kRetry;
      rec.state = s.state = TaskState::kRetry;
      s.retry_at = rec.next_run = now + 1000;
      rec.error_type = "runq::WorkflowError";
      rec.error = "reading the parents' results: " + bound.status().message();
      s.result = encode_result(rec);
      return {std::move(s)};
    }
    if (bound->has_value()) {
      rec.finished = now;
      rec.error_type = (*bound)->type;
      rec.error = truncate((*bound)->message);
      rec.errors.push_back({msg.attempt, rec.error_type, rec.error, now});
      rec.state = s.state = TaskState::kFailure;
      s.result = encode_result(rec);
      add_error_callbacks(app_, msg, rec, s, now);
      return {std::move(s), true};
    }
  }

  std::string value, err_type, err_msg;
  Millis retry_delay = -1;  // >= 0: the body asked for a retry
  bool bad_args = false;
  std::exception_ptr error;
  try {
    Context ctx(msg.id, msg.name, msg.attempt, max_retries, progress, stop);
    value = def->invoke(ctx, args);
  } catch (const RetryRequest& r) {
    retry_delay = r.delay_ms;
    err_type = "runq::RetryRequest";
    err_msg = "retry requested by the task";
  } catch (const BadArguments& e) {
    bad_args = true;
    err_type = "runq::BadArguments";
    err_msg = truncate(e.what());
  } catch (...) {
    error = std::current_exception();
    describe_current_exception(&err_type, &err_msg);
  }
  now = app_.clock().now_ms();
  rec.finished = now;

  if (err_type.empty()) {
    rec.state = s.state = TaskState::kSuccess;
    if (wf.contains("link")) {
      std::vector<std::string> skipped;
      s.then.tasks = callback_tasks(app_, wf, true, value, {}, now, &skipped);
      for (const std::string& why : skipped) {
        std::fprintf(stderr, "runq: task %s: link callback not enqueued: %s\n", msg.id.c_str(),
                     why.c_str());
      }
    }
    if (!msg.ignore_result && !def->options.ignore_result()) {
      rec.value = std::move(value);
      s.result = encode_result(rec);
    }
    return {std::move(s)};
  }

  rec.error_type = err_type;
  rec.error = err_msg;
  rec.errors.push_back({msg.attempt, err_type, err_msg, now});
  bool retryable = !bad_args && (retry_delay >= 0 || def->options.should_retry(error));
  if (retryable && msg.attempt <= max_retries) {
    if (retry_delay < 0) retry_delay = def->options.backoff().delay_ms(msg.attempt, jitter01());
    s.outcome = Outcome::kRetry;
    rec.state = s.state = TaskState::kRetry;
    s.retry_at = rec.next_run = now + retry_delay;
    msg.attempt += 1;
    msg.errors = rec.errors;
    msg.args = (own_args.is_null() ? args : own_args).dump();
    s.body = encode_message(msg);
    s.result = encode_result(rec);
    return {std::move(s)};
  }
  rec.state = s.state = TaskState::kFailure;
  s.result = encode_result(rec);
  add_error_callbacks(app_, msg, rec, s, now);
  return {std::move(s), true};
}

RunOutcome TaskRunner::aborted(const Delivery& d, AbortKind kind, const std::string& cause,
                               const std::string& last, Millis started) const {
  Millis now = app_.clock().now_ms();
  ResultRecord rec;
  rec.id = d.id;
  rec.worker = worker_id_;
  rec.started = started > 0 ? started : now;
  rec.finished = now;
  Result<TaskMessage> decoded = decode_message(d.body);
  if (!decoded.ok()) return {dead_letter(d, decoded.status().message(), std::move(rec))};
  TaskMessage& msg = *decoded;
  rec.task = msg.name;
  rec.queue = msg.queue;
  rec.enqueued = msg.created;
  rec.attempts = msg.attempt;
  rec.errors = msg.errors;
  const TaskDefinition* def = app_.find_task(msg.name);
  if (def == nullptr) return {dead_letter(d, "unknown task '" + msg.name + "'", std::move(rec))};

  Settlement s;
  s.id = d.id;
  s.token = d.token;
  s.result_ttl = msg.result_ttl;
  switch (kind) {
    case AbortKind::kRevoked:
      rec.error_type = "runq::Revoked";
      break;
    case AbortKind::kTimeLimit:
      rec.error_type = "runq::TimeLimitExceeded";
      break;
    case AbortKind::kCrash:
      rec.error_type = "runq::WorkerCrashed";
      break;
    case AbortKind::kRefused:
      rec.error_type = "runq::HardLimitUnsupported";
      break;
  }
  rec.error = truncate(cause);
  rec.errors.push_back({msg.attempt, rec.error_type, rec.error, now});
  if (kind == AbortKind::kRevoked) {
    rec.state = s.state = TaskState::kRevoked;
    s.result = encode_result(rec);
    return {std::move(s)};
  }
  if (kind == AbortKind::kRefused) {
    rec.state = s.state = TaskState::kFailure;
    s.result = encode_result(rec);
    return {std::move(s), true};
  }
  if (kind == AbortKind::kCrash) {
    msg.crashes += 1;
    int limit = std::max(1, def->options.crash_limit());
    if (msg.crashes >= limit) {
      return {dead_letter(d,
                          "crashed its worker process " + std::to_string(msg.crashes) +
                              " times (last: " + last + ")",
                          std::move(rec))};
    }
  }
  int max_retries = msg.max_retries >= 0 ? msg.max_retries : def->options.max_retries();
  if (msg.attempt <= max_retries) {
    s.outcome = Outcome::kRetry;
    rec.state = s.state = TaskState::kRetry;
    s.retry_at = rec.next_run = now + def->options.backoff().delay_ms(msg.attempt, jitter01());
    msg.attempt += 1;
    msg.errors = rec.errors;
    s.body = encode_message(msg);
    s.result = encode_result(rec);
    return {std::move(s)};
  }
  rec.state = s.state = TaskState::kFailure;
  s.result = encode_result(rec);
  return {std::move(s), true};
}

TaskLimits TaskRunner::limits(const Delivery& d) const {
  TaskMessage msg;
  if (!scan_message(d.body, &msg, nullptr)) {
    Result<TaskMessage> decoded = decode_message(d.body);
    if (!decoded.ok()) return {};
    msg = std::move(*decoded);
  }
  TaskLimits l{msg.time_limit, msg.soft_time_limit};
  if (const TaskDefinition* def = app_.find_task(msg.name); def != nullptr) {
    if (l.hard_ms <= 0) l.hard_ms = std::max<Millis>(0, def->options.time_limit());
    if (l.soft_ms <= 0) l.soft_ms = std::max<Millis>(0, def->options.soft_time_limit());
  }
  return l;
}

}  // namespace runq::internal
