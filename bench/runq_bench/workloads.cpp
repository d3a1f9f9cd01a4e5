// w1, w1-batch, w2 and w4 (w3 is in latency.cpp).
#include <atomic>
#include <thread>
#include <vector>

#include "bench_app.hpp"
#include "drain.hpp"
#include "report.hpp"
#include "runq/store.hpp"
#include "workloads.hpp"

namespace runq::bench {
namespace {

std::string results_label(const Config& cfg) {
  return cfg.ignore_result ? "ignore_result" : "results stored";
}

nlohmann::json base_json(const Config& cfg) {
  return {{"workload", cfg.workload}, {"store", cfg.store_url}};
}

// Leaves the store as it was: enqueue-only workloads queue tasks nobody will run.
void purge(BenchApp& bench, const Config& cfg) { (void)bench.app.store()->purge_queue(cfg.queue); }

Report enqueue_report(const Config& cfg, std::uint64_t n, double secs, const std::string& how) {
  Report r;
  double rate = secs > 0 ? n / secs : 0;
  r.json = base_json(cfg);
  r.json.update({{"tasks", n},
                 {"seconds", secs},
                 {"tasks_per_s", rate},
                 {"us_per_task", n ? secs * 1e6 / n : 0}});
  if (cfg.workload == "w1-batch") r.json["batch"] = cfg.batch;
  Table t({"enqueue (" + how + ")", "tasks", "seconds", "tasks/s", "µs/task"});
  t.add({cfg.store_url, group_digits(n), fixed(secs, 3), group_digits(std::uint64_t(rate)),
         fixed(n ? secs * 1e6 / n : 0, 2)});
  r.table = t.render();
  return r;
}

std::vector<std::string> drain_row(const std::string& label, const DrainRun& d) {
  return {label,
          group_digits(d.tasks),
          fixed(d.drain_s, 3),
          group_digits(std::uint64_t(d.tasks_per_s())),
          fixed(d.tasks ? d.drain_s * 1e6 / d.tasks : 0, 2),
          fixed(d.tasks ? d.workers.cpu_s * 1e6 / d.tasks : 0, 1),
          mem_kb(d.workers.max_rss_kb),
          d.queued.kind == "redis"
              ? mem_kb(d.queued.memory_kb) + " / " + fixed(d.store_cpu_s, 2) + "s"
              : mem_kb(d.queued.memory_kb),
          d.verified};
}

Table drain_table() {
  return Table({"drain", "tasks", "seconds", "tasks/s", "µs/task", "worker CPU µs/task",
                "worker RSS", "store size (queued) / CPU", "check"});
}

}  // namespace

// Each producer thread makes its share of the delay() calls one after another, as the request
// threads of a web service would; they share the App (and its store connections).
Report run_w1(const Config& cfg) {
  BenchApp bench(cfg);
  (void)bench.app.store();
  std::atomic<std::uint64_t> done{0};
  const auto producers = std::uint64_t(std::max(1, cfg.producers));
  std::int64_t start;
  {
    Progress bar("enqueue (delay)", cfg.tasks, [&] { return done.load(); });
    start = mono_us();
    std::vector<std::thread> threads;
    for (std::uint64_t p = 0; p < producers; ++p) {
      threads.emplace_back([&, p] {
        std::uint64_t share = cfg.tasks / producers + (p < cfg.tasks % producers ? 1 : 0);
        for (std::uint64_t i = 0; i < share; ++i) {
          (void)bench.noop.delay();
          done.fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
    for (std::thread& t : threads) t.join();
  }
  double secs = (mono_us() - start) / 1e6;
  purge(bench, cfg);
  Report r = enqueue_report(
      cfg, cfg.tasks, secs,
      producers == 1 ? "one delay() per task"
                     : "one delay() per task, " + std::to_string(producers) + " threads");
  r.json["producers"] = producers;
  return r;
}

Report run_w1_batch(const Config& cfg) {
  BenchApp bench(cfg);
  (void)bench.app.store();
  std::atomic<std::uint64_t> done{0};
  double secs;
  {
    Progress bar("enqueue (batch)", cfg.tasks, [&] { return done.load(); });
    secs = enqueue_batches(bench, cfg.tasks, cfg.batch, done);
  }
  purge(bench, cfg);
  return enqueue_report(cfg, cfg.tasks, secs,
                        "delay_many, " + std::to_string(cfg.batch) + " per call");
}

Report run_w2(const Config& cfg) {
  DrainRun d = run_drain(cfg, cfg.tasks);
  Report r;
  r.json = base_json(cfg);
  r.json.update(d.to_json());
  r.json.update({{"procs", cfg.procs},
                 {"threads", effective_threads(cfg)},
                 {"ignore_result", cfg.ignore_result}});
  Table t = drain_table();
  t.add(drain_row(std::to_string(cfg.procs) + " proc × " + std::to_string(effective_threads(cfg)) +
                      " threads, " + results_label(cfg),
                  d));
  r.table = t.render() + "queueing them first took " + fixed(d.enqueue_s, 3) + " s (" +
            group_digits(std::uint64_t(d.enqueue_s > 0 ? d.tasks / d.enqueue_s : 0)) +
            " tasks/s)\n";
  return r;
}

Report run_w4(const Config& cfg) {
  std::vector<std::uint64_t> sizes;
  for (std::uint64_t n : {10'000ull, 100'000ull, 1'000'000ull}) {
    if (n <= cfg.tasks) sizes.push_back(n);
  }
  if (sizes.empty()) sizes.push_back(cfg.tasks);
  Report r;
  r.json = base_json(cfg);
  Table t = drain_table();
  std::uint64_t total = 0;
  double seconds = 0, first_cost = 0, last_cost = 0;
  for (std::uint64_t n : sizes) {
    DrainRun d = run_drain(cfg, n);
    total += n;
    seconds += d.drain_s;
    last_cost = d.drain_s / double(n);
    if (first_cost == 0) first_cost = last_cost;
    r.json["runs"].push_back(d.to_json());
    t.add(drain_row("N = " + group_digits(n), d));
  }
  double ratio = first_cost > 0 ? last_cost / first_cost : 0;
  r.json.update({{"tasks", total},
                 {"seconds", seconds},
                 {"tasks_per_s", seconds > 0 ? total / seconds : 0},
                 {"cost_ratio_largest_vs_smallest", ratio},
                 {"procs", cfg.procs},
                 {"threads", effective_threads(cfg)},
                 {"ignore_result", cfg.ignore_result}});
  r.table = t.render() + "cost per task at N = " + group_digits(sizes.back()) + " is " +
            fixed(ratio, 2) + "× the cost at N = " + group_digits(sizes.front()) + "\n";
  return r;
}

}  // namespace runq::bench
