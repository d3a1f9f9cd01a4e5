#include "runq/app.hpp"

#include <algorithm>
#include <set>
#include <string_view>
#include <vector>

#include "app/internal/enqueue_room.hpp"
#include "app/internal/task_builder.hpp"
#include "app/internal/unique_key.hpp"
#include "app/task_runner.hpp"
#include "core/ids.hpp"
#include "core/message.hpp"
#include "runq/error.hpp"
#include "runq/schedule.hpp"
#include "scheduler/beat.hpp"
#include "store/memory_store.hpp"

namespace runq {

App::App(AppOptions options)
    : options_(std::move(options)),
      store_url_(options_.store_url.empty() ? default_store_url() : options_.store_url),
      eager_(options_.eager),
      clock_(options_.clock ? options_.clock : &Clock::system()) {}

App::~App() = default;

std::shared_ptr<Store> App::store() {
  std::lock_guard lock(store_mu_);
  if (!store_) {
    if (eager_) {
      store_ = new_memory_store();
    } else {
      Result<std::unique_ptr<Store>> opened = open_store(store_url_);
      if (!opened.ok()) throw Error(opened.status());
      store_ = std::move(opened).value();
    }
  }
  return store_;
}

void App::forget_store_after_fork() {
  std::lock_guard lock(store_mu_);
  // Kept, never destroyed: destroying it would close (or say goodbye on) the worker's
  // connections. Held from a static so that leak checkers see it as reachable (an exit code
  // changed by LeakSanitizer would hide the task's own).
  static auto* const forgotten = new std::vector<std::shared_ptr<Store>>();
  forgotten->push_back(std::move(store_));
  store_.reset();
}

void App::set_store_url(std::string url) {
  std::lock_guard lock(store_mu_);
  store_url_ = std::move(url);
  store_.reset();
}

void App::register_task(TaskDefinition def) {
  if (def.name.empty()) throw Error(invalid_argument_error("registering a task: empty name"));
  if (tasks_.count(def.name)) {
    throw Error(
        already_exists_error("registering task '" + def.name + "': name already registered"));
  }
  Status limits = internal::check_task_limits(def.name, def.options);
  if (!limits.ok()) throw Error(limits);
  std::string name = def.name;
  tasks_.emplace(std::move(name), std::move(def));
}

const TaskDefinition* App::find_task(std::string_view name) const {
  auto it = tasks_.find(name);
  return it == tasks_.end() ? nullptr : &it->second;
}

std::vector<std::string> App::task_names() const {
  std::vector<std::string> out;
  for (const auto& [name, def] : tasks_) out.push_back(name);
  return out;
}

void App::add_periodic(PeriodicDefinition def) {
  if (std::any_of(periodic_.begin(), periodic_.end(),
                  [&](auto& p) { return p.name == def.name; })) {
    throw Error(already_exists_error("registering periodic schedule '" + def.name +
                                     "': name already registered"));
  }
  // Built once now with the tick-time code path, so a schedule whose task can never be
  // enqueued (bad priority, oversized arguments) fails here rather than at every tick.
  EnqueueOptions probe_opts;
  probe_opts.id(Beat::task_id(def.name, clock_->now_ms()));
  Result<NewTask> probe =
      internal::build_task(def.task, def.args_json, def.task_options, probe_opts,
                           {clock_->now_ms(), options_.max_payload_bytes, false, def.name});
  if (!probe.ok()) {
    throw Error(probe.status().with_context("registering periodic schedule '" + def.name + "'"));
  }
  periodic_.push_back(std::move(def));
}

namespace internal {

Result<NewTask> build_task(const std::string& name, std::string args_json, const TaskOptions& topts,
                           const EnqueueOptions& opts, const BuildContext& ctx) {
  TaskMessage m;
  m.id = opts.id().empty() ? new_task_id() : opts.id();
  m.name = name;
  m.args = std::move(args_json);
  m.queue = opts.queue().value_or(topts.queue());
  m.priority = opts.priority().value_or(topts.priority());
  m.created = ctx.now;
  if (!ctx.eager) {
    if (opts.eta() > 0) m.eta = opts.eta();
    if (opts.countdown() > 0) m.eta = std::max(m.eta, ctx.now + opts.countdown());
  }
  if (opts.expires_in() > 0) m.expires = ctx.now + opts.expires_in();
  m.ignore_result = topts.ignore_result();
  m.result_ttl = topts.result_ttl();
  m.schedule = ctx.schedule;
  m.workflow = ctx.workflow;
  if (!opts.depends_on().empty()) {  // recorded for `explain` and `result`
    nlohmann::json wf = m.workflow.empty() ? nlohmann::json::object()
                                           : nlohmann::json::parse(m.workflow, nullptr, false);
    if (!wf.is_object()) wf = nlohmann::json::object();
    wf["depends_on"] = opts.depends_on();
    m.workflow = wf.dump();
  }
  m.time_limit = std::max<Millis>(0, opts.time_limit());
  m.soft_time_limit = std::max<Millis>(0, opts.soft_time_limit());
  NewTask t;
  // A periodic tick fires once already (its id is derived from the tick): it takes no key.
  if (ctx.schedule.empty()) {
    RUNQ_ASSIGN_OR_RETURN(t.unique, unique_options(name, m.args, topts, opts));
  }
  t.id = m.id;
  t.queue = m.queue;
  t.priority = m.priority;
  t.eta = m.eta;
  t.max_deliveries = std::max(1, topts.max_deliveries());
  t.body = encode_message(m);
  t.task = name;
  RUNQ_ASSIGN_OR_RETURN(t.limits, task_limits(name, topts, opts));
  t.links.depends_on = opts.depends_on();
  t.links.allow_dependency_failure = opts.allow_dependency_failure();
  if (t.body.size() > ctx.max_payload_bytes) {
    return too_large_error(
        "enqueueing task '" + name + "': message is " + std::to_string(t.body.size()) +
        " bytes, over the limit of " + std::to_string(ctx.max_payload_bytes) +
        " bytes (AppOptions::max_payload_bytes); pass large data by reference (a path or a key)");
  }
  return t;
}

}  // namespace internal

std::string App::enqueue_json(const std::string& name, std::string args_json,
                              const TaskOptions& task_opts, const EnqueueOptions& opts) {
  std::vector<std::string> one;
  one.push_back(std::move(args_json));
  return enqueue_json_many(name, std::move(one), task_opts, opts).front();
}

namespace {

// The outcome of each task of an enqueue: `held` is enqueue_with_room's answer (empty when
// no task had a unique key).
std::vector<Enqueued> outcomes(std::vector<NewTask>& tasks, std::vector<std::string>& held) {
  std::vector<Enqueued> out;
  out.reserve(tasks.size());
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (i < held.size() && !held[i].empty()) {
      out.push_back({std::move(held[i]), false});
    } else {
      out.push_back({std::move(tasks[i].id), true});
    }
  }
  return out;
}

std::vector<std::string> added_ids(const std::vector<Enqueued>& done) {
  std::vector<std::string> ids;
  for (const Enqueued& e : done) {
    if (e.added) ids.push_back(e.id);
  }
  return ids;
}

std::vector<std::string> ids_of(std::vector<Enqueued> done) {
  std::vector<std::string> ids;
  ids.reserve(done.size());
  for (Enqueued& e : done) ids.push_back(std::move(e.id));
  return ids;
}

}  // namespace

