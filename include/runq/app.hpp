// runq/app.hpp — the application object: registers tasks and periodic schedules, enqueues,
// and gives the user's binary its command line (`worker`, `beat`, `status`, ...).
//
//   runq::App app;                                   // store: --store / RUNQ_STORE /
//   sqlite:runq.db auto add = app.task("add", [](int a, int b) { return a + b; });
//   app.periodic("nightly", runq::cron("0 3 * * *"), add, 1, 2);
//   return app.main(argc, argv);
//
// Thread safety: register tasks and schedules before starting workers or calling main();
// after that, enqueueing (delay/apply/send) and reading results are safe from any thread.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runq/clock.hpp"
#include "runq/options.hpp"
#include "runq/result.hpp"
#include "runq/schedule.hpp"
#include "runq/store.hpp"
#include "runq/task.hpp"

namespace runq {

struct AppOptions {
  // Store URL; empty = the RUNQ_STORE environment variable, else "sqlite:runq.db".
  std::string store_url;
  // Run tasks inline in delay() instead of enqueueing them (for users' own unit tests).
  bool eager = false;
  // Largest encoded task message accepted by enqueue [1 MiB]. Larger ones are rejected with
  // a ResourceExhausted runq::Error and nothing is enqueued.
  std::size_t max_payload_bytes = 1 << 20;
  // Source of "now" for eta/countdown/expiry [the system clock]. Not owned.
  Clock* clock = nullptr;
};

// A periodic schedule registered with App::periodic.
struct PeriodicDefinition {
  std::string name;
  Schedule schedule;
  std::string task;       // registered task name
  std::string args_json;  // JSON array text
  TaskOptions task_options;
  PeriodicOptions options;  // misfire policy and its bound
};

class App final : public Producer {
 public:
  explicit App(AppOptions options = {});
  ~App() override;
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Registers `fn` under `name` and returns its typed handle. Throws runq::Error
  // (AlreadyExists) if the name is taken, (InvalidArgument) if it is empty.
  template <typename F>
  auto task(std::string name, F fn, TaskOptions options = {}) {
    using Traits = internal::FnTraits<F>;
    using Split = internal::SplitContext<typename Traits::Params>;
    using R = typename Traits::Ret;
    TaskDefinition def = internal::make_definition<F, R, Split::kHasContext>(
        name, std::move(fn), options, static_cast<typename Split::Args*>(nullptr));
    register_task(std::move(def));
    return typename internal::HandleFor<R, typename Split::Args>::type(this, std::move(name),
                                                                       std::move(options));
  }

  // Registers a periodic schedule: at each tick of `schedule`, `task(args...)` is enqueued,
  // exactly once however many schedulers (`worker --beat`, `beat`) run.
  template <typename R, typename... A, typename... Args>
  void periodic(std::string name, const Schedule& schedule, const TaskHandle<R, A...>& task,
                Args&&... args) {
    periodic(std::move(name), schedule, PeriodicOptions{}, task, std::forward<Args>(args)...);
  }
  // As above, with a misfire policy for ticks missed while no scheduler ran.
  template <typename R, typename... A, typename... Args>
  void periodic(std::string name, const Schedule& schedule, Misfire misfire,
                const TaskHandle<R, A...>& task, Args&&... args) {
    periodic(std::move(name), schedule, PeriodicOptions{.misfire = misfire}, task,
             std::forward<Args>(args)...);
  }
  // As above, with every periodic option (misfire policy, run_all bound).
  template <typename R, typename... A, typename... Args>
  void periodic(std::string name, const Schedule& schedule, const PeriodicOptions& options,
                const TaskHandle<R, A...>& task, Args&&... args) {
    add_periodic({std::move(name), schedule, task.name(),
                  TaskHandle<R, A...>::encode(std::forward<Args>(args)...), task.options(),
                  options});
  }

  // Enqueues a task by name with a JSON argument array, e.g. from code that does not link
  // the task itself. Throws runq::Error.
  AsyncResult<nlohmann::json> send(const std::string& name, const nlohmann::json& args,
                                   const EnqueueOptions& options = {});

  // Runs the command line: `worker`, `beat`, `enqueue`, `result`, `status`, `dead`, `purge`,
  // `schedule`. Returns the process exit code.
  int main(int argc, char** argv);

  // The store, opened on first use. Throws runq::Error when it cannot be opened.
  std::shared_ptr<Store> store();
  // Chooses the store URL. REQUIRES: the store was not opened yet.
  void set_store_url(std::string url);
  const std::string& store_url() const { return store_url_; }
  void set_eager(bool eager) { eager_ = eager; }
  bool eager() const { return eager_; }
  Clock& clock() const { return *clock_; }
  std::size_t max_payload_bytes() const { return options_.max_payload_bytes; }

  // The registered task, or nullptr.
  const TaskDefinition* find_task(std::string_view name) const;
  std::vector<std::string> task_names() const;
  const std::vector<PeriodicDefinition>& periodic_definitions() const { return periodic_; }

  // Producer
  std::string enqueue_json(const std::string& name, std::string args_json,
                           const TaskOptions& task_opts, const EnqueueOptions& opts) override;
  std::vector<std::string> enqueue_json_many(const std::string& name,
                                             std::vector<std::string> args_json,
                                             const TaskOptions& task_opts,
                                             const EnqueueOptions& opts) override;
  std::shared_ptr<Store> result_store() override { return store(); }
  const Clock& producer_clock() const override { return *clock_; }

 private:
  void register_task(TaskDefinition def);
  void add_periodic(PeriodicDefinition def);
  void run_eager(const std::vector<std::string>& ids);

  AppOptions options_;
  std::string store_url_;
  bool eager_;
  Clock* clock_;
  std::mutex store_mu_;
  std::shared_ptr<Store> store_;
  std::map<std::string, TaskDefinition, std::less<>> tasks_;
  std::vector<PeriodicDefinition> periodic_;
};

}  // namespace runq
