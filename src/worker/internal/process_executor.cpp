#include "worker/internal/process_executor.hpp"

#include <poll.h>
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
namespace {

RunOutcome release_of(const Delivery& d) {
  RunOutcome out;
  out.settlement.outcome = Outcome::kRelease;
  out.settlement.id = d.id;
  out.settlement.token = d.token;
  return out;
}

}  // namespace

// One task taken from the flow, owned by its child's in-flight list until it ends.
struct ProcessExecutor::Job {
  std::uint64_t seq = 0;
  Delivery delivery;
  TaskLimits limits;
  Steady::time_point begun{};    // when it was taken from the flow
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
  bool release = false;                // killed at shutdown: hand the task back
  Steady::time_point last_progress{};  // driver only
  // Raises the cancellation in the child when the task's flag is raised. Destroyed by the
  // driver without the child's lock held (its callback takes it).
  std::unique_ptr<std::stop_callback<std::function<void()>>> on_cancel;
};

ProcessExecutor::ProcessExecutor(const App& app, std::string worker_id, ProcessPoolOptions opts)
    : app_(app), runner_(app, std::move(worker_id)), opts_(std::move(opts)) {}

Result<std::unique_ptr<ProcessExecutor>> ProcessExecutor::start(App& app, std::string worker_id,
                                                                ProcessPoolOptions opts) {
  opts.children = std::max(1, opts.children);
  opts.depth = std::max(1, opts.depth);
  if (opts.min_children >= opts.children) opts.min_children = -1;
  std::unique_ptr<ProcessExecutor> ex(new ProcessExecutor(app, std::move(worker_id), opts));
  const TaskRunner* runner = &ex->runner_;
  ChildOptions child_opts = opts.child;
  App* child_app = &app;
  RUNQ_ASSIGN_OR_RETURN(ex->zygote_, Zygote::start([runner, child_opts, child_app](int fd) {
                          child_app->forget_store_after_fork();
                          return child_main(fd, *runner, child_opts);
                        }));
  const int initial = ex->autoscale() ? std::max(1, ex->opts_.min_children) : opts.children;
  for (int i = 0; i < opts.children; ++i) {
    auto c = std::make_unique<Child>();
    c->index = i;
    if (i < initial) {
      RUNQ_ASSIGN_OR_RETURN(Zygote::Child spawned, ex->zygote_->spawn());
      MutexLock lock(c->mu);
      c->pid = spawned.pid;
      c->fd = spawned.fd;
      c->up = true;
      c->active = true;
    }
    ex->children_.push_back(std::move(c));
  }
  MutexLock lock(ex->stats_mu_);
  ex->stats_.children = initial;
  return ex;
}

// Stopping races with drivers forking replacements: a driver installs a new child's socket
// under the child's lock only while stopping_ is false, and this sets stopping_ before taking
// each lock, so every socket is either shut down here or never installed (spawn() closes it).
// Shutting down the worker's end also ends a driver's blocking read at once, whatever the
// child does; a child that does not exit is killed with the zygote.
ProcessExecutor::~ProcessExecutor() {
  stopping_ = true;
  zygote_->stop_spawning();  // a driver waiting for a fork gives up now
  for (auto& c : children_) {
    MutexLock lock(c->mu);
    if (c->fd >= 0) ::shutdown(c->fd, SHUT_RDWR);  // the child reads EOF and exits
  }
  join();
  if (timer_.joinable()) timer_.join();
  for (auto& c : children_) {
    MutexLock lock(c->mu);
    if (c->fd >= 0) ::close(c->fd);
    c->fd = -1;
  }
  zygote_.reset();
}

void ProcessExecutor::drive(TaskFlow& flow) {
  flow_ = &flow;
  for (auto& c : children_) {
    if (c->active) start_driver(*c);
  }
  timer_ = std::thread([this] { timer_loop(); });
}

void ProcessExecutor::start_driver(Child& c) {
  // Counted before its thread runs: the other drivers must not take its first task.
  c.counted_empty = true;
  ++empty_drivers_;
  c.driver = std::thread([this, &c] {
    drive_loop(c);
    set_empty(c, false);
  });
}

void ProcessExecutor::join() {
  {
    MutexLock lock(scale_mu_);
    joining_ = true;  // no driver starts from now on
  }
  for (auto& c : children_) {
    if (c->driver.joinable()) c->driver.join();
  }
}

RunOutcome ProcessExecutor::run(int, const Delivery& d, std::stop_token,
                                const std::function<void(double)>&) {
  return release_of(d);  // never called: the pool drives itself
}

