// BeatRunner: an App's periodic scheduler (a Beat over App::periodic() registrations) on its
// own thread. A Worker with WorkerOptions::beat runs one for its lifetime; `runq beat` runs
// one alone.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runq/clock.hpp"
#include "runq/status.hpp"
#include "runq/store.hpp"
#include "scheduler/beat.hpp"

namespace runq {
class App;
}

namespace runq::internal {

// The Beat entries for the app's periodic schedules. Each tick enqueues the registered task
// with its arguments and options, built by the same code as App's enqueue (build_task), under
// the tick's deterministic id. REQUIRES: `app` outlives the entries.
std::vector<PeriodicEntry> periodic_entries(App& app);

// Thread safety: start() and stop() from one owning thread; the scheduling thread touches
// only the Beat and the error log state.
class BeatRunner {
 public:
  // Registers the app's schedules in `store` and starts the scheduling thread. `who` prefixes
  // log lines on stderr ("runq worker: ..."). A store that is unavailable at start is retried
  // by the thread. Errors: InvalidArgument (bad schedules, as Beat::register_schedules).
  // REQUIRES: `app` outlives the runner.
  static Result<std::unique_ptr<BeatRunner>> start(App& app, std::shared_ptr<Store> store,
                                                   std::string who);
  ~BeatRunner();  // stop()
  // Stops the thread after its current pass and joins it. Safe to call twice.
  void stop();

 private:
  BeatRunner(App& app, std::shared_ptr<Store> store, std::string who);
  void loop();
  // Logs a failing pass once per distinct error, and the recovery.
  void report(const Result<int>& pass);

  std::shared_ptr<Store> store_;
  Clock& clock_;
  std::string who_;
  Beat beat_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;    // guarded by mu_
  bool registered_ = false;  // schedule info written (retried by the loop until it is)
  std::string last_error_;   // scheduling thread only (and start(), before it runs)
  std::thread thread_;
};

}  // namespace runq::internal
