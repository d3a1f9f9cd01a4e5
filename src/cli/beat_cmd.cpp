// `beat`: only the periodic scheduler (the library's BeatRunner), until SIGINT/SIGTERM.
#include <condition_variable>
#include <cstdio>
#include <mutex>

#include "app/beat_runner.hpp"
#include "cli/cli_support.hpp"
#include "cli/commands.hpp"
#include "cli/signal_waiter.hpp"
#include "runq/app.hpp"
#include "runq/schedule.hpp"

namespace runq::internal {

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
