// runq/options.hpp — options of a registered task (TaskOptions), of one enqueue
// (EnqueueOptions), and the retry backoff (Backoff).
//
// All are plain values built fluently: `TaskOptions{}.max_retries(5).time_limit(2min)`.
// Each setter returns *this and has a getter of the same name. Setters never throw and never
// validate: a bad value (a priority of 12, an empty queue name) is reported when a task is
// enqueued with it, as a runq::Error with code InvalidArgument.
//
// WHO READS WHICH OPTION. A task's options exist in two processes: the producer that
// enqueues a call and the worker that runs it (each registers the task with App::task).
//  - Fixed at enqueue, from the producer's options (and EnqueueOptions): queue, priority,
//    ignore_result, result_ttl, max_deliveries, countdown/eta, expires, id.
//  - Read when the task runs, from the worker's registration: max_retries, backoff,
//    retry_on, crash_limit, time_limit and soft_time_limit (unless the enqueue set them) and
//    ignore_result (which either side can turn on).
// Register a task with the same options everywhere unless you mean otherwise.
//
// Thread safety: values with no shared state. A const object may be read from any number
// of threads (the worker does so for every task it runs).
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runq/clock.hpp"
#include "runq/status.hpp"
#include "runq/store.hpp"

namespace runq {

// A rate: at most `count` tasks per `period_ms`.
struct RateLimit {
  std::int64_t count = 0;
  Millis period_ms = 0;
  bool operator==(const RateLimit&) const = default;
};

// Parses "N/s", "N/m" or "N/h" (N a whole number from 1 to 1,000,000,000; spaces around the
// parts allowed). Errors: InvalidArgument naming the text and the accepted form ("10/x",
// "-1/s", "0/s", "" are refused).
Result<RateLimit> parse_rate_limit(std::string_view text);

// How long to wait before a retry. A default-constructed Backoff equals exponential().
class Backoff {
 public:
  // delay(n) = random(0, min(cap, base * factor^(n-1))) for the n-th retry ("full jitter",
  // which spreads a burst of failures over the whole window instead of retrying in lockstep).
  // Out-of-range arguments are clamped: base < 0 becomes 0, factor < 1 becomes 1, cap < base
  // becomes base. Tuning: base is the typical recovery time of what fails (a restarted
  // service, a rate-limit window); cap bounds how stale a retried task may get.
  static Backoff exponential(std::chrono::milliseconds base = std::chrono::seconds(1),
                             double factor = 2.0,
                             std::chrono::milliseconds cap = std::chrono::minutes(10));
  // The same delay before every retry, no jitter (a negative delay becomes 0). Retries of
  // many tasks that failed together stay together; prefer exponential() against shared
  // dependencies.
  static Backoff fixed(std::chrono::milliseconds delay);

  // Delay in ms before retry number `retry` (1 = the first retry, after attempt 1 failed).
  // `random01` is the jitter source, clamped to [0, 1]; 1.0 gives the upper bound. A fixed()
  // backoff ignores both arguments. Never throws.
  Millis delay_ms(int retry, double random01) const;

 private:
  Millis base_ = 1000;
  double factor_ = 2.0;
  Millis cap_ = 600'000;
  bool jitter_ = true;
};

// Unique jobs: until when a task holds its unique key (see EnqueueOptions::unique_key).
enum class UniqueUntil {
  kStart,   // until a worker takes it (it may then be enqueued again while it runs)
  kFinish,  // until it ends: success, failure, dead, revoked or expired (the default)
};
inline constexpr UniqueUntil kStart = UniqueUntil::kStart;
inline constexpr UniqueUntil kFinish = UniqueUntil::kFinish;

// Options fixed when a task is registered with App::task. Defaults in brackets.
class TaskOptions {
 public:
  // Retries after a failure [0: a failure is final; values < 0 act as 0]. A task gets at
  // most 1 + n attempts. A retry re-enqueues the task (state RETRY) to run after the backoff
  // delay, on any worker, as attempt number attempt + 1; the errors of earlier attempts are
  // kept in its result. Exceptions the retry_on rules exclude, and BadArguments, end the
  // task FAILURE at once.
  TaskOptions& max_retries(int n) {
    max_retries_ = n;
    return *this;
  }
  int max_retries() const { return max_retries_; }

  // Delay before each retry [exponential(1s, 2, 10min), full jitter]. Context::retry(delay)
  // uses its own delay instead. Ignored in eager mode, which retries at once.
  TaskOptions& backoff(Backoff b) {
    backoff_ = b;
    return *this;
  }
  const Backoff& backoff() const { return backoff_; }

