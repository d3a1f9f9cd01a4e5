// runq_celery_app: the C++ side of the Celery interoperability tests. `runq_celery_app worker
// --store celery+redis://...` runs these tasks under their Celery names for a Python client
// (tests/celery/client.py):
//
//   tasks.add(a, b)       returns a + b
//   tasks.mul(a, b)       returns a * b
//   tasks.echo(value)     returns value (any JSON)
//   tasks.fail(message)   throws std::runtime_error(message); no retries
//   tasks.flaky(n)        fails attempts 1..n, then returns the attempt number; 3 retries, 50 ms
//   tasks.retry_once(x)   fails attempt 1, returns x on attempt 2; its retry waits 1.5 s
//   tasks.sleep(ms)       sleeps ms milliseconds (stops early when cancelled); returns ms
//   tasks.xsum(values)    returns the sum of a list of numbers (chord bodies)
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "runq/runq.hpp"

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  runq::App app;
  app.task("tasks.add", [](int a, int b) { return a + b; });
  app.task("tasks.mul", [](int a, int b) { return a * b; });
  app.task("tasks.echo", [](nlohmann::json v) { return v; });
  app.task("tasks.fail", [](std::string message) -> int { throw std::runtime_error(message); });
  app.task(
      "tasks.flaky",
      [](runq::Context& ctx, int n) -> int {
        if (ctx.attempt() <= n)
          throw std::runtime_error("attempt " + std::to_string(ctx.attempt()));
        return ctx.attempt();
      },
      runq::TaskOptions{}.max_retries(3).backoff(runq::Backoff::fixed(50ms)));
  app.task(
      "tasks.retry_once",
      [](runq::Context& ctx, int x) -> int {
        if (ctx.attempt() == 1) throw std::runtime_error("first attempt fails");
        return x;
      },
      runq::TaskOptions{}.max_retries(1).backoff(runq::Backoff::fixed(1500ms)));
  app.task("tasks.sleep", [](runq::Context& ctx, int ms) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < end && !ctx.cancelled()) {
      std::this_thread::sleep_for(5ms);
    }
    return ms;
  });
  app.task("tasks.xsum", [](std::vector<double> v) {
    double s = 0;
    for (double x : v) s += x;
    return s;
  });
  return app.main(argc, argv);
}
