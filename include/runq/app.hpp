// runq/app.hpp — the application object: registers tasks and periodic schedules, enqueues,
// explains where a task stands, and gives the user's binary its command line (`worker`,
// `beat`, `status`, ...).
//
//   runq::App app;  // store: --store / RUNQ_STORE / sqlite:runq.db
//   auto add = app.task("add", [](int a, int b) { return a + b; });
//   app.periodic("nightly", runq::cron("0 3 * * *"), add, 1, 2);
//   return app.main(argc, argv);
//
// Thread safety: register tasks and schedules (task, periodic, set_store_url) from one thread
// before starting workers or calling main(); registration is not synchronised. After that,
// every const accessor, enqueueing (delay/apply/send), explain() and reading results are safe
// from any thread.
//
// Errors: the typed calls (task, periodic, send, store) throw runq::Error, as documented on
// each; explain() returns a runq::Result and throws nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "runq/clock.hpp"
#include "runq/options.hpp"
#include "runq/result.hpp"
#include "runq/schedule.hpp"
#include "runq/store.hpp"
#include "runq/task.hpp"

namespace runq {

struct ServeOptions;  // runq/server.hpp

// Options fixed when the App is created. Defaults in brackets.
struct AppOptions {
  // Store URL; empty = the RUNQ_STORE environment variable, else "sqlite:runq.db".
  std::string store_url;
  // Run tasks inline in delay() instead of enqueueing them (for users' own unit tests).
  bool eager = false;
  // Largest encoded task message accepted by enqueue [1 MiB]. Larger ones are rejected with
  // a TooLarge runq::Error and nothing is enqueued.
  std::size_t max_payload_bytes = 1 << 20;
  // Source of "now" for eta/countdown/expiry [the system clock]. Not owned.
  Clock* clock = nullptr;
};

// A periodic schedule registered with App::periodic; read by the scheduler
// (WorkerOptions::beat, `runq beat`) and by `runq schedule`.
struct PeriodicDefinition {
  std::string name;
  Schedule schedule;
  std::string task;       // registered task name
  std::string args_json;  // JSON array text
  TaskOptions task_options;
  PeriodicOptions options;  // misfire policy and its bound
};

// One call of a batch that may mix task names (App::enqueue_batch).
struct TaskCall {
  std::string name;              // the task name (registered in this binary or not)
  std::string args_json = "[]";  // the arguments: JSON array text
  EnqueueOptions options;        // queue, priority, countdown/eta, expires, id
};

// Options of App::revoke.
struct RevokeOptions {
  // Also stop the task if it is already running (Celery's terminate=True) [false].
  bool terminate = false;
};

// Where a task stands and why it is not running (yet): the answer of App::explain, and what
// `runq result` prints as "why:".
struct TaskExplanation {
  enum class Reason {
    kFinal,           // SUCCESS, FAILURE, DEAD or EXPIRED: nothing more will happen to it
    kScheduled,       // SCHEDULED: not due before status.next_run
    kWaitingToRetry,  // RETRY: the next attempt is due at status.next_run
    kQueued,          // due, and live workers listen on its queue: waits for a free one
    kNoWorker,        // due, but no live worker listens on its queue
    kRunning,         // reserved by a live worker; the lease is renewed while it runs
    kWorkerLost,      // reserved by a worker that stopped heartbeating; redelivered once the
                      // lease lapses at lease_expires
    kLeaseLapsed,     // as kWorkerLost, and the lease already lapsed: redelivered at the next
                      // reserve on its queue
    kWaiting,         // WAITING: a workflow step or depends_on task waits for unfinished
                      // dependencies; `reasons` names them (the first few)
    kUnknown,         // the store's statistics could not be read; `reasons` says why
    kQueuePaused,     // due, but its queue is paused (App::pause_queue): no worker takes it
                      // until the queue resumes
  };

  TaskStatus status;  // as AsyncResult::status() reads it
  Reason reason = Reason::kUnknown;
  Millis lease_expires = 0;        // when the current lease lapses; 0 when not reserved
  int live_workers = 0;            // live workers listening on status.queue (not final only)
  std::int64_t queue_pending = 0;  // tasks ready in status.queue (not final only)
  // Human-readable sentences, most important first, e.g. "scheduled for
  // 2026-01-01T00:00:00.000Z (in 5m)" then "no live worker listens on queue 'mail'; start one
  // with `worker --queues mail`". For a final task: empty, except a DEAD task's reason.
  std::vector<std::string> reasons;

  // `reasons` joined with "; " (empty when there are none).
  std::string why() const;
};

class App final : public Producer {
 public:
  // Creates an App; the store is opened lazily, on first use. Throws nothing.
  explicit App(AppOptions options = {});
  // REQUIRES: no Worker, AsyncResult or handle of this App is still in use.
  ~App() override;
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Registers `fn` under `name` and returns its typed handle (delay, apply, delay_many).
  // `fn` runs on worker threads, possibly several calls at once. Throws runq::Error
  // (AlreadyExists) if the name is taken, (InvalidArgument) if it is empty.
  // REQUIRES: called before workers start (see the file comment).
  template <typename F>
  auto task(std::string name, F fn, TaskOptions options = {}) {
    using Traits = internal::FnTraits<F>;
    using Split = internal::SplitContext<typename Traits::Params>;
    using R = typename Traits::Ret;
    TaskDefinition def = internal::make_definition<F, R, Split::kHasContext>(
        name, std::move(fn), options, static_cast<typename Split::Args*>(nullptr));
    register_task(std::move(def));
    return typename internal::HandleFor<R, typename Split::Args>::type(this, std::move(name),
                                                                       std::move(options));
  }