  // Retry only exceptions of type E or derived from it. May be given several times: an
  // exception is retried when any rule matches. Without any retry_on rule every exception
  // is retried (up to max_retries). Context::retry() is not subject to these rules.
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
  // True when the exception `ep` may be retried under the retry_on rules (always true when
  // there are none). Does not look at max_retries. REQUIRES: ep is not null.
  bool should_retry(const std::exception_ptr& ep) const;

  // Soft time limit per attempt [0: none], counted from the moment the attempt starts
  // running. When it passes (the worker checks about every 100 ms), the task's
  // Context::cancelled() turns true and its stop_token is requested, in both pools. A task
  // that ignores it keeps running and keeps its lease; a task that returns or throws
  // afterwards is settled as usual. EnqueueOptions::soft_time_limit overrides it per call.
  // Not enforced in eager mode.
  TaskOptions& soft_time_limit(std::chrono::milliseconds d) {
    soft_time_limit_ms_ = to_millis(d);
    return *this;
  }
  Millis soft_time_limit() const { return soft_time_limit_ms_; }

  // Hard time limit per attempt [0: none]. In the process pool (WorkerOptions::pool) the
  // child running the attempt is sent SIGTERM at the limit and SIGKILL 50 ms later; the
  // attempt ends FAILURE "time limit exceeded (2s)" (error type runq::TimeLimitExceeded,
  // retried under max_retries like any failure) and the child is replaced, within 100 ms of
  // the limit. The thread pool cannot stop a thread: there it acts as a soft limit (and as
  // the soft limit when none is set), the worker warns once, and refuses such tasks with
  // WorkerOptions::require_hard_limits. EnqueueOptions::time_limit overrides it per call.
  TaskOptions& time_limit(std::chrono::milliseconds d) {
    time_limit_ms_ = to_millis(d);
    return *this;
  }
  Millis time_limit() const { return time_limit_ms_; }

  // Attempts that crash their worker process (process pool: SIGSEGV, abort, exit(), OOM
  // kill) tolerated [3; values < 1 act as 1]. Each crash is a failed attempt ("worker
  // process crashed: signal 11 (SIGSEGV)"), retried under max_retries; the crash_limit-th
  // crash dead-letters the task, reason "crashed its worker process 3 times (last:
  // SIGSEGV)", so that a poison task cannot crash-loop the fleet.
  TaskOptions& crash_limit(int n) {
    crash_limit_ = n;
    return *this;
  }
  int crash_limit() const { return crash_limit_; }

  // Default queue of enqueues of this task ["default"]. Must not be empty. Workers consume
  // the queues listed in WorkerOptions::queues; a task in a queue no worker consumes waits.
  TaskOptions& queue(std::string q) {
    queue_ = std::move(q);
    return *this;
  }
  const std::string& queue() const { return queue_; }
  // Default priority of enqueues of this task [0], from kMinPriority (0) to kMaxPriority
  // (9); within a queue higher priorities are handed out first, FIFO among equals.
  TaskOptions& priority(int p) {
    priority_ = p;
    return *this;
  }
  int priority() const { return priority_; }

  // Do not store return values [false]. Saves writing a result record per task; the task's
  // final state is still kept for result_ttl. AsyncResult::get() of such a task has no
  // value to return and throws for any T but void. For fire-and-forget tasks.
  TaskOptions& ignore_result(bool v = true) {
    ignore_result_ = v;
    return *this;
  }
  bool ignore_result() const { return ignore_result_; }

  // How long a finished task's result is kept [1 day], counted from when the worker stored
  // it.
  // Afterwards the store forgets the task (AsyncResult::state() reads PENDING). Shorter
  // keeps a busy store small; longer lets late readers still fetch results.
  TaskOptions& result_ttl(std::chrono::milliseconds d) {
    result_ttl_ms_ = to_millis(d);
    return *this;
  }
  Millis result_ttl() const { return result_ttl_ms_; }

  // Deliveries per attempt tolerated before the task is dead-lettered [5; values < 1 act as
  // 1]. A delivery ends without a result when its worker died or hung and the lease lapsed;
  // a task that crashes every worker that runs it is stopped after this many. Raise it for
  // tasks on workers that are often killed (spot instances); 1 means at most once per
  // attempt.
  TaskOptions& max_deliveries(int n) {
    max_deliveries_ = n;
    return *this;
  }
  int max_deliveries() const { return max_deliveries_; }

  // Flow control: a global rate limit ["": none], e.g. "100/s", "600/m", "1000/h". Every
  // worker on every machine together starts at most that many of this task per period
  // (enforced in the store's reserve; EnqueueOptions::rate_limit_key splits it per key). A
  // task that may not start yet waits in the store, never in a worker, and the tasks behind
  // it in its queue are handed out meanwhile. App::task refuses a malformed rate
  // (InvalidArgument, see parse_rate_limit) at registration.
  TaskOptions& rate_limit(std::string rate) {
    rate_limit_ = std::move(rate);
    return *this;
  }
  const std::string& rate_limit() const { return rate_limit_; }

