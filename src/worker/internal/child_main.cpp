#include "worker/internal/child_main.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <mutex>
#include <set>
#include <stop_token>
#include <thread>

#include "core/mutex.hpp"
#include "worker/internal/wire.hpp"

namespace runq::internal {
namespace {

using Steady = std::chrono::steady_clock;

struct Job {
  std::uint64_t seq = 0;
  Millis soft_ms = 0;
  Delivery delivery;
  std::stop_token stop;  // set when the job starts
};

// Resident set size in bytes, from /proc/self/statm; 0 if unreadable.
std::uint64_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0, resident = 0;
  int n = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)) : 0;
}

class Child {
 public:
  Child(int fd, const TaskRunner& runner, ChildOptions opts)
      : fd_(fd), runner_(runner), opts_(opts) {}

  int run() {
    std::thread reader([this] { read_loop(); });
    std::uint64_t done = 0;
    bool retire = false;
    while (std::optional<Job> job = next()) {
      RunOutcome out =
          runner_.run(job->delivery, job->stop, [&](double f) { progress(job->seq, f); });
      WireWriter w(FrameType::kDone);
      w.u64(job->seq);
      put_outcome(w, out);
      send(w.frame());
      {
        MutexLock lock(mu_);
        running_ = 0;
      }
      ++done;
      if ((opts_.max_tasks > 0 && done >= opts_.max_tasks) ||
          (opts_.max_rss_bytes > 0 && resident_bytes() > opts_.max_rss_bytes)) {
        retire = true;
        break;
      }
    }
    if (retire) {
      WireWriter w(FrameType::kRetiring);
      send(w.frame());
    }
    ::shutdown(fd_, SHUT_RDWR);  // ends the reader
    reader.join();
    return 0;
  }

 private:
  std::optional<Job> next() RUNQ_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    while (jobs_.empty() && !eof_) cv_.wait(mu_);
    if (eof_) return std::nullopt;
    Job j = std::move(jobs_.front());
    jobs_.pop_front();
    running_ = j.seq;
    stop_ = std::stop_source();
    if (cancelled_.erase(j.seq) > 0) stop_.request_stop();
    j.stop = stop_.get_token();
    soft_deadline_ = j.soft_ms > 0 ? Steady::now() + std::chrono::milliseconds(j.soft_ms)
                                   : Steady::time_point::max();
    return j;
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
    std::lock_guard lock(write_mu_);
    (void)write_frame(fd_, frame);
  }

  // Waits for frames, waking up at the running task's soft time limit.
  void read_loop() RUNQ_EXCLUDES(mu_) {
    FrameReader reader(fd_);
    while (true) {
      int timeout_ms = 1000;
      {
        MutexLock lock(mu_);
        if (running_ != 0 && soft_deadline_ != Steady::time_point::max()) {
          auto left =
              std::chrono::duration_cast<std::chrono::milliseconds>(soft_deadline_ - Steady::now());
          if (left.count() <= 0) {
            stop_.request_stop();
            soft_deadline_ = Steady::time_point::max();
          } else {
            timeout_ms = static_cast<int>(std::min<long long>(left.count() + 1, 1000));
          }
        }
      }
      int n = 1;
      if (!reader.buffered()) {
        pollfd p{fd_, POLLIN, 0};
        n = ::poll(&p, 1, timeout_ms);
        if (n == 0 || (n < 0 && errno == EINTR)) continue;
      }
      std::optional<Frame> f = n > 0 ? reader.next() : std::nullopt;
      MutexLock lock(mu_);
      if (!f) {
        eof_ = true;
        stop_.request_stop();  // the worker is gone or stopping now: end early if we can
        cv_.notify_all();
        return;
      }
      WireReader r(f->payload);
      if (f->type == FrameType::kRun) {
        Job j;
        j.seq = r.u64();
        j.soft_ms = r.i64();
        j.delivery = get_delivery(r);
        if (!r.failed()) jobs_.push_back(std::move(j));
        cv_.notify_all();
      } else if (f->type == FrameType::kCancel) {
        std::uint64_t seq = r.u64();
        if (seq == running_) {
          stop_.request_stop();
        } else {
          cancelled_.insert(seq);
        }
      }
    }
  }

  const int fd_;
  const TaskRunner& runner_;
  const ChildOptions opts_;
  std::mutex write_mu_;
  Steady::time_point last_progress_{};  // main thread only

  Mutex mu_;
  CondVar cv_;
  std::deque<Job> jobs_ RUNQ_GUARDED_BY(mu_);
  std::set<std::uint64_t> cancelled_ RUNQ_GUARDED_BY(mu_);
  std::uint64_t running_ RUNQ_GUARDED_BY(mu_) = 0;
  std::stop_source stop_ RUNQ_GUARDED_BY(mu_);  // the running task's
  Steady::time_point soft_deadline_ RUNQ_GUARDED_BY(mu_) = Steady::time_point::max();
  bool eof_ RUNQ_GUARDED_BY(mu_) = false;
};

}  // namespace

int child_main(int fd, const TaskRunner& runner, ChildOptions opts) {
  Child c(fd, runner, opts);
  return c.run();
}

}  // namespace runq::internal
