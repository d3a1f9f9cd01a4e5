#include "chaos/chaos_run.hpp"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>
#include <tuple>
#include <vector>

#include "chaos/chaos_check.hpp"
#include "chaos/cluster.hpp"
#include "chaos/run_record.hpp"
#include "chaos/store_under_test.hpp"
#include "runq/runq.hpp"

namespace runq::chaos {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::atomic<bool> g_interrupted{false};

// After an outage, how long a beat may take to claim ticks again: a process start or a
// reconnect, plus the Beat's 1 s grace within which a late tick still counts as on time.
constexpr Millis kBeatComeback = 3000;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Enqueues opts.tasks record_sleep(record, task_ms) tasks in batches on its own thread. A batch
// whose enqueue call fails (the store was down past the URL's retry window) is not accepted:
// its ids are unknown to the check, and it is enqueued again with new ids.
class Producer {
 public:
  Producer(App& app, const ChaosOptions& opts, std::string record_path)
      : handle_(app.task("record_sleep", [](Context&, std::string, int) { return 0; })),
        join_(app.task("record_join",
                       [](Context&, std::vector<int> v, std::string) { return int(v.size()); })),
        opts_(opts),
        record_path_(std::move(record_path)) {}
  ~Producer() { join(); }

  void start() {
    thread_ = std::thread([this] { loop(); });
  }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  bool done() const { return done_.load(); }
  std::int64_t failed_batches() const { return failed_.load(); }
  std::vector<std::string> accepted() {
    std::lock_guard lock(mu_);
    return ids_;
  }
  std::int64_t accepted_count() {
    std::lock_guard lock(mu_);
    return static_cast<std::int64_t>(ids_.size());
  }
  std::vector<std::string> chord_bodies() {
    std::lock_guard lock(mu_);
    return bodies_;
  }

 private:
  void loop() {
    std::vector<std::tuple<std::string, int>> calls;
    std::int64_t left = opts_.tasks;
    // Bounded: every failed batch counts, and the run gives up after 100 of them.
    while (left > 0 && failed_ < 100 && !g_interrupted) {
      std::int64_t n = std::min<std::int64_t>(left, opts_.batch);
      calls.assign(static_cast<std::size_t>(n), {record_path_, opts_.task_ms});
      try {
        auto results = handle_.delay_many(calls);
        std::lock_guard lock(mu_);
        for (const auto& r : results) ids_.push_back(r.id());
        left -= n;
      } catch (const Error& e) {
        ++failed_;
        std::fprintf(stderr, "chaos: enqueue of a batch failed (retrying): %s\n", e.what());
        continue;
      }
      if (opts_.chord_every > 0 && ++batches_ % opts_.chord_every == 0) enqueue_chord();
    }
    done_ = true;
  }

  // One chord of record_sleep members and a record_join body, in one store batch. The
  // member ids are chosen here so the check can count their runs; a chord whose enqueue
  // fails is sent again with new ids (bounded like the batches).
  void enqueue_chord() {
    while (failed_ < 100 && !g_interrupted) {
      const std::string prefix =
          "chord-" + std::to_string(opts_.seed) + "-" + std::to_string(chords_sent_++) + "-";
      std::vector<Signature<int>> members;
      std::vector<std::string> member_ids;
      for (int i = 0; i < opts_.chord_members; ++i) {
        member_ids.push_back(prefix + std::to_string(i));
        members.push_back(handle_.s(record_path_, opts_.task_ms).id(member_ids.back()));
      }
      try {
        AsyncResult<int> body = runq::chord(runq::group(members), join_.s(record_path_)).delay();
        std::lock_guard lock(mu_);
        ids_.insert(ids_.end(), member_ids.begin(), member_ids.end());
        ids_.push_back(body.id());
        bodies_.push_back(body.id());
        return;
      } catch (const Error& e) {
        ++failed_;
        std::fprintf(stderr, "chaos: enqueue of a chord failed (retrying): %s\n", e.what());
      }
    }
  }