  // Flow control: at most `n` tasks of this task name run at once across all workers [0: no
  // limit]; with EnqueueOptions::concurrency_key, at most `n` per key (e.g. one sync per
  // user). The others wait in the store, holding no worker thread, until a slot frees (the
  // task settles, is revoked, or its lease lapses). App::task refuses n < 0.
  TaskOptions& max_concurrency(int n) {
    max_concurrency_ = n;
    return *this;
  }
  int max_concurrency() const { return max_concurrency_; }

  // Unique jobs [off]: every enqueue of this task takes the unique key "<task name>:<SHA-256
  // of its canonical JSON arguments>" (object keys sorted), so a call with the same
  // arguments as a task still queued or running adds nothing and returns that task (see
  // EnqueueOptions::unique_key, which overrides the key per call). unique_for and
  // unique_until are the defaults of those of EnqueueOptions.
  TaskOptions& unique(bool v = true) {
    unique_ = v;
    return *this;
  }
  bool unique() const { return unique_; }
  // Turns unique() on, with the key given up at the latest `d` after the enqueue [0: none].
  TaskOptions& unique_for(std::chrono::milliseconds d) {
    unique_ = true;
    unique_for_ms_ = to_millis(d);
    return *this;
  }
  Millis unique_for() const { return unique_for_ms_; }
  TaskOptions& unique_until(UniqueUntil u) {
    unique_until_ = u;
    return *this;
  }
  UniqueUntil unique_until() const { return unique_until_; }

 private:
  std::string rate_limit_;
  int max_concurrency_ = 0;
  bool unique_ = false;
  Millis unique_for_ms_ = 0;
  UniqueUntil unique_until_ = kFinish;
  int max_retries_ = 0;
  Backoff backoff_ = Backoff::exponential();
  std::vector<std::function<bool(const std::exception_ptr&)>> retry_rules_;
  Millis soft_time_limit_ms_ = 0;
  Millis time_limit_ms_ = 0;
  int crash_limit_ = 3;
  std::string queue_{kDefaultQueue};
  int priority_ = kDefaultPriority;
  bool ignore_result_ = false;
  Millis result_ttl_ms_ = 86'400'000;
  int max_deliveries_ = 5;
};

// Options of one enqueue (TaskHandle::apply, delay_many, App::send). The queue and priority,
// when unset, come from the task's TaskOptions; the other fields are per call only.
class EnqueueOptions {
 public:
  // The queue for this call [the task's]. Must not be empty.
  EnqueueOptions& queue(std::string q) {
    queue_ = std::move(q);
    return *this;
  }
  // The priority for this call, 0..9 [the task's].
  EnqueueOptions& priority(int p) {
    priority_ = p;
    return *this;
  }
  // Run no earlier than now + d [0: at once]. With eta() too, the later of the two wins.
  // Ignored in eager mode.
  EnqueueOptions& countdown(std::chrono::milliseconds d) {
    countdown_ms_ = to_millis(d);
    return *this;
  }
  // Run no earlier than `t` [unset: at once]; a time in the past means at once. Ignored in
  // eager mode.
  EnqueueOptions& eta(std::chrono::system_clock::time_point t) {
    eta_ms_ = to_millis(t.time_since_epoch());
    return *this;
  }
  // If no worker has started the task within `d` from now (enqueue time), it ends EXPIRED
  // without running, when a worker next picks it up [0: never expires]. Counts from the
  // enqueue, not from the eta: a countdown longer than `d` always expires.
  EnqueueOptions& expires(std::chrono::milliseconds d) {
    expires_in_ms_ = to_millis(d);
    return *this;
  }
  // Hard and soft time limits of this call [the task's]; see TaskOptions. Stored in the
  // task message, so they hold whatever the worker's registration says.
  EnqueueOptions& time_limit(std::chrono::milliseconds d) {
    time_limit_ms_ = to_millis(d);
    return *this;
  }
  EnqueueOptions& soft_time_limit(std::chrono::milliseconds d) {
    soft_time_limit_ms_ = to_millis(d);
    return *this;
  }
  // Use this task id instead of a new random one (26 characters, ordered by creation time).
  // Enqueue is idempotent per id: while the store still knows the id (queued, running,
  // dead, or with a kept result), enqueueing it again does nothing and returns the same id.
  // Use it to deduplicate, e.g. "invoice-42-email". delay_many of more than one call rejects
  // an id (InvalidArgument): ids must differ.
  EnqueueOptions& id(std::string v) {
    id_ = std::move(v);
    return *this;
  }
  // Flow control: when the queue is bounded (App::limit_queue) and full, wait up to `timeout`
  // for room (re-trying with a growing pause, 5 ms to 100 ms) instead of throwing QueueFull at
  // once [0: do not wait]. The whole call still goes in at once or not at all.
  EnqueueOptions& block_when_full(std::chrono::milliseconds timeout) {
    block_when_full_ms_ = to_millis(timeout);
    return *this;
  }
  // Flow control: the bucket of the task's rate limit for this call (e.g. the customer or
  // the API host); calls with different keys are limited separately, each at the task's rate
  // [""]: one bucket per task name). Ignored when the task has no rate_limit. At most 200
  // bytes.
  EnqueueOptions& rate_limit_key(std::string key) {
    rate_limit_key_ = std::move(key);
    return *this;
  }
  // Flow control: the key of the task's max_concurrency for this call (e.g. "user-42")
  // [""]: one key per task name). A task enqueued with a key but no max_concurrency is
  // refused (InvalidArgument). At most 200 bytes.
  EnqueueOptions& concurrency_key(std::string key) {
    concurrency_key_ = std::move(key);
    return *this;
  }

