// Typed argument binding: TaskDefinition::invoke of a registered task (JSON array → typed
// arguments → body → JSON result text), and the whole per-task execution path of a worker
// (TaskRunner::run: decode message, parse arguments, invoke, encode the result record).
#include <benchmark/benchmark.h>

#include <string>

#include "app/task_runner.hpp"
#include "core/message.hpp"
#include "runq/app.hpp"

namespace {

struct Fixture {
  Fixture() {
    (void)app.task("bench.add", [](int a, int b) { return a + b; });
    (void)app.task("bench.concat",
                   [](std::string a, std::vector<int> v) { return a + std::to_string(v.size()); });
  }
  runq::App app{runq::AppOptions{.store_url = "memory:"}};
};

void BM_InvokeIntArgs(benchmark::State& state) {
  Fixture f;
  const runq::TaskDefinition* def = f.app.find_task("bench.add");
  runq::Context ctx("id", "bench.add", 1, 0);
  nlohmann::json args = nlohmann::json::parse("[2,3]");
  for (auto _ : state) benchmark::DoNotOptimize(def->invoke(ctx, args));
}
BENCHMARK(BM_InvokeIntArgs);

void BM_InvokeStringVectorArgs(benchmark::State& state) {
  Fixture f;
  const runq::TaskDefinition* def = f.app.find_task("bench.concat");
  runq::Context ctx("id", "bench.concat", 1, 0);
  nlohmann::json args = nlohmann::json::parse(R"(["hello world",[1,2,3,4,5,6,7,8]])");
  for (auto _ : state) benchmark::DoNotOptimize(def->invoke(ctx, args));
}
BENCHMARK(BM_InvokeStringVectorArgs);

void BM_EncodeArgs(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(runq::internal::encode_args(2, 3));
}
BENCHMARK(BM_EncodeArgs);

void BM_TaskRunnerRun(benchmark::State& state) {
  Fixture f;
  runq::internal::TaskMessage m;
  m.id = "01J9ZQ3V4W5X6Y7Z8A9B0C1D2E";
  m.name = "bench.add";
  m.args = "[2,3]";
  m.created = 1'700'000'000'000;
  runq::Delivery d{m.id, "default", runq::internal::encode_message(m), 1, 1, 0};
  runq::internal::TaskRunner runner(f.app, "bench-worker");
  for (auto _ : state) benchmark::DoNotOptimize(runner.run(d, {}, {}));
}
BENCHMARK(BM_TaskRunnerRun);

}  // namespace