void ProcessExecutor::send_run(Child& c, Job& j) {
  if (!c.up) return;  // the driver hands it to the replacement
  WireWriter w(FrameType::kRun);
  w.u64(j.seq).i64(j.limits.soft_ms);
  put_delivery(w, j.delivery);
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
  if (killing_all_) {
    j.release = true;
    kill_job(c, j, AbortKind::kCrash, "killed at worker shutdown", now);
  }
}

// ---- the driver -------------------------------------------------------------------------

void ProcessExecutor::set_empty(Child& c, bool empty) {
  if (empty == c.counted_empty) return;
  c.counted_empty = empty;
  if (empty) {
    ++empty_drivers_;
  } else {
    --empty_drivers_;
  }
}

void ProcessExecutor::drive_loop(Child& c) {
  int fd;
  {
    MutexLock lock(c.mu);
    fd = c.fd;
  }
  auto reader = std::make_unique<FrameReader>(fd);
  std::string out;                  // frames to write in one send
  auto idle_since = Steady::now();  // when the child last had work
  while (true) {
    std::size_t n;
    bool up;
    {
      MutexLock lock(c.mu);
      n = c.inflight.size();
      up = c.up;
    }
    bool retire = false;
    set_empty(c, n == 0);
    // Take tasks up to the pipeline depth: the first one waiting, the others only if at hand
    // and no other child is empty (idle, or its driver still starting): it takes them instead.
    while (n < std::size_t(opts_.depth) && !flow_done_) {
      const bool wait = n == 0;
      if (!wait && empty_drivers_.load() > 0) break;
      std::optional<Delivery> d;
      if (wait) {
        // Wakes up every kIdleCheck to see whether the idle child died (it is replaced then,
        // not when the next task comes) and, with autoscale, whether it idled long enough.
        auto now = Steady::now();
        auto until = now + kIdleCheck;
        ++idle_drivers_;
        d = flow_->next(true, until);
        --idle_drivers_;
        if (!d) {
          if (flow_->stopping()) {
            flow_done_ = true;
          } else if (autoscale() &&
                     Steady::now() - idle_since >= std::chrono::milliseconds(opts_.idle_ms) &&
                     try_retire(c)) {
            retire = true;
          }
          break;
        }
        // Taken by an idle child: make sure it is still there before handing it the task (a
        // child that died while idle must not be blamed for a task it never got).
        if (up && !check_idle(c, reader, fd)) up = false;
      } else if (!(d = flow_->next(false, {}))) {
        break;
      }
      TaskFlow::Begun b = flow_->begin(*d);
      if (b.dropped) continue;
      if (b.skip) {
        flow_->end(*d, std::move(*b.skip), {});
        continue;
      }
      if (!up) {  // no child any more (the zygote is gone): hand it back
        flow_->end(*d, release_of(*d), {});
        continue;
      }
      auto job = std::make_unique<Job>();
      job->seq = next_seq_++;
      job->delivery = std::move(*d);
      job->limits = runner_.limits(job->delivery);
      job->begun = Steady::now();
      Job* j = job.get();
      {
        MutexLock lock(c.mu);
        c.inflight.push_back(std::move(job));
        start_front(c, j->begun);
        if (c.up) {
          WireWriter w(FrameType::kRun);
          w.u64(j->seq).i64(j->limits.soft_ms);
          put_delivery(w, j->delivery);
          out += w.frame();
        }
      }
      // Only this thread ends jobs, so `j` lives as long as the callback.
      j->on_cancel = std::make_unique<std::stop_callback<std::function<void()>>>(
          std::move(b.stop), std::function<void()>([this, &c, j] {
            MutexLock lock(c.mu);
            if (j->cancelled) return;
            j->cancelled = true;
            if (j->running) signal_cancel(c, *j);  // else when it starts (start_front)
          }));
      ++n;
      set_empty(c, false);
    }
    if (!out.empty()) {
      (void)write_frame(fd, out);  // a dead child shows as the end of its socket below
      out.clear();
    }
    if (retire) break;
    if (n == 0) {
      if (flow_done_ || !up) break;
      if (!check_idle(c, reader, fd)) break;
      continue;
    }
    idle_since = Steady::now();
    bool alive = read_frames(c, *reader);
    // A retiring child exits right after its notice: read to the end of its socket.
    while (alive && c.retiring) alive = read_frames(c, *reader);
    if (!alive) {
      fd = child_ended(c, c.retiring);
      c.retiring = false;
      if (fd < 0) {  // stopping, or no child can be forked: hand the rest back
        release_all(c);
        break;
      }
      reader = std::make_unique<FrameReader>(fd);
    }
  }
  // A retiring driver (autoscale) closes its idle child's socket: the child exits.
  MutexLock lock(c.mu);
  if (c.inflight.empty() && c.fd >= 0 && !c.active) {
    c.up = false;
    ::close(c.fd);
    c.fd = -1;
  }
}

