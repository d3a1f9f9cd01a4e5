// Store operations per batch size (1, 16, 256): enqueue, reserve + settle, and the full
// cycle, on SQLite (a temp file) and on Redis when RUNQ_BENCH_REDIS names a server URL
// (e.g. redis://127.0.0.1:6390/0; the server is not started here). items/s = tasks/s.
//
// This file also holds main(): the store benchmarks are registered at run time.
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/message.hpp"
#include "runq/store.hpp"

namespace {

constexpr runq::Millis kNow = 1'700'000'000'000;
// Task ids are unique across every run of every benchmark in this process: Google Benchmark
// calls a benchmark several times, and an id already present would be skipped by enqueue.
std::uint64_t g_next_id = 0;

std::string body_for(const std::string& id) {
  runq::internal::TaskMessage m;
  m.id = id;
  m.name = "bench.noop";
  m.created = kNow;
  return runq::internal::encode_message(m);
}

// One open store and a private queue per benchmark.
class Bench {
 public:
  Bench(const std::string& url, std::string queue) : queue_(std::move(queue)) {
    auto opened = runq::open_store(url);
    if (!opened.ok())
      error_ = opened.status().to_string();
    else
      store_ = std::move(opened).value();
  }
  const std::string& error() const { return error_; }

  bool enqueue(std::size_t k) {
    std::vector<runq::NewTask> batch(k);
    for (auto& t : batch) {
      t.id = queue_ + "-" + std::to_string(g_next_id++);
      t.queue = queue_;
      t.body = body_for(t.id);
    }
    return store_->enqueue(batch, kNow).ok();
  }

  // Reserves up to k and settles what it got (ack with a result). Returns how many.
  std::size_t reserve_settle(std::size_t k) {
    runq::ReserveRequest req{{queue_}, "bench", int(k), 30'000, kNow};
    auto got = store_->reserve(req);
    if (!got.ok()) return 0;
    std::vector<runq::Settlement> done(got->size());
    for (std::size_t i = 0; i < got->size(); ++i) {
      done[i].id = (*got)[i].id;
      done[i].token = (*got)[i].token;
      done[i].result = R"({"state":"success","value":null})";
    }
    if (!done.empty() && !store_->settle(done, kNow).ok()) return 0;
    return done.size();
  }

  void purge() { (void)store_->purge_queue(queue_); }

 private:
  std::unique_ptr<runq::Store> store_;
  std::string queue_;
  std::string error_;
};

std::string queue_name(const char* what, std::int64_t k) {
  return std::string("mb-") + what + "-" + std::to_string(k) + "-" + std::to_string(getpid());
}

void enqueue_bench(benchmark::State& state, std::string url) {
  std::size_t k = std::size_t(state.range(0));
  Bench b(url, queue_name("enq", state.range(0)));
  if (!b.error().empty()) return state.SkipWithError(b.error().c_str());
  for (auto _ : state) {
    if (!b.enqueue(k)) return state.SkipWithError("enqueue failed");
  }
  state.SetItemsProcessed(std::int64_t(state.iterations() * k));
  b.purge();
}

void reserve_settle_bench(benchmark::State& state, std::string url) {
  std::size_t k = std::size_t(state.range(0));
  Bench b(url, queue_name("rs", state.range(0)));
  if (!b.error().empty()) return state.SkipWithError(b.error().c_str());
  std::int64_t items = 0;
  for (auto _ : state) {
    std::size_t got = b.reserve_settle(k);
    if (got < k) {  // refill outside the timed region, then retry
      state.PauseTiming();
      bool ok = b.enqueue(std::max<std::size_t>(k * 64, 4096));
      state.ResumeTiming();
      if (!ok) return state.SkipWithError("refilling the queue failed");
    }
    items += std::int64_t(got);
  }
  state.SetItemsProcessed(items);
  b.purge();
}

void cycle_bench(benchmark::State& state, std::string url) {
  std::size_t k = std::size_t(state.range(0));
  Bench b(url, queue_name("cyc", state.range(0)));
  if (!b.error().empty()) return state.SkipWithError(b.error().c_str());
  for (auto _ : state) {
    if (!b.enqueue(k)) return state.SkipWithError("enqueue failed");
    std::size_t got = 0;
    for (int tries = 0; got < k && tries < 100; ++tries) got += b.reserve_settle(k - got);
    if (got < k)
      return state.SkipWithError(
          ("reserved " + std::to_string(got) + " of " + std::to_string(k)).c_str());
  }
  state.SetItemsProcessed(std::int64_t(state.iterations() * k));
}

void register_store(const std::string& label, const std::string& url) {
  auto add = [&](const char* name, void (*fn)(benchmark::State&, std::string)) {
    benchmark::RegisterBenchmark(("BM_Store" + std::string(name) + "/" + label).c_str(), fn, url)
        ->Arg(1)
        ->Arg(16)
        ->Arg(256)
        ->UseRealTime();
  };
  add("Enqueue", enqueue_bench);
  add("ReserveSettle", reserve_settle_bench);
  add("Cycle", cycle_bench);
}

}  // namespace

int main(int argc, char** argv) {
  char tmpl[] = "/tmp/runq-microbench-XXXXXX";
  const char* dir = mkdtemp(tmpl);
  if (dir) register_store("sqlite", std::string("sqlite:") + dir + "/bench.db");
  if (const char* redis = std::getenv("RUNQ_BENCH_REDIS"); redis && *redis) {
    register_store("redis", redis);
  } else {
    std::fprintf(stderr,
                 "runq_microbench: RUNQ_BENCH_REDIS not set; Redis store benchmarks skipped\n");
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (dir) std::filesystem::remove_all(dir);
  return 0;
}
