// The application the dashboard's browser tests run: a few tasks (one that adds, one that
// fails with the message it is given, one that runs until it is revoked) and a periodic
// schedule, with App::main's commands (`worker`, `serve`...). With DASH_APP_FORGETS_ADD set,
// "add" is registered under another name, so this binary's worker dead-letters "add" tasks
// as unknown (the test's way to make a dead letter that a later worker can run).
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

#include "runq/runq.hpp"

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  runq::App app;
  const bool forgets_add = std::getenv("DASH_APP_FORGETS_ADD") != nullptr;
  auto add = app.task(forgets_add ? "add-forgotten" : "add", [](int a, int b) { return a + b; });
  app.task(
      "fail_with", [](std::string message) -> int { throw std::runtime_error(message); },
      runq::TaskOptions{}.max_retries(0));
  // Runs up to `ms` milliseconds, reporting progress, and stops early when revoked.
  app.task("slow", [](runq::Context& ctx, int ms) {
    for (int done = 0; done < ms && !ctx.cancelled(); done += 20) {
      ctx.progress(static_cast<double>(done) / ms);
      std::this_thread::sleep_for(20ms);
    }
    return ms;
  });
  app.periodic("every-minute-add", runq::every(std::chrono::minutes(1)), add, 1, 2);
  return app.main(argc, argv);
}
