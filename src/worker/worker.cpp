// The worker facade: builds the parts of a worker around one Store and starts and stops them
// in order. Each part has one job and its own lock (src/worker/internal/):
//
//   Fetcher       the prefetch buffer and the fetch role the executor threads take turns at
//   ExecutorPool  the executor threads: take a task, run it on the Executor, hand it on
//   Executor      where a task body runs: the calling thread (thread pool) or a child process
//                 (process pool: ProcessExecutor, forked by a Zygote before any thread starts)
//   Settler       batches settlements into Store::settle on its own thread; counts outcomes
//   LeaseKeeper   extends leases, enforces soft time limits, heartbeats, cleans up expired results
//   LeaseTable    every lease held, from reserve until its settlement was written
//
// No part calls another while holding its own lock, so there is no lock order to keep.
// docs/workers.md describes the threads and what each lock guards.
#include "runq/worker.hpp"

#include <algorithm>
#include <thread>

#include <unistd.h>

#include "app/beat_runner.hpp"
#include "core/ids.hpp"
#include "core/mutex.hpp"
#include "runq/app.hpp"
#include "worker/internal/executor.hpp"
#include "worker/internal/executor_pool.hpp"
#include "worker/internal/fetcher.hpp"
#include "worker/internal/lease_keeper.hpp"
#include "worker/internal/lease_table.hpp"
#include "worker/internal/log.hpp"
#include "worker/internal/process_executor.hpp"
#include "worker/internal/settler.hpp"

namespace runq {

using internal::Mutex;
using internal::MutexLock;

class Worker::Impl {
 public:
  Impl(App& app, WorkerOptions opts) : app_(app), opts_(std::move(opts)) {
    if (opts_.concurrency <= 0)
      opts_.concurrency = std::max(1u, std::thread::hardware_concurrency());
    if (opts_.id.empty()) opts_.id = internal::new_worker_id();
    opts_.lease_ms = std::max<Millis>(opts_.lease_ms, 100);
    opts_.settle_batch = std::max(1, opts_.settle_batch);
  }

  Status start() RUNQ_EXCLUDES(mu_) {
    if (opts_.queues.empty()) return invalid_argument_error("starting worker: no queues given");
    // The process pool's zygote is forked first, before this worker starts any thread.
    std::unique_ptr<internal::Executor> executor;
    if (opts_.pool == WorkerPool::kProcesses) {
      internal::ProcessPoolOptions p;
      p.children = opts_.concurrency;
      p.depth = kPipelineDepth;
      p.child.max_tasks = opts_.max_tasks_per_child;
      p.child.max_rss_bytes = opts_.max_memory_per_child;
      p.on_lost = [this] { request_stop(); };
      p.min_children = opts_.autoscale.min;
      p.idle_ms = std::max<Millis>(opts_.autoscale.idle_ms, 10);
      RUNQ_ASSIGN_OR_RETURN(executor, internal::ProcessExecutor::start(app_, opts_.id, p));
    } else {
      executor = internal::new_thread_executor(app_, opts_.id);
    }
    std::shared_ptr<Store> store;
    try {
      store = app_.store();
    } catch (const Error& e) {
      return e.status();
    }
    {
      MutexLock lock(mu_);
      if (parts_ != nullptr) return failed_precondition_error("starting worker: already started");
    }
    std::unique_ptr<internal::BeatRunner> beat;
    if (opts_.beat) {
      RUNQ_ASSIGN_OR_RETURN(beat, start_beat(store));
    }
    started_ms_ = app_.clock().now_ms();
    auto parts = std::make_unique<Parts>(*this, std::move(store), std::move(executor));
    parts->beat = std::move(beat);
    (void)parts->store->heartbeat(worker_info(*parts));
    parts->settler.start();
    parts->keeper.start();
    parts->pool.start(executor_threads(), opts_.autoscale.min,
                      std::max<Millis>(opts_.autoscale.idle_ms, 10));
    bool stop_now;
    {
      MutexLock lock(mu_);
      parts_ = std::move(parts);
      stop_now = stop_requested_;
    }
    if (stop_now) request_stop();
    return ok_status();
  }

  void request_stop() RUNQ_EXCLUDES(mu_) {
    Parts* parts;
    {
      MutexLock lock(mu_);
      stop_requested_ = true;
      parts = parts_.get();
    }
    if (parts != nullptr) parts->fetcher.stop();
  }

  // Stops the parts in the order the work flows: executors (after the grace period), then the
  // settler once it wrote every settlement, then the lease keeper, which extends leases until
  // their settlements were written.
  void wait() RUNQ_EXCLUDES(mu_, join_mu_) {
    MutexLock join_lock(join_mu_);
    Parts* parts = started_parts();
    if (joined_ || parts == nullptr) return;
    wait_executors_with_grace(*parts);
    if (parts->beat) parts->beat->stop();
    parts->pool.join();
    parts->settler.finish();
    parts->keeper.stop();
    (void)parts->store->remove_worker(opts_.id);
    joined_ = true;
  }

  WorkerCounters counters() const RUNQ_EXCLUDES(mu_) {
    Parts* parts = started_parts();
    if (parts == nullptr) return {};
    WorkerCounters c = parts->settler.counters();
    c.running = parts->fetcher.running();
    c.lapsed = parts->pool.lapsed();
    c.pool_size = parts->pool.size();
    return c;
  }

  const std::string& id() const { return opts_.id; }

