// runq-pool-crash-bench: time from a process-pool child crashing to its replacement running
// the next task. One child; tasks alternate between one that records the time and crashes
// (SIGSEGV) and one that records when it starts — the latter is already queued behind the
// crash (pipelining) and runs first thing in the replacement child. The gap between the two
// times covers noticing the crash, reaping it, forking the replacement and handing it the task.
//
//   runq-pool-crash-bench [CRASHES]      (default 200; prints p50/p99/max in ms)
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "runq/runq.hpp"

namespace {

constexpr int kMaxCrashes = 10'000;

// Shared with the worker's children (mapped before the worker forks them).
struct Shared {
  std::atomic<std::int64_t> crashed_ns[kMaxCrashes];
  std::atomic<std::int64_t> started_ns[kMaxCrashes];
};

std::int64_t mono_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

volatile std::uintptr_t bad_address = 8;

}  // namespace

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  const int crashes = std::clamp(argc > 1 ? std::atoi(argv[1]) : 200, 1, kMaxCrashes);
  void* p =
      mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return 1;
  Shared* shared = new (p) Shared();

  runq::App app(runq::AppOptions{.store_url = "memory:"});
  auto crash = app.task("crash", [shared](int i) {
    shared->crashed_ns[i].store(mono_ns());
    *reinterpret_cast<volatile int*>(bad_address) = 1;
  });
  auto mark = app.task("mark", [shared](int i) { shared->started_ns[i].store(mono_ns()); });

  runq::WorkerOptions wo;
  wo.concurrency = 1;
  wo.pool = runq::WorkerPool::kProcesses;
  runq::Worker worker(app, wo);
  if (!worker.start().ok()) return 1;
  std::vector<runq::AsyncResult<void>> marks;
  for (int i = 0; i < crashes; ++i) {
    crash.delay(i);
    marks.push_back(mark.delay(i));
  }
  for (auto& m : marks) m.get(60s);
  worker.request_stop();
  worker.wait();

  std::vector<double> ms;
  for (int i = 0; i < crashes; ++i) {
    std::int64_t a = shared->crashed_ns[i].load(), b = shared->started_ns[i].load();
    if (a > 0 && b > a) ms.push_back(static_cast<double>(b - a) / 1e6);
  }
  if (ms.empty()) return 1;
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[std::min(ms.size() - 1, static_cast<std::size_t>(q * ms.size()))];
  };
  std::printf(
      "{\"crashes\":%zu,\"replacement_p50_ms\":%.3f,\"replacement_p99_ms\":%.3f,"
      "\"replacement_max_ms\":%.3f}\n",
      ms.size(), at(0.5), at(0.99), ms.back());
  return 0;
}