  // Registers a periodic schedule: at each tick of `schedule`, `task(args...)` is enqueued
  // with the task's options, exactly once however many schedulers (WorkerOptions::beat,
  // `runq beat`) run. Missed ticks are handled by the default misfire policy (run once).
  // The task is built once at registration with the same checks as delay(). Throws
  // runq::Error: AlreadyExists (the schedule name is taken), InvalidArgument (priority
  // outside 0..9, empty queue), TooLarge (arguments over max_payload_bytes).
  // REQUIRES: called before workers or schedulers start.
  template <typename R, typename... A, typename... Args>
  void periodic(std::string name, const Schedule& schedule, const TaskHandle<R, A...>& task,
                Args&&... args) {
    periodic(std::move(name), schedule, PeriodicOptions{}, task, std::forward<Args>(args)...);
  }
  // As above, with a misfire policy for ticks missed while no scheduler ran.
  template <typename R, typename... A, typename... Args>
  void periodic(std::string name, const Schedule& schedule, Misfire misfire,
                const TaskHandle<R, A...>& task, Args&&... args) {
    periodic(std::move(name), schedule, PeriodicOptions{.misfire = misfire}, task,
             std::forward<Args>(args)...);
  }
  // As above, with every periodic option (misfire policy, run_all bound).
  template <typename R, typename... A, typename... Args>
  void periodic(std::string name, const Schedule& schedule, const PeriodicOptions& options,
                const TaskHandle<R, A...>& task, Args&&... args) {
    add_periodic({std::move(name), schedule, task.name(),
                  TaskHandle<R, A...>::encode(std::forward<Args>(args)...), task.options(),
                  options});
  }

  // Enqueues a task by name with a JSON argument array, e.g. from code that does not link
  // the task itself; uses the registered task's options when this binary has it, else the
  // defaults. Throws runq::Error: InvalidArgument (`args` is not an array, bad options),
  // TooLarge (over max_payload_bytes), QueueFull (ResourceExhausted: a bounded queue is full
  // or the store is out of space), or the store's error (e.g. Unavailable).
  // Thread-safe.
  AsyncResult<nlohmann::json> send(const std::string& name, const nlohmann::json& args,
                                   const EnqueueOptions& options = {});

  // Enqueues every call of `calls` in one store call, all of them or none, and returns their
  // ids in order. A name this binary registered uses that task's options, any other name the
  // defaults (a worker that does not know it dead-letters it). Throws nothing.
  // Errors: InvalidArgument (an empty batch or name, bad options, two calls with one id);
  // TooLarge (a message over max_payload_bytes); ResourceExhausted (a bounded queue of the
  // batch has no room for its share, or the store is out of space: nothing is enqueued); the
  // store's errors (Unavailable).
  // Thread-safe.
  Result<std::vector<std::string>> enqueue_batch(std::span<const TaskCall> calls);
  // enqueue_batch, also saying for each call whether it added a task (unique jobs: a call
  // whose unique key another task holds adds nothing and gets that task's id). Same errors.
  Result<std::vector<Enqueued>> enqueue_calls(std::span<const TaskCall> calls);

  // Where task `id` stands and, when it is not final, why it is not running (yet): scheduled
  // for later, waiting to retry, no live worker on its queue, leased by a worker that stopped
  // heartbeating... Reads the task, its lease and the store's statistics once, without
  // waiting; a store whose statistics cannot be read gives Reason::kUnknown, not an error.
  // Errors: NotFound (unknown id, or its result expired); Unavailable and other errors of
  // the store, or of opening it. Thread-safe; throws nothing.
  Result<TaskExplanation> explain(std::string_view id);

  // Serves the HTTP API, /metrics and the event stream for this App's store (runq/server.hpp)
  // until SIGINT or SIGTERM, printing the address. Unlike `runq serve`, it knows this
  // binary's task names and refuses to enqueue others. Returns the process exit code (0 after
  // a signal; 1 or 2 when the server cannot start, with the reason printed).
  int serve(const ServeOptions& options);

