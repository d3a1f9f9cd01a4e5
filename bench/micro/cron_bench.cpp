// Cron next-fire: Schedule::next_after for common and sparse expressions, UTC and a zone
// with daylight saving.
#include <benchmark/benchmark.h>

#include "runq/schedule.hpp"

namespace {

constexpr runq::Millis kStart = 1'700'000'000'000;  // 2023-11-14

void next_fire(benchmark::State& state, const char* expr, const char* zone) {
  runq::Schedule s = runq::cron(expr, zone);
  runq::Millis t = kStart;
  for (auto _ : state) {
    t = s.next_after(t);
    if (t == runq::kNever || t > kStart + 50LL * 365 * 86'400'000) t = kStart;  // stay in range
    benchmark::DoNotOptimize(t);
  }
}

BENCHMARK_CAPTURE(next_fire, every_5_min_utc, "*/5 * * * *", "UTC");
BENCHMARK_CAPTURE(next_fire, weekdays_8am_paris, "0 8 * * MON-FRI", "Europe/Paris");
BENCHMARK_CAPTURE(next_fire, feb_29_utc, "0 0 29 2 *", "UTC");

void BM_ParseCron(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(runq::parse_cron("*/15 9-17 * * MON-FRI", "UTC"));
}
BENCHMARK(BM_ParseCron);

}  // namespace
