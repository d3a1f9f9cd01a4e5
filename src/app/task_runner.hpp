// TaskRunner: turns one Delivery into one Settlement. Decodes the message, checks expiry and
// the registry, binds arguments, runs the body, and decides between success, retry, failure
// and dead-letter. Shared by the Worker and eager mode, so both behave identically.
//
// Thread safety: run() may be called concurrently; the runner holds no mutable state.
#pragma once

#include <functional>
#include <stop_token>
#include <string>

#include "runq/store.hpp"

namespace runq {
class App;
}

namespace runq::internal {

struct RunOutcome {
  Settlement settlement;
  bool counted_failure = false;  // ended FAILURE
};

class TaskRunner {
 public:
  TaskRunner(const App& app, std::string worker_id) : app_(app), worker_id_(std::move(worker_id)) {}

  // Runs `d` to completion. `progress` receives Context::progress() calls; `stop` is the
  // task's cancellation token. Never throws.
  RunOutcome run(const Delivery& d, std::stop_token stop,
                 const std::function<void(double)>& progress) const;

 private:
  const App& app_;
  std::string worker_id_;
};

}  // namespace runq::internal
