#include "worker/internal/child_main.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <set>
#include <stop_token>
#include <thread>

#include "core/mutex.hpp"
#include "worker/internal/wire.hpp"

namespace runq::internal {
namespace {

using Steady = std::chrono::steady_clock;

// Resident set size in bytes, from /proc/self/statm; 0 if unreadable.
std::uint64_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0, resident = 0;
  int n = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)) : 0;
}

// The main thread reads the socket and runs each task as its frame arrives (no hand-off
// between threads). Cancellation comes as kCancelSignal queued with the task's sequence number
// (sigqueue), taken by a watcher thread with sigtimedwait, which also raises the flag when the
// running task's soft time limit passes. The signal is blocked in every thread of the child
// (the zygote blocks it before the child's code runs).
class Child {
 public:
  Child(int fd, const TaskRunner& runner, ChildOptions opts)
      : fd_(fd), runner_(runner), opts_(opts) {}

  int run() {
    std::thread watcher([this] { watch_loop(); });
    watcher_ = watcher.native_handle();
    FrameReader reader(fd_);
    std::uint64_t done = 0;
    bool retire = false;
    while (std::optional<Frame> f = reader.next()) {
      WireReader r(f->payload);
      if (f->type == FrameType::kCancel) {
        cancel(r.u64());
        continue;
      }
      if (f->type != FrameType::kRun) continue;
      std::uint64_t seq = r.u64();
      Millis soft_ms = r.i64();
      Delivery d = get_delivery(r);
      if (r.failed()) continue;
      std::stop_token stop = begin(seq, soft_ms);
      RunOutcome out =
          runner_.run(d, std::move(stop), [&](double fraction) { progress(seq, fraction); });
      end();
      ++done;
      retire = (opts_.max_tasks > 0 && done >= opts_.max_tasks) ||
               (opts_.max_rss_bytes > 0 && resident_bytes() > opts_.max_rss_bytes);
      WireWriter w(FrameType::kDone);
      w.u64(seq);
      put_outcome(w, out);
      if (!retire) {
        send(w.frame());
        continue;
      }
      // The last outcome and the notice in one write: the worker replaces this child at once.
      std::string frames = w.frame();
      frames += WireWriter(FrameType::kRetiring).frame();
      send(frames);
      break;
    }
    {
      MutexLock lock(mu_);
      finished_ = true;
    }
    wake_watcher();
    watcher.join();
    return 0;
  }

 private:
  std::stop_token begin(std::uint64_t seq, Millis soft_ms) RUNQ_EXCLUDES(mu_) {
    std::stop_token token;
    {
      MutexLock lock(mu_);
      running_ = seq;
      stop_ = std::stop_source();
      if (cancelled_.erase(seq) > 0) stop_.request_stop();
      soft_deadline_ = soft_ms > 0 ? Steady::now() + std::chrono::milliseconds(soft_ms)
                                   : Steady::time_point::max();
      token = stop_.get_token();
    }
    if (soft_ms > 0) wake_watcher();  // it waits without a deadline
    return token;
  }

  void end() RUNQ_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    running_ = 0;
    soft_deadline_ = Steady::time_point::max();
  }

  void cancel(std::uint64_t seq) RUNQ_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    if (seq == running_) {
      stop_.request_stop();
    } else if (cancelled_.size() < 1024) {
      cancelled_.insert(seq);
    }
  }

  void wake_watcher() {
    sigval v{};
    v.sival_ptr = nullptr;  // 0: no task, just look again
    (void)::pthread_sigqueue(watcher_, kCancelSignal, v);
  }

  void watch_loop() RUNQ_EXCLUDES(mu_) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, kCancelSignal);
    while (true) {
      timespec timeout{1, 0};
      {
        MutexLock lock(mu_);
        if (finished_) return;
        if (running_ != 0 && soft_deadline_ != Steady::time_point::max()) {
          auto left =
              std::chrono::duration_cast<std::chrono::microseconds>(soft_deadline_ - Steady::now());
          if (left.count() <= 0) {
            stop_.request_stop();
            soft_deadline_ = Steady::time_point::max();
          } else if (left < std::chrono::seconds(1)) {
            timeout = {0, static_cast<long>(left.count()) * 1000};
          }
        }
      }
      siginfo_t info{};
      if (::sigtimedwait(&set, &info, &timeout) == kCancelSignal) {
        auto seq =
            static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(info.si_value.sival_ptr));
        if (seq != 0) cancel(seq);
      }
    }
  }

  void progress(std::uint64_t seq, double f) {
    auto now = Steady::now();
    if (f < 1.0 && now - last_progress_ < std::chrono::milliseconds(100)) return;
    last_progress_ = now;
    WireWriter w(FrameType::kProgress);
    w.u64(seq).f64(f);
    send(w.frame());
  }

  void send(const std::string& frame) {
    std::lock_guard lock(write_mu_);  // a task's own threads may report progress
    (void)write_frame(fd_, frame);
  }

  const int fd_;
  const TaskRunner& runner_;
  const ChildOptions opts_;
  pthread_t watcher_{};
  std::mutex write_mu_;
  Steady::time_point last_progress_{};  // main thread only

  Mutex mu_;
  std::set<std::uint64_t> cancelled_ RUNQ_GUARDED_BY(mu_);  // cancelled before they started
  std::uint64_t running_ RUNQ_GUARDED_BY(mu_) = 0;
  std::stop_source stop_ RUNQ_GUARDED_BY(mu_);  // the running task's
  Steady::time_point soft_deadline_ RUNQ_GUARDED_BY(mu_) = Steady::time_point::max();
  bool finished_ RUNQ_GUARDED_BY(mu_) = false;
};

}  // namespace

int child_main(int fd, const TaskRunner& runner, ChildOptions opts) {
  Child c(fd, runner, opts);
  return c.run();
}

}  // namespace runq::internal
