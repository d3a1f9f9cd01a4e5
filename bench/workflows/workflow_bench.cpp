// Workflow benchmark (docs/benchmarks.md, "Workflows"): on one store,
//  1. a plain batch of N no-op tasks (delay_many): time until a worker ran them all;
//  2. a chord of N no-op members and a body summing them: time from delay() to the body's
//     result; the ratio to (1) is the cost of the join;
//  3. a chain of S no-op steps, each taking the previous result: time per step, against the
//     pickup latency of one task (delay -> get, sequentially).
// On Redis it also reports the commands the server processed per task (INFO stats).
//
//   runq-workflow-bench --store redis://127.0.0.1:6379/0 [--members 100000] [--chain 1000]
//                       [--concurrency 4]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <runq/runq.hpp>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Commands processed by the Redis server at `url` so far (-1 when not Redis / unreadable).
long long redis_commands(const std::string& url) {
  if (url.rfind("redis://", 0) != 0) return -1;
  std::string hostport = url.substr(8);
  hostport = hostport.substr(0, hostport.find('/'));
  std::string host = hostport.substr(0, hostport.find(':'));
  std::string port =
      hostport.find(':') == std::string::npos ? "6379" : hostport.substr(hostport.find(':') + 1);
  std::string cmd = "redis-cli -h " + host + " -p " + port + " info stats";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  char line[512];
  long long n = -1;
  while (std::fgets(line, sizeof line, p) != nullptr) {
    if (std::sscanf(line, "total_commands_processed:%lld", &n) == 1) break;
  }
  pclose(p);
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url = "sqlite:workflow-bench.db";
  int members = 100'000, steps = 1000, concurrency = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--store") url = argv[i + 1];
    if (k == "--members") members = std::atoi(argv[i + 1]);
    if (k == "--chain") steps = std::atoi(argv[i + 1]);
    if (k == "--concurrency") concurrency = std::atoi(argv[i + 1]);
  }
  runq::App app(runq::AppOptions{.store_url = url});
  auto noop = app.task("noop", [](int v) { return v; });
  auto total = app.task(
      "total", [](std::vector<int> v) { return std::accumulate(v.begin(), v.end(), 0LL); });
  auto step = app.task("step", [](int v) { return v + 1; });
  runq::WorkerOptions wo;
  wo.concurrency = concurrency;
  runq::Worker worker(app, wo);
  if (!worker.start().ok()) {
    std::fprintf(stderr, "cannot start a worker on %s\n", url.c_str());
    return 1;
  }
  std::printf("store %s, %d members, chain of %d, %d worker threads\n", url.c_str(), members, steps,
              concurrency);

  // 1. plain batch
  std::vector<std::tuple<int>> calls;
  for (int i = 0; i < members; ++i) calls.emplace_back(i);
  long long c0 = redis_commands(url);
  std::uint64_t before = worker.counters().processed;
  auto t0 = Clock::now();
  auto results = noop.delay_many(calls);
  double plain_enqueued_s = seconds_since(t0);
  while (worker.counters().processed < before + static_cast<std::uint64_t>(members) &&
         seconds_since(t0) < 600) {
    std::this_thread::sleep_for(1ms);
  }
  double plain_s = seconds_since(t0);
  long long c1 = redis_commands(url);
  std::printf("plain batch: %d tasks in %.3f s (%.0f tasks/s)", members, plain_s,
              members / plain_s);
  if (c0 >= 0) std::printf(", %.2f Redis commands/task", double(c1 - c0) / members);
  std::printf("\n  enqueued in %.3f s\n", plain_enqueued_s);

  // 2. chord
  std::vector<runq::Signature<int>> sigs;
  sigs.reserve(static_cast<std::size_t>(members));
  for (int i = 0; i < members; ++i) sigs.push_back(noop.s(i));
  c0 = redis_commands(url);
  before = worker.counters().processed;
  t0 = Clock::now();
  auto chord_flow = runq::chord(runq::group(sigs), total.s());
  double built_s = seconds_since(t0);
  auto chord_result = chord_flow.delay();
  double enqueued_s = seconds_since(t0);
  std::printf("  built in %.3f s\n", built_s);
  while (worker.counters().processed < before + static_cast<std::uint64_t>(members) &&
         seconds_since(t0) < 600) {
    std::this_thread::sleep_for(1ms);
  }
  double members_s = seconds_since(t0);
  long long sum = chord_result.get(600s);
  double chord_s = seconds_since(t0);
  c1 = redis_commands(url);
  std::printf("chord: %d members + body in %.3f s (%.2fx the plain batch), body sum %lld", members,
              chord_s, chord_s / plain_s, sum);
  if (c0 >= 0) std::printf(", %.2f Redis commands/member", double(c1 - c0) / members);
  std::printf("\n  enqueued in %.3f s, members done at %.3f s, body result at %.3f s\n", enqueued_s,
              members_s, chord_s);

  // 3. chain vs single pickup latency
  constexpr int kSingles = 100;
  t0 = Clock::now();
  for (int i = 0; i < kSingles; ++i) noop.delay(i).get(60s);
  double single_ms = seconds_since(t0) * 1000 / kSingles;
  runq::internal::Flow f = noop.s(0).flow();
  for (int i = 1; i < steps; ++i) f = runq::internal::then(std::move(f), step.s().flow());
  t0 = Clock::now();
  int last = runq::Chain<int>(std::move(f)).delay().get(600s);
  double chain_ms = seconds_since(t0) * 1000;
  std::printf(
      "chain: %d steps in %.1f ms, %.3f ms/step (last value %d); one task delay->get: "
      "%.3f ms\n",
      steps, chain_ms, chain_ms / steps, last, single_ms);
  worker.request_stop();
  worker.wait();
  return 0;
}
