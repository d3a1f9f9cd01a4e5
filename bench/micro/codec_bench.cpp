// Task message and result record codec (src/core/codec.cpp): the per-task encode at enqueue
// and decode at execution, and the result record written at settlement.
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include "core/message.hpp"

namespace {

using runq::internal::ResultRecord;
using runq::internal::TaskMessage;

TaskMessage sample_message() {
  TaskMessage m;
  m.id = "01J9ZQ3V4W5X6Y7Z8A9B0C1D2E";
  m.name = "bench.add";
  m.args = "[2,3]";
  m.created = 1'700'000'000'000;
  return m;
}

ResultRecord sample_result() {
  ResultRecord r;
  r.id = "01J9ZQ3V4W5X6Y7Z8A9B0C1D2E";
  r.task = "bench.add";
  r.state = runq::TaskState::kSuccess;
  r.value = "5";
  r.attempts = 1;
  r.enqueued = 1'700'000'000'000;
  r.started = r.enqueued + 1;
  r.finished = r.enqueued + 2;
  r.worker = "host:1234:abcd";
  return r;
}

void BM_EncodeMessage(benchmark::State& state) {
  TaskMessage m = sample_message();
  for (auto _ : state) benchmark::DoNotOptimize(runq::internal::encode_message(m));
}
BENCHMARK(BM_EncodeMessage);

void BM_DecodeMessage(benchmark::State& state) {
  std::string body = runq::internal::encode_message(sample_message());
  for (auto _ : state) benchmark::DoNotOptimize(runq::internal::decode_message(body));
  state.SetBytesProcessed(std::int64_t(state.iterations() * body.size()));
}
BENCHMARK(BM_DecodeMessage);

// The worker's path: the fast scanner, with the arguments handed out parsed.
void BM_DecodeMessageForWorker(benchmark::State& state) {
  std::string body = runq::internal::encode_message(sample_message());
  nlohmann::json args;
  for (auto _ : state) benchmark::DoNotOptimize(runq::internal::decode_message(body, &args));
  state.SetBytesProcessed(std::int64_t(state.iterations() * body.size()));
}
BENCHMARK(BM_DecodeMessageForWorker);

void BM_EncodeResult(benchmark::State& state) {
  ResultRecord r = sample_result();
  for (auto _ : state) benchmark::DoNotOptimize(runq::internal::encode_result(r));
}
BENCHMARK(BM_EncodeResult);

void BM_DecodeResult(benchmark::State& state) {
  std::string text = runq::internal::encode_result(sample_result());
  for (auto _ : state) benchmark::DoNotOptimize(runq::internal::decode_result(text));
}
BENCHMARK(BM_DecodeResult);

}  // namespace
