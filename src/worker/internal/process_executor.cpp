#include "worker/internal/process_executor.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "core/duration.hpp"
#include "runq/app.hpp"
#include "worker/internal/log.hpp"
#include "worker/internal/wire.hpp"

namespace runq::internal {

// One task handed to a child; lives on the stack of the executor thread in run().
struct ProcessExecutor::Job {
  std::uint64_t seq = 0;
  const Delivery* delivery = nullptr;
  const std::function<void(double)>* progress = nullptr;
  TaskLimits limits;
  bool cancelled = false;        // a kCancel was asked for
  bool running = false;          // the child started it (it is the first in flight)
  Steady::time_point started{};  // when `running` turned true
  Millis started_ms = 0;         // the same, as clock time
  Steady::time_point revoke_at = Steady::time_point::max();  // terminate: kill from then on
  bool killing = false;                                      // SIGTERM sent; SIGKILL at kill_at
  bool sigkilled = false;
  Steady::time_point kill_at{};
  AbortKind kill_kind = AbortKind::kCrash;
  std::string kill_cause;
  bool release = false;  // killed at shutdown: hand the task back
  std::optional<RunOutcome> out;
};

ProcessExecutor::ProcessExecutor(const App& app, std::string worker_id, ProcessPoolOptions opts)
    : app_(app), runner_(app, std::move(worker_id)), opts_(opts) {}

Result<std::unique_ptr<ProcessExecutor>> ProcessExecutor::start(const App& app,
                                                                std::string worker_id,
                                                                ProcessPoolOptions opts) {
  opts.children = std::max(1, opts.children);
  opts.depth = std::max(1, opts.depth);
  std::unique_ptr<ProcessExecutor> ex(new ProcessExecutor(app, std::move(worker_id), opts));
  const TaskRunner* runner = &ex->runner_;
  ChildOptions child_opts = opts.child;
  RUNQ_ASSIGN_OR_RETURN(ex->zygote_, Zygote::start([runner, child_opts](int fd) {
                          return child_main(fd, *runner, child_opts);
                        }));
  for (int i = 0; i < opts.children; ++i) {
    auto c = std::make_unique<Child>();
    c->index = i;
    RUNQ_ASSIGN_OR_RETURN(Zygote::Child spawned, ex->zygote_->spawn());
    MutexLock lock(c->mu);
    c->pid = spawned.pid;
    c->fd = spawned.fd;
    c->up = true;
    ex->children_.push_back(std::move(c));
  }
  for (auto& c : ex->children_) {
    Child* cp = c.get();
    c->reader = std::thread([e = ex.get(), cp] { e->reader_loop(*cp); });
  }
  ex->timer_ = std::thread([e = ex.get()] { e->timer_loop(); });
  return ex;
}

// Stopping races with readers forking replacements: a reader installs a new child's socket
// under the child's lock only while stopping_ is false, and this sets stopping_ before taking
// each lock, so every socket is either shut down here or never installed (spawn() closes it).
// Shutting down the worker's end also ends the reader's blocking read at once, whatever the
// child does; a child that does not exit is killed with the zygote.
ProcessExecutor::~ProcessExecutor() {
  stopping_ = true;
  zygote_->stop_spawning();  // a reader waiting for a fork gives up now
  for (auto& c : children_) {
    MutexLock lock(c->mu);
    if (c->fd >= 0) ::shutdown(c->fd, SHUT_RDWR);  // the child reads EOF and exits
  }
  for (auto& c : children_) {
    if (c->reader.joinable()) c->reader.join();
  }
  if (timer_.joinable()) timer_.join();
  zygote_.reset();
}

void ProcessExecutor::send_run(Child& c, Job& j) {
  if (!c.up) return;  // the reader hands it to the replacement
  WireWriter w(FrameType::kRun);
  w.u64(j.seq).i64(j.limits.soft_ms);
  put_delivery(w, *j.delivery);
  (void)write_frame(c.fd, w.frame());
}

// The child runs the task in its main thread and does not read its socket meanwhile: a
// cancellation is a signal carrying the task's sequence number.
void ProcessExecutor::signal_cancel(Child& c, Job& j) {
  if (!c.up) return;
  sigval v{};
  v.sival_ptr = reinterpret_cast<void*>(static_cast<std::uintptr_t>(j.seq));
  (void)::sigqueue(c.pid, kCancelSignal, v);
}

void ProcessExecutor::start_front(Child& c, Steady::time_point now) {
  if (c.inflight.empty()) return;
  Job& j = *c.inflight.front();
  if (j.running) return;
  j.running = true;
  j.started = now;
  j.started_ms = app_.clock().now_ms();
  if (j.cancelled) signal_cancel(c, j);  // cancelled while it waited in the child's socket
}

ProcessExecutor::Child& ProcessExecutor::assign() {
  MutexLock lock(assign_mu_);
  Child* best = children_.front().get();
  for (auto& c : children_) {
    if (c->load < best->load) best = c.get();
  }
  ++best->load;
  return *best;
}

void ProcessExecutor::unassign(Child& c) {
  MutexLock lock(assign_mu_);
  --c.load;
}

RunOutcome ProcessExecutor::run(int, const Delivery& d, std::stop_token stop,
                                const std::function<void(double)>& progress) {
  Child& c = assign();
  Job job;
  job.seq = next_seq_++;
  job.delivery = &d;
  job.progress = &progress;
  job.limits = runner_.limits(d);
  {
    MutexLock lock(c.mu);
    c.inflight.push_back(&job);
    start_front(c, Steady::now());
    send_run(c, job);
  }
  std::stop_callback on_cancel(stop, [&] {
    MutexLock lock(c.mu);
    if (job.out || job.cancelled) return;
    job.cancelled = true;
    if (job.running) signal_cancel(c, job);  // else when it starts (start_front)
  });
  RunOutcome out;
  {
    MutexLock lock(c.mu);
    while (!job.out) c.cv.wait(c.mu);
    out = std::move(*job.out);
  }
  unassign(c);
  return out;
}

void ProcessExecutor::terminate(const std::string& id, Millis grace_ms) {
  auto at = Steady::now() + std::chrono::milliseconds(std::max<Millis>(0, grace_ms));
  for (auto& c : children_) {
    MutexLock lock(c->mu);
    for (Job* j : c->inflight) {
      if (j->delivery->id == id) j->revoke_at = std::min(j->revoke_at, at);
    }
  }
}

void ProcessExecutor::kill_running() {
  auto now = Steady::now();
  for (auto& c : children_) {
    MutexLock lock(c->mu);
    if (c->inflight.empty() || !c->inflight.front()->running) continue;
    Job& j = *c->inflight.front();
    j.release = true;
    kill_job(*c, j, AbortKind::kCrash, "killed at worker shutdown", now);
  }
}

void ProcessExecutor::kill_job(Child& c, Job& j, AbortKind kind, std::string cause,
                               Steady::time_point now) {
  if (j.killing || !c.up) return;
  j.killing = true;
  j.kill_kind = kind;
  j.kill_cause = std::move(cause);
  j.kill_at = now + std::chrono::milliseconds(opts_.term_grace_ms);
  ::kill(c.pid, SIGTERM);
}

void ProcessExecutor::timer_loop() {
  while (!stopping_) {
    auto now = Steady::now();
    for (auto& c : children_) {
      MutexLock lock(c->mu);
      if (c->inflight.empty()) continue;
      Job& j = *c->inflight.front();
      if (!j.running) continue;
      if (j.killing) {
        if (!j.sigkilled && now >= j.kill_at && c->up) {
          ::kill(c->pid, SIGKILL);
          j.sigkilled = true;
        }
        continue;
      }
      if (j.limits.hard_ms > 0 && now >= j.started + std::chrono::milliseconds(j.limits.hard_ms)) {
        kill_job(*c, j, AbortKind::kTimeLimit,
                 "time limit exceeded (" + format_duration(j.limits.hard_ms) + ")", now);
      } else if (now >= j.revoke_at) {
        kill_job(*c, j, AbortKind::kRevoked, "revoked and terminated while running", now);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the enforcement tick
  }
}

bool ProcessExecutor::spawn(Child& c) {
  for (int attempt = 0; !stopping_; ++attempt) {
    Result<Zygote::Child> spawned = zygote_->spawn();
    if (spawned.ok()) {
      MutexLock lock(c.mu);
      if (stopping_) {
        ::close(spawned->fd);  // the new child reads EOF and exits
        return false;
      }
      c.pid = spawned->pid;
      c.fd = spawned->fd;
      c.up = true;
      for (Job* j : c.inflight) send_run(c, *j);
      start_front(c, Steady::now());
      return true;
    }
    if (attempt % 50 == 0)
      log_line("process pool: cannot start a child: " + spawned.status().to_string());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

void ProcessExecutor::reader_loop(Child& c) {
  int fd;
  pid_t pid;
  {
    MutexLock lock(c.mu);
    fd = c.fd;
    pid = c.pid;
  }
  while (true) {
    bool retiring = false;
    FrameReader reader(fd);
    while (std::optional<Frame> f = reader.next()) {
      WireReader r(f->payload);
      if (f->type == FrameType::kProgress) {
        std::uint64_t seq = r.u64();
        double fraction = r.f64();
        const std::function<void(double)>* progress = nullptr;
        {
          MutexLock lock(c.mu);
          if (!c.inflight.empty() && c.inflight.front()->seq == seq)
            progress = c.inflight.front()->progress;
        }
        // Only this thread completes jobs, so the job (and its callback) is alive here.
        if (progress != nullptr && *progress) (*progress)(fraction);
      } else if (f->type == FrameType::kDone) {
        std::uint64_t seq = r.u64();
        RunOutcome out = get_outcome(r);
        MutexLock lock(c.mu);
        if (r.failed() || c.inflight.empty() || c.inflight.front()->seq != seq) continue;
        Job& j = *c.inflight.front();
        if (j.release) {
          out = {};
          out.settlement.outcome = Outcome::kRelease;
          out.settlement.id = j.delivery->id;
          out.settlement.token = j.delivery->token;
        }
        j.out = std::move(out);
        c.inflight.pop_front();
        start_front(c, Steady::now());
        c.cv.notify_all();
      } else if (f->type == FrameType::kRetiring) {
        retiring = true;
      }
    }
    // The child's socket ended: it exited, crashed, or was killed.
    auto ended = Steady::now();
    {
      MutexLock lock(c.mu);
      c.up = false;
      ::close(c.fd);
      c.fd = -1;
    }
    std::optional<int> status = zygote_->wait_exit(pid, std::chrono::seconds(5));
    {
      MutexLock lock(c.mu);
      Job* j = c.inflight.empty() ? nullptr : c.inflight.front();
      if (j != nullptr && (j->running && !retiring)) {
        std::string how = status ? describe_wait_status(*status) : "ended (status unknown)";
        std::string last = status ? short_wait_status(*status) : "unknown";
        if (j->release) {
          RunOutcome out;
          out.settlement.outcome = Outcome::kRelease;
          out.settlement.id = j->delivery->id;
          out.settlement.token = j->delivery->token;
          j->out = std::move(out);
        } else if (j->killing) {
          j->out = runner_.aborted(*j->delivery, j->kill_kind, j->kill_cause, last, j->started_ms);
        } else {
          j->out = runner_.aborted(
              *j->delivery, AbortKind::kCrash,
              (status && WIFEXITED(*status) ? "worker process " : "worker process crashed: ") + how,
              last, j->started_ms);
        }
        c.inflight.pop_front();
        c.cv.notify_all();
      }
      for (Job* rest : c.inflight) rest->running = false;
    }
    {
      MutexLock lock(stats_mu_);
      if (retiring) {
        ++stats_.recycled;
      } else {
        ++stats_.crashes;
      }
    }
    if (stopping_ || !spawn(c)) break;
    {
      MutexLock lock(c.mu);
      fd = c.fd;
      pid = c.pid;
    }
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - ended);
    MutexLock lock(stats_mu_);
    if (!retiring && stats_.replacement_us.size() < 100'000)
      stats_.replacement_us.push_back(us.count());
  }
  // Stopping: nothing may wait for a child that is gone.
  MutexLock lock(c.mu);
  for (Job* j : c.inflight) {
    RunOutcome out;
    out.settlement.outcome = Outcome::kRelease;
    out.settlement.id = j->delivery->id;
    out.settlement.token = j->delivery->token;
    j->out = std::move(out);
  }
  c.inflight.clear();
  c.cv.notify_all();
}

ProcessPoolStats ProcessExecutor::stats() const {
  MutexLock lock(stats_mu_);
  return stats_;
}

}  // namespace runq::internal