 private:
  // Everything that exists once the worker started. Declared in construction order: each part
  // uses only those above it.
  struct Parts {
    Parts(Impl& w, std::shared_ptr<Store> s, std::unique_ptr<internal::Executor> ex)
        : store(std::move(s)),
          settler(*store, w.app_.clock(), leases,
                  {.batch = w.opts_.settle_batch, .max_tasks = w.opts_.max_tasks},
                  [&w] { w.request_stop(); }),
          fetcher(*store, w.app_.clock(), leases, settler,
                  {.queues = w.opts_.queues,
                   .worker_id = w.opts_.id,
                   .lease_ms = w.opts_.lease_ms,
                   .concurrency = w.executor_threads(),
                   .prefetch = w.opts_.prefetch}),
          executor(std::move(ex)),
          pool(w.app_, w.opts_.id, *store, fetcher, leases, settler, *executor, activity,
               w.opts_.require_hard_limits),
          keeper(
              *store, w.app_.clock(), leases,
              {.lease_ms = w.opts_.lease_ms,
               .heartbeat_ms = w.opts_.heartbeat_ms,
               .revoke_grace_ms = w.opts_.revoke_grace_ms,
               .revoke_poll_ms = w.opts_.revoke_poll_ms},
              [&w, this] { return w.worker_info(*this); },
              [this](const std::string& id, Millis grace) { executor->terminate(id, grace); }) {}

    std::shared_ptr<Store> store;
    internal::LeaseTable leases;
    internal::Settler settler;
    internal::Fetcher fetcher;
    std::unique_ptr<internal::Executor> executor;
    internal::Activity activity;  // reported with each heartbeat (WorkerInfo::activity)
    internal::ExecutorPool pool;
    internal::LeaseKeeper keeper;
    std::unique_ptr<internal::BeatRunner> beat;  // WorkerOptions::beat; started before the rest
  };

  // WorkerOptions::beat: the app's periodic scheduler, run until the worker stops. Null when
  // the app registered no schedules (logged).
  Result<std::unique_ptr<internal::BeatRunner>> start_beat(std::shared_ptr<Store> store) {
    if (app_.periodic_definitions().empty()) {
      internal::log_line(
          "beat: no periodic schedules are registered; running without the scheduler");
      return std::unique_ptr<internal::BeatRunner>();
    }
    return internal::BeatRunner::start(app_, std::move(store), "worker");
  }

  // Executor threads: one per slot; the process pool keeps kPipelineDepth tasks in flight per
  // child, each waited for by its own thread.
  int executor_threads() const {
    return opts_.concurrency * (opts_.pool == WorkerPool::kProcesses ? kPipelineDepth : 1);
  }
  static constexpr int kPipelineDepth = 4;

  Parts* started_parts() const RUNQ_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return parts_.get();
  }

  // Lets running tasks finish until the grace period after the stop request ends, then
  // cancels them and waits for them to return.
  void wait_executors_with_grace(Parts& parts) {
    Millis grace_end = parts.fetcher.wait_stop_requested() + opts_.grace_ms;
    while (true) {
      Millis left = grace_end - app_.clock().now_ms();
      if (parts.fetcher.wait_drained_for(
              std::chrono::milliseconds(std::clamp<Millis>(left, 0, 100))))
        return;
      if (left <= 0) break;
    }
    parts.leases.cancel_all();
    parts.executor->kill_running();
    internal::log_line(std::to_string(parts.fetcher.running()) +
                       " task(s) still running after the grace period; "
                       "cancelling them (they end when they check Context::cancelled())");
    parts.fetcher.wait_drained();
  }

  WorkerInfo worker_info(const Parts& parts) const {
    WorkerInfo w;
    w.id = opts_.id;
    w.host = internal::host_name();
    w.pid = static_cast<int>(::getpid());
    w.queues = opts_.queues;
    w.concurrency = opts_.concurrency;
    w.started = started_ms_;
    w.last_seen = app_.clock().now_ms();
    w.expires = w.last_seen + std::max<Millis>(3 * opts_.heartbeat_ms, 5000);
    WorkerCounters c = parts.settler.counters();
    w.running = parts.fetcher.running();
    w.processed = c.processed;
    w.failed = c.failed;
    w.activity = parts.activity.json(w.last_seen);
    return w;
  }

  App& app_;
  WorkerOptions opts_;     // normalised in the constructor; read-only afterwards
  Millis started_ms_ = 0;  // written by start() before any thread reads it

  mutable Mutex mu_;
  std::unique_ptr<Parts> parts_ RUNQ_GUARDED_BY(mu_);  // set once, by start()
  bool stop_requested_ RUNQ_GUARDED_BY(mu_) = false;

  Mutex join_mu_;  // one wait() joins; others return once it did
  bool joined_ RUNQ_GUARDED_BY(join_mu_) = false;
};

Worker::Worker(App& app, WorkerOptions options)
    : impl_(std::make_unique<Impl>(app, std::move(options))) {}
Worker::~Worker() {
  impl_->request_stop();
  impl_->wait();
}
Status Worker::start() { return impl_->start(); }
void Worker::request_stop() { impl_->request_stop(); }
void Worker::wait() { impl_->wait(); }
Status Worker::run() {
  RUNQ_RETURN_IF_ERROR(start());
  wait();
  return ok_status();
}
WorkerCounters Worker::counters() const { return impl_->counters(); }
const std::string& Worker::id() const { return impl_->id(); }

}  // namespace runq