std::vector<std::string> App::enqueue_json_many(const std::string& name,
                                                std::vector<std::string> args_json,
                                                const TaskOptions& task_opts,
                                                const EnqueueOptions& opts) {
  return ids_of(enqueue_json_calls(name, std::move(args_json), task_opts, opts));
}

std::vector<Enqueued> App::enqueue_json_calls(const std::string& name,
                                              std::vector<std::string> args_json,
                                              const TaskOptions& task_opts,
                                              const EnqueueOptions& opts) {
  if (args_json.size() > 1 && !opts.id().empty()) {
    throw Error(
        invalid_argument_error("enqueueing a batch of '" + name + "': one id for many tasks"));
  }
  Millis now = clock_->now_ms();
  std::vector<NewTask> tasks;
  tasks.reserve(args_json.size());
  internal::BuildContext ctx{now, options_.max_payload_bytes, eager_, {}};
  for (auto& a : args_json) {
    Result<NewTask> t = internal::build_task(name, std::move(a), task_opts, opts, ctx);
    if (!t.ok()) throw Error(t.status());
    tasks.push_back(std::move(t).value());
  }
  std::shared_ptr<Store> s = store();
  std::vector<std::string> held;
  Status st = internal::enqueue_with_room(*s, tasks, now, opts.block_when_full(), *clock_, &held);
  if (is_resource_exhausted(st)) throw QueueFull(st.with_context("enqueueing task '" + name + "'"));
  if (!st.ok()) throw Error(st.with_context("enqueueing task '" + name + "'"));
  std::vector<Enqueued> done = outcomes(tasks, held);
  if (eager_) run_eager(added_ids(done));
  return done;
}

