#include "worker_pool.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <thread>

#include "bench_app.hpp"
#include "runq/worker.hpp"

namespace runq::bench {
namespace {

enum : int { kStarting = 0, kReady = 1, kRunning = 2, kFinished = 3, kFailed = -1 };

void sleep_us(int us) { std::this_thread::sleep_for(std::chrono::microseconds(us)); }

void record_failure(ProcSlot& slot, const std::string& what) {
  std::snprintf(slot.error, sizeof slot.error, "%s", what.c_str());
  slot.state.store(kFailed);
}

void record_usage(ProcSlot& slot) {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  slot.max_rss_kb.store(ru.ru_maxrss);
  auto us = [](const timeval& tv) { return std::int64_t(tv.tv_sec) * 1'000'000 + tv.tv_usec; };
  slot.cpu_us.store(us(ru.ru_utime) + us(ru.ru_stime));
}

// Publishes the worker's settled count; the timestamps bracket the drain as seen from here.
void publish(ProcSlot& slot, const Worker& w, std::uint64_t& last_seen) {
  std::uint64_t n = w.counters().processed;
  if (n == last_seen) return;
  last_seen = n;
  std::int64_t now = mono_us();
  if (slot.first_us.load() == 0) slot.first_us.store(now);
  slot.last_us.store(now);
  slot.processed.store(n);
}

}  // namespace

struct WorkerPool::Shared {
  std::atomic<int> go{0};
  std::atomic<int> stop{0};
  ProcSlot procs[kMaxProcs];
};

WorkerPool::WorkerPool(const Config& cfg) : cfg_(cfg) {}

WorkerPool::~WorkerPool() {
  for (pid_t pid : pids_) {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
  if (shared_) munmap(shared_, sizeof(Shared));
}

bool WorkerPool::spawn() {
  void* p =
      mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return false;
  shared_ = new (p) Shared();
  std::fflush(nullptr);  // nothing buffered may be written twice
  for (int i = 0; i < cfg_.procs; ++i) {
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) child_main(i);
    pids_.push_back(pid);
  }
  return true;
}

void WorkerPool::child_main(int index) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  signal(SIGINT, SIG_IGN);  // the parent handles Ctrl-C and tells us to stop
  ProcSlot& slot = shared_->procs[index];
  try {
    BenchApp bench(cfg_);
    (void)bench.app.store();  // open now: connecting is not part of the measurement
    WorkerOptions wo;
    wo.concurrency = cfg_.threads;
    if (cfg_.process_pool) wo.pool = runq::WorkerPool::kProcesses;
    wo.prefetch = cfg_.prefetch;
    wo.queues = {cfg_.queue};
    wo.grace_ms = 5'000;
    slot.state.store(kReady);
    while (!shared_->go.load() && !shared_->stop.load()) sleep_us(100);
    Worker worker(bench.app, wo);
    Status st = worker.start();
    if (!st.ok()) {
      record_failure(slot, "starting worker: " + st.to_string());
      _exit(1);
    }
    slot.state.store(kRunning);
    std::uint64_t seen = 0;
    while (!shared_->stop.load()) {
      publish(slot, worker, seen);
      sleep_us(500);
    }
    worker.request_stop();
    worker.wait();
    publish(slot, worker, seen);
    record_usage(slot);
    slot.state.store(kFinished);
  } catch (const std::exception& e) {
    record_failure(slot, e.what());
    _exit(1);
  }
  _exit(0);  // no atexit handlers or static destructors of the parent's image
}

bool WorkerPool::wait_ready(std::int64_t deadline_us) {
  while (mono_us() < deadline_us) {
    if (!failure().empty()) return false;
    bool all = std::all_of(shared_->procs, shared_->procs + cfg_.procs,
                           [](const ProcSlot& s) { return s.state.load() >= kReady; });
    if (all) return true;
    sleep_us(1000);
  }
  return false;
}

void WorkerPool::go() { shared_->go.store(1); }

PoolTotals WorkerPool::totals() const {
  PoolTotals t;
  if (!shared_) return t;
  for (int i = 0; i < cfg_.procs; ++i) {
    const ProcSlot& s = shared_->procs[i];
    t.processed += s.processed.load();
    std::int64_t first = s.first_us.load();
    if (first && (t.first_us == 0 || first < t.first_us)) t.first_us = first;
    t.last_us = std::max(t.last_us, s.last_us.load());
    t.max_rss_kb = std::max(t.max_rss_kb, s.max_rss_kb.load());
    t.cpu_s += s.cpu_us.load() / 1e6;
  }
  return t;
}

std::string WorkerPool::failure() const {
  if (!shared_) return {};
  for (int i = 0; i < cfg_.procs; ++i) {
    const ProcSlot& s = shared_->procs[i];
    if (s.state.load() == kFailed) return "worker process " + std::to_string(i) + ": " + s.error;
  }
  for (std::size_t i = 0; i < pids_.size(); ++i) {
    int status = 0;
    if (pids_[i] > 0 && waitpid(pids_[i], &status, WNOHANG) == pids_[i]) {
      pids_[i] = -1;  // reaped; report it only if it died before finishing
      if (shared_->procs[i].state.load() != kFinished) {
        return "worker process " + std::to_string(i) + " died (" +
               (WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                    : "exit " + std::to_string(WEXITSTATUS(status))) +
               ")";
      }
    }
  }
  return {};
}

PoolTotals WorkerPool::stop(int grace_ms) {
  if (!shared_) return {};
  shared_->stop.store(1);
  std::int64_t deadline = mono_us() + std::int64_t(grace_ms) * 1000;
  for (pid_t& pid : pids_) {
    while (pid > 0) {
      if (waitpid(pid, nullptr, WNOHANG) == pid) {
        pid = -1;
      } else if (mono_us() > deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        pid = -1;
      } else {
        sleep_us(1000);
      }
    }
  }
  return totals();
}

}  // namespace runq::bench
