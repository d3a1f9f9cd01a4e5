#include "app/beat_runner.hpp"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "app/internal/task_builder.hpp"
#include "runq/app.hpp"
#include "runq/error.hpp"

namespace runq::internal {
namespace {

// Throws runq::Error, which Beat reports as an Internal error for the tick; App::periodic
// already built the task once at registration, so this fails only if the options changed.
NewTask periodic_task(App& app, const PeriodicDefinition& def, Millis tick) {
  EnqueueOptions opts;
  opts.id(Beat::task_id(def.name, tick));
  Result<NewTask> t = build_task(def.task, def.args_json, def.task_options, opts,
                                 {app.clock().now_ms(), app.max_payload_bytes(), false, def.name});
  if (!t.ok()) throw Error(t.status());
  return std::move(t).value();
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

BeatRunner::BeatRunner(App& app, std::shared_ptr<Store> store, std::string who)
    : store_(std::move(store)),
      clock_(app.clock()),
      who_(std::move(who)),
      beat_(*store_, clock_, periodic_entries(app)) {}

Result<std::unique_ptr<BeatRunner>> BeatRunner::start(App& app, std::shared_ptr<Store> store,
                                                      std::string who) {
  std::unique_ptr<BeatRunner> r(new BeatRunner(app, std::move(store), std::move(who)));
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
    if (!last_error_.empty()) std::fprintf(stderr, "runq %s: scheduler recovered\n", who_.c_str());
    last_error_.clear();
    if (*pass > 0)
      std::fprintf(stderr, "runq %s: fired %d periodic tick(s)\n", who_.c_str(), *pass);
    return;
  }
  std::string msg = pass.status().message();
  if (msg != last_error_) {
    std::fprintf(stderr, "runq %s: scheduler pass failed (retrying): %s\n", who_.c_str(),
                 msg.c_str());
  }
  last_error_ = msg;
}

}  // namespace runq::internal
