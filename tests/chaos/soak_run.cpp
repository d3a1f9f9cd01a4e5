#include "chaos/soak_run.hpp"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <tuple>
#include <utility>

#include "chaos/chaos_check.hpp"
#include "chaos/cluster.hpp"
#include "chaos/process_stats.hpp"
#include "chaos/store_under_test.hpp"
#include "runq/runq.hpp"

namespace runq::chaos {
namespace {

using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kBatchEvery = 100ms;       // the producer's pace
constexpr std::int64_t kMaxBatch = 5000;  // tasks per enqueue call, at most
constexpr auto kGiveUpAfter = 60s;        // enqueue failing for this long ends the run
constexpr int kSamplesPerBatch = 4;       // tasks per batch whose pickup latency is read
constexpr Millis kSampleAge = 2000;       // a sampled task is read once it is this old
constexpr auto kResultTtl = 60s;          // results expire (and are cleaned up) meanwhile

std::atomic<bool> g_interrupted{false};
extern "C" void on_signal(int) { g_interrupted = true; }

double since(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

std::int64_t file_size(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<std::int64_t>(n);
}

using AddHandle = TaskHandle<int, int, int>;

void enqueue(const AddHandle& add, std::int64_t n,
             std::vector<std::pair<std::string, Millis>>* sampled) {
  std::vector<std::tuple<int, int>> calls(static_cast<std::size_t>(n), {1, 2});
  auto results = add.delay_many(calls);
  if (!sampled || results.empty()) return;
  Millis now = Clock::system().now_ms();
  for (int k = 1; k <= kSamplesPerBatch; ++k) {
    sampled->emplace_back(
        results[results.size() * static_cast<std::size_t>(k) / kSamplesPerBatch - 1].id(), now);
  }
}

std::uint64_t completed(Store& store) {
  Result<StoreStats> st = store.stats(Clock::system().now_ms());
  return st.ok() ? st->completed : 0;
}

// The maximum sustained rate: the queue is kept full (at least kProbeBacklog tasks) for
// `seconds`, and the completions of the second half are counted. The first half lets
// results start to expire, so the rate includes their cleanup: a burst drained from an empty
// store overstates what the store sustains (measured: about 2x on Redis).
double probe_max_rate(const AddHandle& add, Store& store, double seconds) {
  constexpr std::int64_t kProbeBacklog = 20000;
  auto t0 = SteadyClock::now();
  std::uint64_t at_half = 0;
  SteadyClock::time_point half;
  while (since(t0) < seconds && !g_interrupted) {
    if (at_half == 0 && since(t0) >= seconds / 2) {
      at_half = completed(store);
      half = SteadyClock::now();
    }
    std::int64_t depth = queued_total(store);
    for (std::int64_t n = depth < 0 ? 0 : kProbeBacklog - depth; n > 0; n -= 1000) {
      enqueue(add, std::min<std::int64_t>(n, 1000), nullptr);
    }
    std::this_thread::sleep_for(50ms);
  }
  if (at_half == 0) return 0;
  double rate = static_cast<double>(completed(store) - at_half) / since(half);
  // The backlog drains before the steady phase, so it starts from an empty queue.
  for (auto end = SteadyClock::now() + 120s;
       queued_total(store) != 0 && SteadyClock::now() < end;) {
    std::this_thread::sleep_for(50ms);
  }
  return rate;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// Pickup latencies of the sampled tasks old enough to have started; removes them from
// `sampled`. A task not started yet counts with its age so far (a lower bound).
std::vector<double> read_latencies(Store& store,
                                   std::vector<std::pair<std::string, Millis>>& sampled) {
  std::vector<double> out;
  Millis now = Clock::system().now_ms();
  auto it = sampled.begin();
  for (; it != sampled.end() && it->second <= now - kSampleAge; ++it) {
    Result<TaskStatus> st = read_task_status(store, it->first, now);
    if (st.ok() && st->started > 0) {
      out.push_back(static_cast<double>(st->started - st->enqueued));
    } else {
      out.push_back(static_cast<double>(now - it->second));
    }
  }
  sampled.erase(sampled.begin(), it);
  return out;
}

void write_row(std::ofstream& csv, const SoakSample& s) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%.1f,%.1f,%lld,%lld,%.2f,%.2f,%lld,%lld,%lld,%lld,%lld,%lld\n",
                s.t_s, s.throughput, (long long)s.depth, (long long)s.behind, s.p50_ms, s.p99_ms,
                (long long)s.worker_rss_kib, (long long)s.worker_fds, (long long)s.store_rss_kib,
                (long long)s.store_fds, (long long)s.store_bytes, (long long)s.enqueue_errors);
  csv << buf << std::flush;
}

}  // namespace

SoakReport run_soak(const SoakOptions& opts) {
  SoakReport report;
  ::signal(SIGINT, on_signal);
  ::signal(SIGTERM, on_signal);
  auto store = start_store_under_test(opts.store, opts.dir, report.failure);
  if (!store) {
    report.skipped = true;
    return report;
  }
  App app(AppOptions{store->url()});
  auto add = app.task(
      "add", [](int a, int b) { return a + b; }, TaskOptions{}.result_ttl(kResultTtl));
  Cluster cluster(ClusterOptions{.app_binary = opts.app_binary,
                                 .store_url = store->url(),
                                 .log_dir = opts.dir,
                                 .workers = opts.workers,
                                 .concurrency = opts.concurrency,
                                 .lease = "30s",
                                 .beats = 1,
                                 .tick_file = opts.dir + "/ticks.txt"});
  if (!cluster.start_all()) {
    report.failure = cluster.error();
    return report;
  }
  Store& client = *app.store();
  if (opts.rate <= 0) report.max_rate = probe_max_rate(add, client, opts.probe_seconds);
  report.rate = opts.rate > 0 ? opts.rate : report.max_rate * opts.fraction;
  if (report.rate <= 0) {
    report.failure = "could not measure the maximum rate";
    return report;
  }
  std::printf("soak: %s, max %.0f tasks/s, steady load %.0f tasks/s for %.0f s\n",
              opts.store.c_str(), report.max_rate, report.rate, opts.seconds);
  std::fflush(stdout);

  std::ofstream csv(opts.csv);
  csv << "t_s,throughput,depth,behind,p50_ms,p99_ms,worker_rss_kib,worker_fds,store_rss_kib,"
         "store_fds,store_bytes,enqueue_errors\n";
  std::vector<std::pair<std::string, Millis>> sampled;
  const auto t0 = SteadyClock::now();
  auto next_batch = t0,
       next_sample = t0 + std::chrono::milliseconds(static_cast<int>(opts.sample_s * 1000));
  std::int64_t enqueued = 0, errors = 0;
  auto last_accepted = SteadyClock::now();
  std::uint64_t completed_before = 0;
  if (auto st = client.stats(Clock::system().now_ms()); st.ok()) completed_before = st->completed;
  auto last_sample = t0;
  const std::string db = opts.dir + "/runq.db";
  while (since(t0) < opts.seconds && !g_interrupted) {
    std::this_thread::sleep_until(next_batch);
    next_batch = std::max(next_batch + kBatchEvery, SteadyClock::now());
    // Due by the clock, not by the number of rounds: a slow enqueue shows up as `behind`
    // (load the store did not take) instead of silently lowering the rate.
    auto due = static_cast<std::int64_t>(report.rate * since(t0));
    std::int64_t n = std::min<std::int64_t>(due - enqueued, kMaxBatch);
    try {
      if (n > 0) enqueue(add, n, &sampled);
      enqueued += std::max<std::int64_t>(n, 0);
      last_accepted = SteadyClock::now();
    } catch (const Error& e) {
      // A stall (e.g. an fsync held up by other disk traffic) is part of what a soak sees:
      // counted, and the tasks stay due. Only a store that takes nothing for a minute ends it.
      ++errors;
      std::fprintf(stderr, "soak: enqueue failed (retrying): %s\n", e.what());
      if (SteadyClock::now() - last_accepted > kGiveUpAfter) {
        report.failure = std::string("the store took no task for a minute: ") + e.what();
        break;
      }
    }
    if (SteadyClock::now() < next_sample) continue;
    next_sample += std::chrono::milliseconds(static_cast<int>(opts.sample_s * 1000));
    if (std::string crash = cluster.unexpected_exit(); !crash.empty()) {
      report.failure = crash;
      break;
    }
    SoakSample s;
    s.t_s = since(t0);
    if (auto st = client.stats(Clock::system().now_ms()); st.ok()) {
      s.throughput = static_cast<double>(st->completed - completed_before) / since(last_sample);
      completed_before = st->completed;
      for (const QueueStats& q : st->queues) s.depth += q.pending + q.scheduled;
      s.behind = static_cast<std::int64_t>(report.rate * since(t0)) - enqueued;
    }
    last_sample = SteadyClock::now();
    std::vector<double> lat = read_latencies(client, sampled);
    s.p50_ms = percentile(lat, 0.50);
    s.p99_ms = percentile(lat, 0.99);
    for (int i = 0; i < cluster.count(Role::kWorker); ++i) {
      s.worker_rss_kib += rss_kib(cluster.pid(Role::kWorker, i));
      s.worker_fds += open_fds(cluster.pid(Role::kWorker, i));
    }
    s.store_rss_kib = rss_kib(store->server_pid());
    s.store_fds = open_fds(store->server_pid());
    if (!store->has_server()) s.store_bytes = file_size(db) + file_size(db + "-wal");
    s.enqueue_errors = std::exchange(errors, 0);
    report.enqueue_errors += s.enqueue_errors;
    write_row(csv, s);
    report.samples.push_back(s);
  }
  cluster.stop(Role::kBeat, 10000);
  cluster.stop(Role::kWorker, 30000);
  if (g_interrupted && report.failure.empty()) report.failure = "interrupted";
  report.growth = check_growth(report.samples, report.rate);
  return report;
}

std::vector<std::string> check_growth(const std::vector<SoakSample>& samples, double rate) {
  std::vector<std::string> out;
  // Until results start to expire and cleanup (once a minute) reclaims them, the store
  // grows by design: the warm-up is the result TTL plus a cleanup period and some margin.
  constexpr double kWarmupS = 120;
  std::size_t warmup = 0;
  while (warmup < samples.size() && samples[warmup].t_s < kWarmupS) ++warmup;
  if (samples.size() < warmup + 4) return out;  // too short to tell a trend
  std::size_t n = samples.size() - warmup, q = n / 4;
  auto mean = [&](std::size_t from, auto field) {
    double sum = 0;
    for (std::size_t i = from; i < from + q; ++i) sum += static_cast<double>(field(samples[i]));
    return sum / static_cast<double>(q);
  };
  std::size_t first = warmup, last = samples.size() - q;
  auto check_rss = [&](const char* what, auto field) {
    double a = mean(first, field), b = mean(last, field);
    if (b > a + std::max(0.2 * a, 16.0 * 1024)) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "%s grew from %.0f KiB to %.0f KiB", what, a, b);
      out.push_back(buf);
    }
  };
  check_rss("worker RSS", [](const SoakSample& s) { return s.worker_rss_kib; });
  check_rss("store RSS", [](const SoakSample& s) { return s.store_rss_kib; });
  auto check_abs = [&](const char* what, auto field, double bound) {
    double a = mean(first, field), b = mean(last, field);
    if (b > a + bound) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "%s grew from %.1f to %.1f (bound +%.0f)", what, a, b, bound);
      out.push_back(buf);
    }
  };
  check_abs(
      "worker fds", [](const SoakSample& s) { return s.worker_fds; }, 8);
  check_abs(
      "store fds", [](const SoakSample& s) { return s.store_fds; }, 8);
  check_abs(
      "queue depth", [](const SoakSample& s) { return s.depth; }, 5 * rate);
  return out;
}

}  // namespace runq::chaos