  // Revokes task `id`, from any process (the revocation is kept in the store, so it holds
  // across worker restarts). Returns the state after the call:
  //  - kRevoked: the task was queued or scheduled; it ends REVOKED and never runs;
  //  - kReserved: it is running (or reserved by a worker). Its worker reads the request
  //    within WorkerOptions::revoke_poll_ms (50 ms): a task not started yet never runs;
  //    with `terminate` a running task's Context::cancelled() turns true at once and, in the
  //    process pool, its child is killed after WorkerOptions::revoke_grace_ms. Either way it
  //    ends REVOKED and is not retried. Without terminate a task already running finishes as
  //    usual. If its worker dies meanwhile it ends REVOKED when its lease lapses;
  //  - a final state (SUCCESS, FAILURE, EXPIRED, REVOKED, DEAD): nothing to revoke, nothing
  //    changed.
  // Errors: NotFound (unknown id, or its result expired); FailedPrecondition (the store does
  // not support revoke); the store's (Unavailable...). Thread-safe; throws nothing.
  Result<TaskState> revoke(std::string_view id, const RevokeOptions& options = {});

  // ---- flow control: pause and bounded queues (Store::set_queue_paused, set_queue_limit) --
  // Kept in the store: they act on every worker and producer of the store, on every machine,
  // and survive restarts. Errors: InvalidArgument (empty queue name, negative limit);
  // FailedPrecondition (the store does not support queue controls); the store's
  // (Unavailable...). Thread-safe; throw nothing.

  // Workers stop taking tasks of `queue` (within their next reserve: at most a second for an
  // idle worker, as waits end on resume or after their poll) and running tasks finish.
  // Enqueue still adds to it.
  Status pause_queue(std::string_view queue);
  // Lets workers take tasks of `queue` again, and wakes those waiting on it.
  Status resume_queue(std::string_view queue);
  // Bounds `queue` to `max_length` waiting tasks (pending + scheduled); 0 removes the bound.
  // An enqueue that would overfill it throws QueueFull (or waits: block_when_full); tasks
  // already queued stay when the bound is below the current length.
  Status limit_queue(std::string_view queue, std::int64_t max_length);
  // The queues with a control set (paused, or bounded), by name.
  Result<std::vector<QueueControl>> queue_controls();

  // Runs the command line: `worker`, `beat`, `enqueue`, `result`, `status`, `dead`, `purge`,
  // `schedule`, `serve` (see docs/cli.md). Returns the process exit code; errors are printed, not
  // thrown. Call once, from main(), after registering tasks and schedules.
  int main(int argc, char** argv);

  // The store, opened on first use (a private in-memory store in eager mode). Throws
  // runq::Error with the open error when it cannot be opened; a later call tries again.
  // Thread-safe.
  std::shared_ptr<Store> store();
  // For the process pool's children only, called right after one is forked: forgets the
  // store opened in the worker process without closing it (its connections are the worker's:
  // using them from two processes would mix their traffic, and closing them could end the
  // worker's sessions), so that task code in the child opens its own on first use.
  void forget_store_after_fork();
  // Chooses the store URL and drops an opened store (handles already given out keep theirs).
  // REQUIRES: no enqueue or worker runs concurrently (called during setup, e.g. by main()).
  void set_store_url(std::string url);
  // The store URL in use (AppOptions::store_url, RUNQ_STORE, or the default).
  const std::string& store_url() const { return store_url_; }
  // Whether tasks run inline in delay() (AppOptions::eager).
  bool eager() const { return eager_; }
  // The clock for "now" (AppOptions::clock, or the system clock).
  Clock& clock() const { return *clock_; }
  // AppOptions::max_payload_bytes.
  std::size_t max_payload_bytes() const { return options_.max_payload_bytes; }

  // The registered task named `name`, or nullptr. The pointer stays valid for the App's life.
  const TaskDefinition* find_task(std::string_view name) const;
  // The names of the registered tasks, sorted.
  std::vector<std::string> task_names() const;
  // The registered periodic schedules, in registration order.
  const std::vector<PeriodicDefinition>& periodic_definitions() const { return periodic_; }

  // Producer (used by the typed handles; call delay/apply/send instead). Both build every
  // task first and enqueue all of them or none, then return their ids in order. Throw
  // runq::Error as send() does, plus InvalidArgument for one id given to a batch.
  std::string enqueue_json(const std::string& name, std::string args_json,
                           const TaskOptions& task_opts, const EnqueueOptions& opts) override;
  std::vector<std::string> enqueue_json_many(const std::string& name,
                                             std::vector<std::string> args_json,
                                             const TaskOptions& task_opts,
                                             const EnqueueOptions& opts) override;
  std::vector<Enqueued> enqueue_json_calls(const std::string& name,
                                           std::vector<std::string> args_json,
                                           const TaskOptions& task_opts,
                                           const EnqueueOptions& opts) override;
  // store(), for AsyncResult reads.
  std::shared_ptr<Store> result_store() override { return store(); }
  // clock(), for result expiry.
  const Clock& producer_clock() const override { return *clock_; }
  std::vector<std::string> enqueue_flow(const internal::Flow& flow) override;

 private:
  void register_task(TaskDefinition def);
  void add_periodic(PeriodicDefinition def);
  void run_eager(const std::vector<std::string>& ids);

  AppOptions options_;
  std::string store_url_;
  bool eager_;
  Clock* clock_;
  std::mutex store_mu_;
  std::shared_ptr<Store> store_;  // guarded by store_mu_
  std::map<std::string, TaskDefinition, std::less<>> tasks_;
  std::vector<PeriodicDefinition> periodic_;
};

}  // namespace runq
