// runq/options.hpp — options of a registered task (TaskOptions), of one enqueue
// (EnqueueOptions), and the retry backoff (Backoff).
//
// All are plain values built fluently: `TaskOptions{}.max_retries(5).time_limit(2min)`.
// Each setter has a getter of the same name. Thread safety: values; no shared state.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runq/clock.hpp"
#include "runq/store.hpp"

namespace runq {

// How long to wait before a retry.
class Backoff {
 public:
  // delay(n) = random(0, min(cap, base * factor^(n-1))) for the n-th retry ("full jitter",
  // which spreads a burst of failures over the whole window instead of retrying in lockstep).
  static Backoff exponential(std::chrono::milliseconds base = std::chrono::seconds(1),
                             double factor = 2.0,
                             std::chrono::milliseconds cap = std::chrono::minutes(10));
  // The same delay before every retry, no jitter.
  static Backoff fixed(std::chrono::milliseconds delay);

  // Delay before retry number `retry` (1 = the first retry). `random01` is in [0, 1) and is
  // the jitter source; pass 1.0 - epsilon to get the upper bound.
  Millis delay_ms(int retry, double random01) const;

  bool jittered() const { return jitter_; }

 private:
  Millis base_ = 1000;
  double factor_ = 2.0;
  Millis cap_ = 600'000;
  bool jitter_ = true;
};

// Options fixed when a task is registered with App::task. Defaults in brackets.
class TaskOptions {
 public:
  // Retries after a failure [0: a failure is final]. A retry is a scheduled re-enqueue.
  TaskOptions& max_retries(int n) {
    max_retries_ = n;
    return *this;
  }
  int max_retries() const { return max_retries_; }

  // Delay before each retry [exponential(1s, 2, 10min) with full jitter].
  TaskOptions& backoff(Backoff b) {
    backoff_ = b;
    return *this;
  }
  const Backoff& backoff() const { return backoff_; }

  // Retry only exceptions of type E (or derived). May be given several times. Without any
  // retry_on rule every exception is retried (up to max_retries).
  template <typename E>
  TaskOptions& retry_on() {
    retry_rules_.push_back([](const std::exception_ptr& ep) {
      try {
        std::rethrow_exception(ep);
      } catch (const E&) {
        return true;
      } catch (...) {
        return false;
      }
    });
    return *this;
  }
  // True when an exception `ep` should be retried under the retry_on rules.
  bool should_retry(const std::exception_ptr& ep) const;

  // Soft time limit [none]: when it passes, the task's Context::cancelled() turns true and
  // its stop_token is requested. A task that ignores it keeps running (threads cannot be
  // killed safely); its lease is still kept.
  TaskOptions& time_limit(std::chrono::milliseconds d) {
    time_limit_ms_ = to_millis(d);
    return *this;
  }
  Millis time_limit() const { return time_limit_ms_; }

  // Default queue ["default"] and priority [0; 9 runs first] of enqueues of this task.
  TaskOptions& queue(std::string q) {
    queue_ = std::move(q);
    return *this;
  }
  const std::string& queue() const { return queue_; }
  TaskOptions& priority(int p) {
    priority_ = p;
    return *this;
  }
  int priority() const { return priority_; }

  // Do not store return values [false]. Saves a write per task; get() then times out.
  TaskOptions& ignore_result(bool v = true) {
    ignore_result_ = v;
    return *this;
  }
  bool ignore_result() const { return ignore_result_; }

  // How long results are kept [1 day].
  TaskOptions& result_ttl(std::chrono::milliseconds d) {
    result_ttl_ms_ = to_millis(d);
    return *this;
  }
  Millis result_ttl() const { return result_ttl_ms_; }

  // Lease lapses (worker died or hung) tolerated before the task is dead-lettered [5].
  TaskOptions& max_deliveries(int n) {
    max_deliveries_ = n;
    return *this;
  }
  int max_deliveries() const { return max_deliveries_; }

 private:
  int max_retries_ = 0;
  Backoff backoff_ = Backoff::exponential();
  std::vector<std::function<bool(const std::exception_ptr&)>> retry_rules_;
  Millis time_limit_ms_ = 0;
  std::string queue_{kDefaultQueue};
  int priority_ = kDefaultPriority;
  bool ignore_result_ = false;
  Millis result_ttl_ms_ = 86'400'000;
  int max_deliveries_ = 5;
};

// Options of one enqueue; anything unset falls back to the task's TaskOptions.
class EnqueueOptions {
 public:
  EnqueueOptions& queue(std::string q) {
    queue_ = std::move(q);
    return *this;
  }
  EnqueueOptions& priority(int p) {
    priority_ = p;
    return *this;
  }
  // Run no earlier than now + d.
  EnqueueOptions& countdown(std::chrono::milliseconds d) {
    countdown_ms_ = to_millis(d);
    return *this;
  }
  // Run no earlier than `t`.
  EnqueueOptions& eta(std::chrono::system_clock::time_point t) {
    eta_ms_ = to_millis(t.time_since_epoch());
    return *this;
  }
  // If the task has not started within `d` from now, it ends EXPIRED without running.
  EnqueueOptions& expires(std::chrono::milliseconds d) {
    expires_in_ms_ = to_millis(d);
    return *this;
  }
  // Use this task id instead of a random one. Enqueue is idempotent per id.
  EnqueueOptions& id(std::string v) {
    id_ = std::move(v);
    return *this;
  }

  const std::optional<std::string>& queue() const { return queue_; }
  const std::optional<int>& priority() const { return priority_; }
  Millis countdown() const { return countdown_ms_; }
  Millis eta() const { return eta_ms_; }
  Millis expires_in() const { return expires_in_ms_; }
  const std::string& id() const { return id_; }

 private:
  std::optional<std::string> queue_;
  std::optional<int> priority_;
  Millis countdown_ms_ = 0;
  Millis eta_ms_ = 0;
  Millis expires_in_ms_ = 0;
  std::string id_;
};

}  // namespace runq