  TaskHandle<int, std::string, int> handle_;
  TaskHandle<int, std::vector<int>, std::string> join_;
  const ChaosOptions& opts_;
  std::string record_path_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> ids_;
  std::vector<std::string> bodies_;  // chord bodies (also in ids_)
  std::int64_t batches_ = 0;         // producer thread only
  std::int64_t chords_sent_ = 0;     // producer thread only
  std::atomic<bool> done_{false};
  std::atomic<std::int64_t> failed_{0};
};

// Tasks reserved right now, summed over the queues: what one fault can make run twice.
// -1 when the store does not answer.
std::int64_t in_flight(Store& store) {
  Result<StoreStats> st = store.stats(runq::Clock::system().now_ms());
  if (!st.ok()) return -1;
  std::int64_t n = 0;
  for (const QueueStats& q : st->queues) n += q.running;
  return n;
}

// The random fault schedule and its bookkeeping.
class FaultInjector {
 public:
  FaultInjector(const ChaosOptions& opts, Cluster& cluster, StoreUnderTest& store, Store& client,
                ChaosReport& report, std::ofstream& events)
      : opts_(opts),
        cluster_(cluster),
        store_(store),
        client_(client),
        report_(report),
        events_(events),
        rng_(opts.seed) {
    schedule_next();
  }

  // Fires the faults that are due. False (with report_.failure) if a process or the store
  // could not be brought back.
  bool step() {
    if (stopped_worker_ >= 0 && Clock::now() >= cont_at_) {
      cluster_.sigcont(Role::kWorker, stopped_worker_);
      log("sigcont worker " + std::to_string(stopped_worker_));
      stopped_worker_ = -1;
    }
    if (Clock::now() < next_) return true;
    schedule_next();
    return fire();
  }

  // SIGCONT of a worker still stopped (before the drain without faults).
  void end() {
    if (stopped_worker_ < 0) return;
    cluster_.sigcont(Role::kWorker, stopped_worker_);
    stopped_worker_ = -1;
  }

 private:
  void schedule_next() {
    std::uniform_real_distribution<double> d(0.0, 2.0 * opts_.fault_every_s);
    next_ = Clock::now() + std::chrono::milliseconds(static_cast<int>(d(rng_) * 1000));
  }

  bool fire() {
    // What is in flight now bounds the duplicates this fault can cause; a fault is skipped
    // when the store cannot say (it is still coming back from the last one).
    std::int64_t flight = in_flight(client_);
    if (flight < 0) return true;
    std::uniform_int_distribution<int> pick(0, 99);
    int p = pick(rng_);
    int worker = std::uniform_int_distribution<int>(0, opts_.workers - 1)(rng_);
    // 15% stop a worker (one at a time; else a kill), 15% kill the store, 20% kill a beat,
    // 50% kill a worker.
    if (p < 15 && stopped_worker_ < 0) return stop_worker(worker, flight);
    if (p >= 15 && p < 30) return kill_store(flight);
    if (p >= 30 && p < 50 && opts_.beats > 0) {
      int beat = std::uniform_int_distribution<int>(0, opts_.beats - 1)(rng_);
      ++report_.beat_kills;
      report_.duplicate_bound += flight;
      log("kill -9 beat " + std::to_string(beat));
      return restarted(cluster_.kill9_and_restart(Role::kBeat, beat));
    }
    if (worker == stopped_worker_) return true;
    ++report_.worker_kills;
    report_.duplicate_bound += flight;
    log("kill -9 worker " + std::to_string(worker) + " (in flight " + std::to_string(flight) + ")");
    return restarted(cluster_.kill9_and_restart(Role::kWorker, worker));
  }

  bool stop_worker(int worker, std::int64_t flight) {
    ++report_.worker_stops;
    report_.duplicate_bound += flight;
    stopped_worker_ = worker;
    cont_at_ = Clock::now() + std::chrono::milliseconds(opts_.lease_ms * 3 / 2 + 500);
    cluster_.sigstop(Role::kWorker, worker);
    log("sigstop worker " + std::to_string(worker) + " (in flight " + std::to_string(flight) + ")");
    return true;
  }

  bool kill_store(std::int64_t flight) {
    ++report_.store_kills;
    report_.duplicate_bound += flight;
    if (!store_.has_server()) {
      log("kill -9 of every process on the store (in flight " + std::to_string(flight) + ")");
      stopped_worker_ = -1;
      Millis down = runq::Clock::system().now_ms();
      bool ok = restarted(cluster_.kill9_all_and_restart());
      report_.beat_outages.emplace_back(down, runq::Clock::system().now_ms() + kBeatComeback);
      return ok;
    }
    log("kill -9 store server (in flight " + std::to_string(flight) + ")");
    Millis down = runq::Clock::system().now_ms();
    store_.kill9();
    std::this_thread::sleep_for(std::chrono::milliseconds(
        std::uniform_int_distribution<int>(100, 1000)(rng_)));  // the outage
    bool ok = store_.restart();
    report_.beat_outages.emplace_back(down, runq::Clock::system().now_ms() + kBeatComeback);
    if (ok) return true;
    report_.failure = "store restart failed: " + store_.error();
    return false;
  }

