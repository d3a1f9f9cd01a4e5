// w3: a producer at a steady rate while the workers run. Each task carries its enqueue time
// (CLOCK_MONOTONIC µs) and writes start - enqueue into shared memory. The run has two halves:
// in the first nobody waits for results, so enqueue→start is pickup latency alone (measured
// the way the peer benchmarks measure it); in the second a watcher thread on its own store
// connection waits for the result of every k-th task (at most ~500/s, so it keeps up and is
// waiting when the result lands) to measure enqueue→result as a client calling
// AsyncResult::get would see it, and enqueue→start is reported again under that load.
// With --ignore-result there is no second half.
#include <time.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "bench_app.hpp"
#include "drain.hpp"
#include "report.hpp"
#include "workloads.hpp"

namespace runq::bench {
namespace {

struct Sent {
  std::string id;
  std::int64_t enqueued_us;
};

// Waits for results in enqueue order and records enqueue→result latencies (ms).
class ResultWatcher {
 public:
  ResultWatcher(std::unique_ptr<Store> store, std::int64_t deadline_us)
      : store_(std::move(store)), deadline_us_(deadline_us), thread_([this] { loop(); }) {}
  ~ResultWatcher() { finish(); }

  void push(Sent s) {
    {
      std::lock_guard l(mu_);
      queue_.push_back(std::move(s));
    }
    cv_.notify_one();
  }
  // No more pushes; returns after every pushed task was seen or the deadline passed.
  void finish() {
    {
      std::lock_guard l(mu_);
      closed_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }
  std::vector<double>& latencies_ms() { return latencies_; }
  std::uint64_t missed() const { return missed_; }

 private:
  void loop() {
    while (true) {
      Sent s;
      {
        std::unique_lock l(mu_);
        cv_.wait(l, [&] { return closed_ || !queue_.empty(); });
        if (queue_.empty()) return;
        s = std::move(queue_.front());
        queue_.pop_front();
      }
      Millis left = std::max<Millis>(1, (deadline_us_ - mono_us()) / 1000);
      Result<TaskInfo> info = store_->wait_task(s.id, left);
      if (info.ok() && (is_final(info->state) || !info->result.empty())) {
        latencies_.push_back((mono_us() - s.enqueued_us) / 1000.0);
      } else {
        ++missed_;
      }
    }
  }

  std::unique_ptr<Store> store_;
  std::int64_t deadline_us_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Sent> queue_;
  bool closed_ = false;
  std::vector<double> latencies_;
  std::uint64_t missed_ = 0;
  std::thread thread_;
};

void sleep_until_us(std::int64_t t) {
  timespec ts{time_t(t / 1'000'000), long(t % 1'000'000) * 1000};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

// Index of the first task that has not started yet (they start roughly in order).
std::uint64_t started_prefix(const std::atomic<std::int64_t>* slots, std::uint64_t n,
                             std::uint64_t from) {
  while (from < n && slots[from].load(std::memory_order_acquire) != 0) ++from;
  return from;
}

std::vector<std::string> latency_row(const std::string& what, std::vector<double>& ms) {
  std::sort(ms.begin(), ms.end());
  if (ms.empty()) return {what, "0", "-", "-", "-", "-", "-"};
  return {what,
          group_digits(ms.size()),
          fixed(quantile(ms, 0.50), 3),
          fixed(quantile(ms, 0.99), 3),
          fixed(quantile(ms, 0.999), 3),
          fixed(ms.back(), 3),
          fixed(quantile(ms, 0.0), 3)};
}

nlohmann::json percentiles(const std::vector<double>& sorted) {
  return {{"count", sorted.size()},
          {"p50_ms", quantile(sorted, 0.50)},
          {"p99_ms", quantile(sorted, 0.99)},
          {"p999_ms", quantile(sorted, 0.999)},
          {"max_ms", sorted.empty() ? 0 : sorted.back()}};
}

}  // namespace

Report run_w3(const Config& cfg) {
  std::uint64_t n = std::uint64_t(cfg.rate * cfg.seconds);
  if (n == 0 || n > kMaxLatencySamples) {
    throw std::runtime_error("w3: --rate × --seconds must be between 1 and " +
                             group_digits(kMaxLatencySamples));
  }
  std::atomic<std::int64_t>* slots = map_shared_slots(n);
  if (!slots) throw std::runtime_error("w3: mapping shared memory failed");
  set_latency_slots(slots, n);  // before fork: the workers' task writes here

  WorkerPool pool(cfg);
  if (!pool.spawn()) throw std::runtime_error("starting worker processes: fork failed");
  BenchApp bench(cfg);
  (void)bench.app.store();
  Result<std::unique_ptr<Store>> watch_store = open_store(cfg.store_url);
  if (!watch_store.ok()) throw Error(watch_store.status());
  if (!pool.wait_ready(mono_us() + 60'000'000))
    throw std::runtime_error("workers: " + pool.failure());
  pool.go();
  // Let the workers go idle (blocked in wait_for_work): w3 measures pickup by idle workers.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  std::int64_t drain_deadline = mono_us() + std::int64_t((cfg.seconds + 30) * 1e6);
  ResultWatcher watcher(std::move(watch_store).value(), drain_deadline);
  std::uint64_t every =
      cfg.ignore_result ? 0 : std::max<std::uint64_t>(1, std::uint64_t(cfg.rate / 500));
  const std::uint64_t watched_from = every ? n / 2 : n;  // first task of the second half
  std::atomic<std::uint64_t> sent{0};
  std::int64_t t0 = mono_us();
  {
    Progress bar("producing", n, [&] { return sent.load(); });
    for (std::uint64_t i = 0; i < n; ++i) {
      sleep_until_us(t0 + std::int64_t(double(i) * 1e6 / cfg.rate));
      std::int64_t enq = mono_us();
      auto r = bench.stamp.delay(enq, std::int64_t(i));
      if (i >= watched_from && i % every == 0) watcher.push({r.id(), enq});
      sent.store(i + 1, std::memory_order_relaxed);
    }
  }
  double produce_s = (mono_us() - t0) / 1e6;
  std::uint64_t started = 0;
  {
    Progress bar("finishing", n, [&] { return started; });
    while ((started = started_prefix(slots, n, started)) < n && mono_us() < drain_deadline) {
      if (std::string f = pool.failure(); !f.empty()) throw std::runtime_error(f);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  watcher.finish();
  pool.stop();
  if (started < n) {
    throw std::runtime_error("w3: only " + group_digits(started) + " of " + group_digits(n) +
                             " tasks started within 30 s after the producer finished");
  }

  std::vector<double> start_ms, start_watched_ms;
  start_ms.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    (i < watched_from ? start_ms : start_watched_ms).push_back((slots[i].load() - 1) / 1000.0);
  }
  Table t({"latency (ms)", "samples", "p50", "p99", "p99.9", "max", "min"});
  t.add(latency_row("enqueue→start", start_ms));
  if (every) {
    t.add(latency_row("enqueue→start, results awaited", start_watched_ms));
    t.add(latency_row("enqueue→result", watcher.latencies_ms()));
  }

  Report r;
  r.json = {{"workload", cfg.workload}, {"store", cfg.store_url},           {"tasks", n},
            {"seconds", produce_s},     {"tasks_per_s", n / produce_s},     {"rate", cfg.rate},
            {"procs", cfg.procs},       {"threads", effective_threads(cfg)}};
  r.json.update(percentiles(start_ms));
  r.json["result"] = percentiles(watcher.latencies_ms());
  r.json["result"]["missed"] = watcher.missed();
  r.json["start_awaited"] = percentiles(start_watched_ms);
  r.table =
      t.render() + group_digits(n) + " tasks at " + fixed(cfg.rate, 0) + "/s for " +
      fixed(produce_s, 2) + " s (achieved " + group_digits(std::uint64_t(n / produce_s)) + "/s)" +
      (every ? "; second half: results awaited for 1 task in " + std::to_string(every) : "") + "\n";
  return r;
}

}  // namespace runq::bench
