// `beat`: only the periodic scheduler; and BeatRunner, which `worker --beat` shares.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/beat_runner.hpp"
#include "cli/cli_support.hpp"
#include "cli/commands.hpp"
#include "cli/signal_waiter.hpp"
#include "core/message.hpp"
#include "runq/app.hpp"
#include "runq/schedule.hpp"

namespace runq::internal {

// Defined in the scheduler layer (scheduler/internal/ticks.hpp, which is private to it).
std::string periodic_task_id(std::string_view schedule_name, Millis tick);

namespace {

NewTask periodic_task(App& app, const PeriodicDefinition& def, Millis tick) {
  TaskMessage m;
  m.id = periodic_task_id(def.name, tick);
  m.name = def.task;
  m.args = def.args_json;
  m.queue = def.task_options.queue();
  m.priority = def.task_options.priority();
  m.created = app.clock().now_ms();
  m.ignore_result = def.task_options.ignore_result();
  m.result_ttl = def.task_options.result_ttl();
  m.schedule = def.name;
  NewTask t;
  t.id = m.id;
  t.queue = m.queue;
  t.priority = m.priority;
  t.max_deliveries = std::max(1, def.task_options.max_deliveries());
  t.body = encode_message(m);
  return t;
}

std::string info_extra(const PeriodicDefinition& def) {
  nlohmann::json args = nlohmann::json::parse(def.args_json, nullptr, false);
  return nlohmann::json{{"task", def.task},
                        {"args", args.is_discarded() ? nlohmann::json(def.args_json) : args}}
      .dump();
}

}  // namespace

std::vector<PeriodicEntry> periodic_entries(App& app) {
  std::vector<PeriodicEntry> out;
  for (const PeriodicDefinition& def : app.periodic_definitions()) {
    PeriodicEntry e;
    e.name = def.name;
    e.schedule = def.schedule;
    e.misfire = def.options.misfire;
    e.run_all_limit = def.options.run_all_limit;
    e.make_task = [&app, &def](Millis tick) { return periodic_task(app, def, tick); };
    e.info_json_extra = info_extra(def);
    out.push_back(std::move(e));
  }
  return out;
}

BeatRunner::BeatRunner(App& app, std::shared_ptr<Store> store, std::string cmd)
    : store_(std::move(store)),
      clock_(app.clock()),
      cmd_(std::move(cmd)),
      beat_(*store_, clock_, periodic_entries(app)) {}

Result<std::unique_ptr<BeatRunner>> BeatRunner::start(App& app, std::shared_ptr<Store> store,
                                                      std::string cmd) {
  std::unique_ptr<BeatRunner> r(new BeatRunner(app, std::move(store), std::move(cmd)));
  Status s = r->beat_.register_schedules();
  // A busy or briefly unreachable store is retried by the loop; bad schedules are fatal.
  if (!s.ok() && !is_unavailable(s)) return s;
  r->registered_ = s.ok();
  if (!s.ok()) r->report(s);
  r->thread_ = std::thread([p = r.get()] { p->loop(); });
  return r;
}

BeatRunner::~BeatRunner() { stop(); }

void BeatRunner::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BeatRunner::loop() {
  constexpr Millis kPollMs = 1000;  // notices pauses, resumes and store recovery this fast
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    if (!registered_) registered_ = beat_.register_schedules().ok();
    Result<int> pass = beat_.tick();
    report(pass);
    Millis next = beat_.next_wakeup();
    Millis wait = kPollMs;
    if (pass.ok() && next != kNever) {
      wait = std::clamp<Millis>(next - clock_.now_ms(), 0, kPollMs);
    }
    lock.lock();
    cv_.wait_for(lock, std::chrono::milliseconds(wait), [&] { return stopping_; });
  }
}

void BeatRunner::report(const Result<int>& pass) {
  if (pass.ok()) {
    if (!last_error_.empty()) std::fprintf(stderr, "runq %s: scheduler recovered\n", cmd_.c_str());
    last_error_.clear();
    if (*pass > 0)
      std::fprintf(stderr, "runq %s: fired %d periodic tick(s)\n", cmd_.c_str(), *pass);
    return;
  }
  std::string msg = pass.status().message();
  if (msg != last_error_) {
    std::fprintf(stderr, "runq %s: scheduler pass failed (retrying): %s\n", cmd_.c_str(),
                 msg.c_str());
  }
  last_error_ = msg;
}

int run_beat_cmd(App& app, const BeatArgs&) {
  constexpr std::string_view kCmd = "beat";
  if (app.periodic_definitions().empty()) {
    return fail(kCmd,
                "no periodic schedules are registered in this binary; run beat from your "
                "application's binary (app.main) after app.periodic(...)",
                kExitFailure);
  }
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  SignalWaiter signals(std::string(kCmd), [&] {
    std::lock_guard lock(mu);
    stop = true;
    cv.notify_all();
  });
  Result<std::shared_ptr<Store>> store =
      open_app_store_retrying(app, "beat", [&signals] { return signals.signalled(); });
  if (!store.ok()) return fail(kCmd, store.status());
  Result<std::unique_ptr<BeatRunner>> runner = BeatRunner::start(app, *store, std::string(kCmd));
  if (!runner.ok()) return fail(kCmd, runner.status());
  std::printf("runq beat: %zu periodic schedule(s) on %s\n", app.periodic_definitions().size(),
              display_url(app.store_url()).c_str());
  Millis now = app.clock().now_ms();
  for (const PeriodicDefinition& def : app.periodic_definitions()) {
    std::printf("  %s: %s -> %s, next %s\n", def.name.c_str(), def.schedule.describe().c_str(),
                def.task.c_str(), def.schedule.format_time(def.schedule.next_after(now)).c_str());
  }
  std::fflush(stdout);
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return stop; });
  lock.unlock();
  (*runner)->stop();
  std::printf("runq beat: stopped\n");
  return kExitOk;
}

}  // namespace runq::internal
