// runq-revoke-bench: time from `revoke --terminate` (App::revoke, the call `runq revoke`
// makes) of a running task to the task being REVOKED in the store, as the revoker sees it.
// One worker with one slot; each round runs a task that spins until Context::cancelled(),
// waits until it has started and then a random 0-100 ms, revokes it with terminate and waits
// for its final state. The
// time covers the worker noticing the request (WorkerOptions::revoke_poll_ms), raising the
// flag (in the process pool: a frame to the child), the task returning, and the REVOKED
// settlement being written and seen.
//
//   runq-revoke-bench STORE_URL [threads|processes] [ROUNDS] [POLL_MS]
//   (default processes, 200 rounds, WorkerOptions::revoke_poll_ms as its default)
//   prints {"rounds":N,"revoke_p50_ms":...,"revoke_p99_ms":...,"revoke_max_ms":...}
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "runq/runq.hpp"

namespace {

// Shared with the worker's children (mapped before the worker forks them).
struct Shared {
  std::atomic<int> started{-1};  // the round whose task runs now
};

}  // namespace

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: runq-revoke-bench STORE_URL [threads|processes] [ROUNDS] [POLL_MS]\n");
    return 2;
  }
  const std::string url = argv[1];
  const bool threads = argc > 2 && std::string(argv[2]) == "threads";
  const int rounds = std::clamp(argc > 3 ? std::atoi(argv[3]) : 200, 1, 100'000);
  void* p =
      mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return 1;
  Shared* shared = new (p) Shared();

  runq::App app(runq::AppOptions{.store_url = url});
  auto spin = app.task("spin", [shared](runq::Context& ctx, int round) {
    shared->started.store(round);
    auto end = std::chrono::steady_clock::now() + 30s;  // bound, never reached
    while (!ctx.cancelled() && std::chrono::steady_clock::now() < end) {
    }
  });
  runq::WorkerOptions wo;
  wo.concurrency = 1;
  if (argc > 4) wo.revoke_poll_ms = std::atoi(argv[4]);
  wo.pool = threads ? runq::WorkerPool::kThreads : runq::WorkerPool::kProcesses;
  runq::Worker worker(app, wo);
  if (runq::Status s = worker.start(); !s.ok()) {
    std::fprintf(stderr, "runq-revoke-bench: %s\n", s.to_string().c_str());
    return 1;
  }
  std::vector<double> ms;
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> jitter(0, 100'000);  // µs
  for (int i = 0; i < rounds; ++i) {
    auto r = spin.delay(i);
    auto started_by = std::chrono::steady_clock::now() + 30s;
    while (shared->started.load() != i && std::chrono::steady_clock::now() < started_by) {
      std::this_thread::sleep_for(200us);
    }
    if (shared->started.load() != i) {
      std::fprintf(stderr, "runq-revoke-bench: round %d did not start within 30 s\n", i);
      return 1;
    }
    // Revoke at a random moment: right after the previous round the worker's revoke poll
    // has a fixed phase, and revoking at once would always land just after a poll.
    std::this_thread::sleep_for(std::chrono::microseconds(jitter(rng)));
    auto t0 = std::chrono::steady_clock::now();
    runq::Result<runq::TaskState> state = app.revoke(r.id(), {.terminate = true});
    runq::Result<runq::TaskStatus> st = runq::wait_task_status(*app.store(), r.id(), 30'000);
    auto t1 = std::chrono::steady_clock::now();
    if (!state.ok() || !st.ok() || st->state != runq::TaskState::kRevoked) {
      std::fprintf(stderr, "runq-revoke-bench: round %d did not end REVOKED\n", i);
      return 1;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  worker.request_stop();
  worker.wait();
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[std::min(ms.size() - 1, static_cast<std::size_t>(q * ms.size()))];
  };
  std::printf(
      "{\"pool\":\"%s\",\"poll_ms\":%lld,\"rounds\":%zu,\"revoke_p50_ms\":%.3f,\"revoke_p99_ms\":%."
      "3f,"
      "\"revoke_max_ms\":%.3f}\n",
      threads ? "threads" : "processes", static_cast<long long>(wo.revoke_poll_ms), ms.size(),
      at(0.5), at(0.99), ms.back());
  return 0;
}