Result<std::vector<std::string>> App::enqueue_batch(std::span<const TaskCall> calls) {
  RUNQ_ASSIGN_OR_RETURN(std::vector<Enqueued> done, enqueue_calls(calls));
  return ids_of(std::move(done));
}

Result<std::vector<Enqueued>> App::enqueue_calls(std::span<const TaskCall> calls) {
  if (calls.empty()) return invalid_argument_error("enqueueing a batch: it has no tasks");
  Millis now = clock_->now_ms();
  internal::BuildContext ctx{now, options_.max_payload_bytes, eager_, {}};
  std::vector<NewTask> tasks;
  tasks.reserve(calls.size());
  std::set<std::string_view> ids;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const TaskCall& c = calls[i];
    std::string where = "enqueueing task " + std::to_string(i) + " of the batch";
    if (c.name.empty()) return invalid_argument_error(where + ": the task name is empty");
    if (!c.options.id().empty() && !ids.insert(c.options.id()).second) {
      return invalid_argument_error(where + ": id '" + c.options.id() + "' appears twice");
    }
    const TaskDefinition* def = find_task(c.name);
    Result<NewTask> t = internal::build_task(c.name, c.args_json,
                                             def ? def->options : TaskOptions{}, c.options, ctx);
    if (!t.ok()) return t.status().with_context(where + " ('" + c.name + "')");
    tasks.push_back(std::move(t).value());
  }
  std::shared_ptr<Store> s;
  try {
    s = store();
  } catch (const Error& e) {
    return e.status();
  }
  Millis block_ms = 0;
  for (const TaskCall& c : calls) block_ms = std::max(block_ms, c.options.block_when_full());
  std::vector<std::string> held;
  Status st = internal::enqueue_with_room(*s, tasks, now, block_ms, *clock_, &held);
  if (!st.ok()) return st.with_context("enqueueing a batch");
  std::vector<Enqueued> done = outcomes(tasks, held);
  if (eager_) run_eager(added_ids(done));
  return done;
}

AsyncResult<nlohmann::json> App::send(const std::string& name, const nlohmann::json& args,
                                      const EnqueueOptions& options) {
  if (!args.is_array())
    throw Error(invalid_argument_error("sending task '" + name + "': args must be a JSON array"));
  const TaskDefinition* def = find_task(name);
  std::vector<std::string> one;
  one.push_back(args.dump());
  std::vector<Enqueued> done =
      enqueue_json_calls(name, std::move(one), def ? def->options : TaskOptions{}, options);
  return AsyncResult<nlohmann::json>(store(), std::move(done.front().id), clock_,
                                     done.front().added);
}

// Eager mode: each task runs inline, retries immediately (ignoring backoff), and its final
// settlement is written to the private memory store so AsyncResult reads it as usual.
void App::run_eager(const std::vector<std::string>& ids) {
  std::shared_ptr<Store> s = store();
  internal::TaskRunner runner(*this, "eager");
  for (const std::string& id : ids) {
    Result<TaskInfo> info = s->get_task(id, clock_->now_ms());
    if (!info.ok() || info->state != TaskState::kPending) continue;
    ReserveRequest req{{info->queue}, "eager", 1, 3'600'000, clock_->now_ms()};
    Result<std::vector<Delivery>> got = s->reserve(req);
    if (!got.ok() || got->empty()) continue;
    Delivery d = std::move(got->front());
    internal::RunOutcome out = runner.run(d, {}, {});
    for (int i = 0; i < 100 && out.settlement.outcome == Outcome::kRetry; ++i) {
      d.body = out.settlement.body;
      out = runner.run(d, {}, {});
    }
    std::vector<Settlement> one{std::move(out.settlement)};
    (void)s->settle(one, clock_->now_ms());
  }
}

}  // namespace runq
