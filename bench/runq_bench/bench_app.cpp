#include "bench_app.hpp"

#include <sys/mman.h>
#include <time.h>

#include <new>

namespace runq::bench {
namespace {

std::atomic<std::int64_t>* g_latency = nullptr;
std::uint64_t g_latency_count = 0;

TaskOptions noop_options(const Config& cfg) {
  TaskOptions o;
  o.queue(cfg.queue).ignore_result(cfg.ignore_result);
  return o;
}

}  // namespace

std::int64_t mono_us() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

std::atomic<std::int64_t>* map_shared_slots(std::uint64_t count) {
  std::size_t bytes = std::max<std::uint64_t>(count, 1) * sizeof(std::atomic<std::int64_t>);
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  auto* slots = static_cast<std::atomic<std::int64_t>*>(p);
  for (std::uint64_t i = 0; i < count; ++i) new (&slots[i]) std::atomic<std::int64_t>(0);
  return slots;
}

void set_latency_slots(std::atomic<std::int64_t>* slots, std::uint64_t count) {
  g_latency = slots;
  g_latency_count = count;
}

BenchApp::BenchApp(const Config& cfg)
    : app(AppOptions{.store_url = cfg.store_url}),
      noop(app.task(
          "bench.noop", [] {}, noop_options(cfg))),
      stamp(app.task(
          "bench.stamp",
          [](std::int64_t enqueued_us, std::int64_t index) -> std::int64_t {
            std::int64_t now = mono_us();
            if (g_latency && index >= 0 && std::uint64_t(index) < g_latency_count) {
              g_latency[index].store(now - enqueued_us + 1, std::memory_order_release);
            }
            return now;
          },
          noop_options(cfg))) {}

}  // namespace runq::bench