// For a child with nothing in flight: reads what it sent meanwhile, and if it ended (died
// while idle, or retired) replaces it. False when it could not be replaced.
bool ProcessExecutor::check_idle(Child& c, std::unique_ptr<FrameReader>& reader, int& fd) {
  pollfd p{fd, POLLIN, 0};
  if (!c.retiring && !reader->buffered() && ::poll(&p, 1, 0) <= 0) return true;
  bool alive = read_frames(c, *reader);
  while (alive && c.retiring) alive = read_frames(c, *reader);
  if (alive) return true;
  fd = child_ended(c, c.retiring);
  c.retiring = false;
  if (fd < 0) return false;
  reader = std::make_unique<FrameReader>(fd);
  return true;
}

// Reads at least one frame and every further one already received; false at the end of the
// child's socket.
bool ProcessExecutor::read_frames(Child& c, FrameReader& reader) {
  do {
    std::optional<Frame> f = reader.next();
    if (!f) return false;
    WireReader r(f->payload);
    if (f->type == FrameType::kDone) {
      std::uint64_t seq = r.u64();
      RunOutcome out = get_outcome(r);
      if (!r.failed()) complete_front(c, seq, std::move(out));
    } else if (f->type == FrameType::kProgress) {
      std::uint64_t seq = r.u64();
      double fraction = r.f64();
      const Delivery* d = nullptr;
      auto now = Steady::now();
      {
        MutexLock lock(c.mu);
        if (!c.inflight.empty() && c.inflight.front()->seq == seq) {
          Job& j = *c.inflight.front();
          if (fraction >= 1.0 || now - j.last_progress >= std::chrono::milliseconds(200)) {
            j.last_progress = now;
            d = &j.delivery;
          }
        }
      }
      // Only this thread ends jobs, so the delivery is alive here.
      if (d != nullptr) flow_->progress(*d, fraction);
    } else if (f->type == FrameType::kRetiring) {
      c.retiring = true;
    }
  } while (reader.buffered());
  return true;
}

void ProcessExecutor::complete_front(Child& c, std::uint64_t seq, RunOutcome out) {
  std::unique_ptr<Job> done;
  auto now = Steady::now();
  {
    MutexLock lock(c.mu);
    if (c.inflight.empty() || c.inflight.front()->seq != seq) return;
    done = std::move(c.inflight.front());
    c.inflight.pop_front();
    start_front(c, now);
  }
  done->on_cancel.reset();
  if (done->release) out = release_of(done->delivery);
  flow_->end(done->delivery, std::move(out), now - done->begun);
}

// The child's socket ended: it exited, crashed, or was killed.
int ProcessExecutor::child_ended(Child& c, bool retiring) {
  auto ended = Steady::now();
  pid_t pid;
  {
    MutexLock lock(c.mu);
    c.up = false;
    if (c.fd >= 0) ::close(c.fd);
    c.fd = -1;
    pid = c.pid;
  }
  std::optional<int> status = zygote_->wait_exit(
      pid, (stopping_ || killing_all_) ? std::chrono::seconds(1) : std::chrono::seconds(5));
  std::unique_ptr<Job> crashed;
  RunOutcome out;
  {
    MutexLock lock(c.mu);
    Job* j = c.inflight.empty() ? nullptr : c.inflight.front().get();
    if (j != nullptr && j->running && !retiring) {
      std::string how = status ? describe_wait_status(*status) : "ended (status unknown)";
      std::string last = status ? short_wait_status(*status) : "unknown";
      if (j->release) {
        out = release_of(j->delivery);
      } else if (j->killing) {
        out = runner_.aborted(j->delivery, j->kill_kind, j->kill_cause, last, j->started_ms);
      } else {
        out = runner_.aborted(
            j->delivery, AbortKind::kCrash,
            (status && WIFEXITED(*status) ? "worker process " : "worker process crashed: ") + how,
            last, j->started_ms);
      }
      crashed = std::move(c.inflight.front());
      c.inflight.pop_front();
    }
    for (auto& rest : c.inflight) rest->running = false;
  }
  if (crashed) {
    crashed->on_cancel.reset();
    flow_->end(crashed->delivery, std::move(out), Steady::now() - crashed->begun);
  }
  {
    MutexLock lock(stats_mu_);
    if (retiring) {
      ++stats_.recycled;
    } else {
      ++stats_.crashes;
    }
  }
  if (stopping_ || killing_all_ || !spawn(c)) return -1;
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - ended);
  {
    MutexLock lock(stats_mu_);
    if (!retiring && stats_.replacement_us.size() < 100'000)
      stats_.replacement_us.push_back(us.count());
  }
  MutexLock lock(c.mu);
  return c.fd;
}

