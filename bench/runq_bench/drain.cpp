#include "drain.hpp"

#include <stdexcept>
#include <thread>
#include <tuple>
#include <vector>

#include "bench_app.hpp"
#include "report.hpp"

namespace runq::bench {
namespace {

std::runtime_error failed(const std::string& what) { return std::runtime_error(what); }

// Checks the record of one drained task: SUCCESS, with a result unless results are ignored.
std::string verify_task(BenchApp& bench, const std::string& id, bool ignore_result) {
  Result<TaskInfo> info = bench.app.store()->get_task(id, bench.app.clock().now_ms());
  if (!info.ok()) {
    return ignore_result && is_not_found(info.status()) ? "ok" : info.status().to_string();
  }
  if (info->state != TaskState::kSuccess) {
    return "last task is " + std::string(task_state_name(info->state)) + ", not success";
  }
  if (!ignore_result && info->result.empty()) return "last task has no stored result";
  return "ok";
}

// Polls the pool until `n` tasks are settled. Throws when a worker process fails.
void wait_drained(WorkerPool& pool, std::uint64_t n) {
  Progress bar("draining", n, [&] { return pool.totals().processed; });
  while (pool.totals().processed < n) {
    if (std::string f = pool.failure(); !f.empty()) throw failed(f);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace

int effective_threads(const Config& cfg) {
  return cfg.threads > 0 ? cfg.threads : int(std::max(1u, std::thread::hardware_concurrency()));
}

double enqueue_batches(BenchApp& bench, std::uint64_t n, int batch,
                       std::atomic<std::uint64_t>& done, std::string* last_id) {
  std::vector<std::tuple<>> calls(std::size_t(std::max(1, batch)));
  std::int64_t start = mono_us();
  while (done.load() < n) {
    std::size_t k = std::size_t(std::min<std::uint64_t>(calls.size(), n - done.load()));
    auto results = bench.noop.delay_many(std::span<const std::tuple<>>(calls.data(), k));
    if (last_id && !results.empty()) *last_id = results.back().id();
    done.fetch_add(k);
  }
  return (mono_us() - start) / 1e6;
}

DrainRun run_drain(const Config& cfg, std::uint64_t n) {
  DrainRun run;
  run.tasks = n;
  WorkerPool pool(cfg);
  if (!pool.spawn()) throw failed("starting worker processes: fork failed");

  BenchApp bench(cfg);
  std::string last_id;
  {
    std::atomic<std::uint64_t> queued{0};
    Progress bar("queueing", n, [&] { return queued.load(); });
    run.enqueue_s = enqueue_batches(bench, n, cfg.batch, queued, &last_id);
  }
  run.queued = sample_store(cfg.store_url);

  if (!pool.wait_ready(mono_us() + 60'000'000)) {
    std::string f = pool.failure();
    throw failed(f.empty() ? "worker processes did not open the store within 60 s" : f);
  }
  std::int64_t go_us = mono_us();
  pool.go();
  wait_drained(pool, n);
  run.workers = pool.stop();
  run.drain_s = (run.workers.last_us - run.workers.first_us) / 1e6;
  run.wall_s = (run.workers.last_us - go_us) / 1e6;
  run.after = sample_store(cfg.store_url);
  run.store_cpu_s = run.after.cpu_s - run.queued.cpu_s;
  run.verified = verify_task(bench, last_id, cfg.ignore_result);
  return run;
}

nlohmann::json DrainRun::to_json() const {
  return {
      {"tasks", tasks},
      {"seconds", drain_s},
      {"tasks_per_s", tasks_per_s()},
      {"us_per_task", tasks ? drain_s * 1e6 / tasks : 0},
      {"wall_s", wall_s},
      {"enqueue_s", enqueue_s},
      {"enqueue_per_s", enqueue_s > 0 ? tasks / enqueue_s : 0},
      {"worker_cpu_s", workers.cpu_s},
      {"worker_cpu_us_per_task", tasks ? workers.cpu_s * 1e6 / tasks : 0},
      {"worker_max_rss_kb", workers.max_rss_kb},
      {"store_kind", queued.kind},
      {"store_queued_kb", queued.memory_kb},
      {"store_after_kb", after.memory_kb},
      {"store_rss_kb", after.rss_kb},
      {"store_cpu_s", store_cpu_s},
      {"verified", verified},
  };
}

}  // namespace runq::bench