  // Unique jobs: while a task enqueued with key `key` is queued, scheduled or running (see
  // unique_until), an enqueue with the same key adds nothing and returns that task's id:
  // AsyncResult::added() is then false, and the handle reads the existing task. Atomic in the
  // store, across every producer. Keys are one namespace per store (use a prefix such as
  // "sync-user-42"); at most 512 bytes (kMaxUniqueKeyBytes), not empty (InvalidArgument).
  // A periodic task cannot have one. In a batch, a second call with the key of an earlier
  // one returns the earlier one's id.
  EnqueueOptions& unique_key(std::string key) {
    unique_key_ = std::move(key);
    return *this;
  }
  // The key is given up at the latest `d` after the enqueue, even if its task has not
  // started or ended [the task's; 0 = no bound]. Negative: InvalidArgument.
  EnqueueOptions& unique_for(std::chrono::milliseconds d) {
    unique_for_ms_ = to_millis(d);
    return *this;
  }
  // kFinish (the default): the key is held until the task ends; kStart: until a worker
  // takes it. A retry, a lapsed lease redelivered, or a task given back at shutdown keep it.
  EnqueueOptions& unique_until(UniqueUntil u) {
    unique_until_ = u;
    return *this;
  }
  // Workflows: the task waits (state WAITING, shown by `status` and `result`) until every task
  // in `ids` has succeeded, then runs. If one ends any other way the task ends CANCELED with
  // "dependency <id> ended <state>" and never runs, unless allow_dependency_failure(). Ids
  // already final are resolved at enqueue; an id the store does not know is an
  // InvalidArgument runq::Error at enqueue (nothing enqueued). See runq/workflow.hpp.
  EnqueueOptions& depends_on(std::vector<std::string> ids) {
    depends_on_ = std::move(ids);
    return *this;
  }
  // Run after the dependencies ended, whether or not they succeeded [false].
  EnqueueOptions& allow_dependency_failure(bool v = true) {
    allow_dependency_failure_ = v;
    return *this;
  }
  const std::vector<std::string>& depends_on() const { return depends_on_; }
  bool allow_dependency_failure() const { return allow_dependency_failure_; }

  // The values set above; nullopt / 0 / empty when unset.
  const std::optional<std::string>& queue() const { return queue_; }
  const std::optional<int>& priority() const { return priority_; }
  Millis countdown() const { return countdown_ms_; }
  Millis eta() const { return eta_ms_; }  // ms since the Unix epoch
  Millis expires_in() const { return expires_in_ms_; }
  Millis time_limit() const { return time_limit_ms_; }
  Millis soft_time_limit() const { return soft_time_limit_ms_; }
  const std::string& id() const { return id_; }
  Millis block_when_full() const { return block_when_full_ms_; }
  const std::string& rate_limit_key() const { return rate_limit_key_; }
  const std::string& concurrency_key() const { return concurrency_key_; }
  const std::optional<std::string>& unique_key() const { return unique_key_; }
  const std::optional<Millis>& unique_for() const { return unique_for_ms_; }
  const std::optional<UniqueUntil>& unique_until() const { return unique_until_; }

 private:
  std::optional<std::string> unique_key_;
  std::optional<Millis> unique_for_ms_;
  std::optional<UniqueUntil> unique_until_;
  std::optional<std::string> queue_;
  std::optional<int> priority_;
  Millis countdown_ms_ = 0;
  Millis eta_ms_ = 0;
  Millis expires_in_ms_ = 0;
  Millis time_limit_ms_ = 0;
  Millis soft_time_limit_ms_ = 0;
  std::string id_;
  Millis block_when_full_ms_ = 0;
  std::string rate_limit_key_;
  std::string concurrency_key_;
  std::vector<std::string> depends_on_;
  bool allow_dependency_failure_ = false;
};

}  // namespace runq
