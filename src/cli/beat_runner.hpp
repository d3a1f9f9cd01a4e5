// BeatRunner: the periodic scheduler of an App on its own thread, for `beat` and
// `worker --beat`. Builds one Beat entry per App::periodic() registration.
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
// with its arguments, queue and priority, under the tick's deterministic id.
std::vector<PeriodicEntry> periodic_entries(App& app);

class BeatRunner {
 public:
  // Registers the app's schedules in `store` and starts the scheduling thread. `cmd` prefixes
  // log lines. Errors: as Beat::register_schedules.
  static Result<std::unique_ptr<BeatRunner>> start(App& app, std::shared_ptr<Store> store,
                                                   std::string cmd);
  ~BeatRunner();  // stop()
  // Stops the thread after its current pass. Safe to call twice.
  void stop();

 private:
  BeatRunner(App& app, std::shared_ptr<Store> store, std::string cmd);
  void loop();
  // Logs a failing pass once per distinct error, and the recovery.
  void report(const Result<int>& pass);

  std::shared_ptr<Store> store_;
  Clock& clock_;
  std::string cmd_;
  Beat beat_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;    // guarded by mu_
  bool registered_ = false;  // schedule info written (retried by the loop until it is)
  std::string last_error_;
  std::thread thread_;
};

}  // namespace runq::internal