bool ProcessExecutor::spawn(Child& c) {
  for (int attempt = 0; !stopping_ && !killing_all_; ++attempt) {
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
      for (auto& j : c.inflight) send_run(c, *j);
      start_front(c, Steady::now());
      return true;
    }
    if (zygote_->gone()) {
      report_lost();
      return false;
    }
    if (attempt % 50 == 0)
      log_line("process pool: cannot start a child: " + spawned.status().to_string());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

void ProcessExecutor::report_lost() {
  if (lost_reported_.exchange(true)) return;
  log_line(
      "process pool: the zygote that forks the children is gone; no child can be replaced, "
      "so the worker stops (its tasks are handed back)");
  if (opts_.on_lost) opts_.on_lost();
}

// Hands back every task in flight to a child that is gone for good.
void ProcessExecutor::release_all(Child& c) {
  std::deque<std::unique_ptr<Job>> rest;
  {
    MutexLock lock(c.mu);
    rest.swap(c.inflight);
  }
  for (auto& j : rest) {
    j->on_cancel.reset();
    flow_->end(j->delivery, release_of(j->delivery), Steady::now() - j->begun);
  }
}

// ---- autoscale --------------------------------------------------------------------------

// An idle driver (nothing taken for idle_ms) retires with its child while more than the
// minimum run.
bool ProcessExecutor::try_retire(Child& c) {
  MutexLock lock(scale_mu_);
  int active = 0;
  for (auto& other : children_) active += other->active ? 1 : 0;
  if (active <= opts_.min_children || active <= 1) return false;
  c.active = false;
  MutexLock stats_lock(stats_mu_);
  ++stats_.shrunk;
  stats_.children = active - 1;
  return true;
}

// Adds a child when every child has work and more tasks wait in the worker's buffer.
void ProcessExecutor::scale() {
  if (!autoscale() || flow_done_ || stopping_ || killing_all_ || flow_->stopping()) return;
  MutexLock lock(scale_mu_);
  if (joining_) return;
  int active = 0;
  Child* free_slot = nullptr;
  for (auto& c : children_) {
    if (!c->active) {
      if (free_slot == nullptr) free_slot = c.get();
      continue;
    }
    ++active;
    MutexLock child_lock(c->mu);
    if (c->inflight.empty()) return;  // an idle child: nothing to grow for
  }
  if (free_slot == nullptr || idle_drivers_.load() > 0 || flow_->waiting() == 0) return;
  if (free_slot->driver.joinable()) free_slot->driver.join();  // a retired driver, ending
  Result<Zygote::Child> spawned = zygote_->spawn();
  if (!spawned.ok()) return;
  {
    MutexLock child_lock(free_slot->mu);
    free_slot->pid = spawned->pid;
    free_slot->fd = spawned->fd;
    free_slot->up = true;
    free_slot->retiring = false;
    free_slot->active = true;
  }
  start_driver(*free_slot);
  MutexLock stats_lock(stats_mu_);
  ++stats_.grown;
  stats_.children = active + 1;
}

// ---- limits, revoke, shutdown -------------------------------------------------------------

void ProcessExecutor::terminate(const std::string& id, Millis grace_ms) {
  auto at = Steady::now() + std::chrono::milliseconds(std::max<Millis>(0, grace_ms));
  for (auto& c : children_) {
    MutexLock lock(c->mu);
    for (auto& j : c->inflight) {
      if (j->delivery.id == id) j->revoke_at = std::min(j->revoke_at, at);
    }
  }
}

void ProcessExecutor::kill_running() {
  killing_all_ = true;
  zygote_->stop_spawning();
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
  auto next_scale = Steady::now();
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
    if (now >= next_scale) {
      scale();
      next_scale = now + std::chrono::milliseconds(100);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the enforcement tick
  }
}

ProcessPoolStats ProcessExecutor::stats() const {
  MutexLock lock(stats_mu_);
  return stats_;
}

}  // namespace runq::internal