  bool restarted(bool ok) {
    if (!ok) report_.failure = cluster_.error();
    return ok;
  }

  void log(const std::string& what) {
    events_ << std::chrono::duration<double>(Clock::now().time_since_epoch()).count() << " " << what
            << "\n"
            << std::flush;
  }

  const ChaosOptions& opts_;
  Cluster& cluster_;
  StoreUnderTest& store_;
  Store& client_;
  ChaosReport& report_;
  std::ofstream& events_;
  std::mt19937_64 rng_;
  const Clock::time_point started_ = Clock::now();
  Clock::time_point next_;
  int stopped_worker_ = -1;
  Clock::time_point cont_at_;
};

extern "C" void on_signal(int) { g_interrupted = true; }

// Waits (bounded by `deadline`) until `pred` holds, refreshing the record; false on timeout
// or interrupt.
template <typename Pred>
bool wait_for(Clock::time_point deadline, Pred pred) {
  while (!pred()) {
    if (Clock::now() >= deadline || g_interrupted) return false;
    std::this_thread::sleep_for(100ms);
  }
  return true;
}

}  // namespace

ChaosReport run_chaos(const ChaosOptions& opts) {
  ChaosReport report;
  const auto t0 = Clock::now();
  const auto deadline =
      t0 + std::chrono::milliseconds(static_cast<int64_t>(opts.max_seconds * 1e3));
  ::signal(SIGINT, on_signal);
  ::signal(SIGTERM, on_signal);

  auto store = start_store_under_test(opts.store, opts.dir, report.failure);
  if (!store) {
    report.skipped = true;
    return report;
  }
  const std::string record_path = opts.dir + "/record.txt";
  const std::string tick_path = opts.dir + "/ticks.txt";
  std::ofstream events(opts.dir + "/events.log");

  App app(AppOptions{store->url()});
  Producer producer(app, opts, record_path);
  Cluster cluster(ClusterOptions{.app_binary = opts.app_binary,
                                 .store_url = store->url(),
                                 .log_dir = opts.dir,
                                 .workers = opts.workers,
                                 .concurrency = opts.concurrency,
                                 .lease = std::to_string(opts.lease_ms) + "ms",
                                 .beats = opts.beats,
                                 .tick_file = tick_path});
  const Millis beats_started = runq::Clock::system().now_ms();
  if (!cluster.start_all()) {
    report.failure = cluster.error();
    return report;
  }
  producer.start();

  // Faults until every accepted task has run at least once.
  RunRecord record(record_path);
  FaultInjector faults(opts, cluster, *store, *app.store(), report, events);
  bool drained = wait_for(deadline, [&] {
    record.refresh();
    if (std::string crash = cluster.unexpected_exit(); !crash.empty()) {
      report.failure = crash;
      return true;
    }
    if (!faults.step()) return true;
    return producer.done() && record.distinct() >= producer.accepted_count();
  });
  faults.end();
  producer.join();
  report.accepted = producer.accepted_count();
  report.seconds = seconds_since(t0);
  if (!report.failure.empty()) return report;
  if (!drained) report.failure = g_interrupted ? "interrupted" : "timed out before every task ran";

  // No faults from here: the beats stop, the workers finish what is queued, then stop.
  cluster.stop(Role::kBeat, 10000);
  wait_for(deadline, [&] { return queued_total(*app.store()) == 0; });
  cluster.stop(Role::kWorker, 30000);
  record.refresh();

  report.accepted = producer.accepted_count();
  check_tasks(*app.store(), producer.accepted(), record, report);
  check_chords(*app.store(), producer.chord_bodies(), opts.chord_members, report);
  RunRecord ticks(tick_path);
  ticks.refresh();
  check_ticks(*app.store(), beats_started, ticks, report);
  report.still_queued = queued_total(*app.store());
  report.seconds = seconds_since(t0);
  return report;
}

}  // namespace runq::chaos
