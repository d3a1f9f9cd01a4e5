// runq_test_app: a user-style binary with sample tasks, for the multi-process integration
// tests. `runq_test_app worker --store URL ...` runs them; every other command works too.
//
//   add(a, b)                 returns a + b
//   sleep_ms(ms)              sleeps ms milliseconds (stops early when cancelled); returns ms
//   fail_always(message)      throws std::runtime_error(message); no retries
//   fail_retry(message)       throws std::runtime_error(message); 2 retries, 20 ms apart
//   flaky(fail_times)         fails on attempts 1..fail_times, then returns the attempt number;
//                             up to 5 retries, 20 ms apart
//   record(path, line)        appends line + '\n' to path (counts executions)
//   record_sleep(path, ms)    appends "start <task id>" to path, then sleeps like sleep_ms
//   record_join(values, path) a chord body: appends "start <task id>", returns values.size()
//   record_pid(path, ms)      appends the pid of the process running it, then sleeps like
//                             sleep_ms (which process of a process pool ran it)
//
// With RUNQ_TEST_TICK_FILE=PATH set, a periodic schedule "tick" runs record_sleep(PATH, 0)
// every second (one "start <task id>" line per tick), for scheduler tests.
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "runq/runq.hpp"

namespace {

void append_line(const std::string& path, const std::string& line) {
  // O_APPEND keeps lines from concurrent workers whole.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + path);
  std::string text = line + "\n";
  ssize_t n = ::write(fd, text.data(), text.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) throw std::runtime_error("short write to " + path);
}

int sleep_for(runq::Context& ctx, int ms) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < end && !ctx.cancelled()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  runq::App app;
  app.task("add", [](int a, int b) { return a + b; });
  app.task("sleep_ms", [](runq::Context& ctx, int ms) { return sleep_for(ctx, ms); });
  app.task("fail_always", [](std::string message) -> int { throw std::runtime_error(message); });
  auto retry_opts = runq::TaskOptions{}.max_retries(2).backoff(runq::Backoff::fixed(20ms));
  app.task(
      "fail_retry", [](std::string message) -> int { throw std::runtime_error(message); },
      retry_opts);
  app.task(
      "flaky",
      [](runq::Context& ctx, int fail_times) {
        if (ctx.attempt() <= fail_times) {
          throw std::runtime_error("flaky failure on attempt " + std::to_string(ctx.attempt()));
        }
        return ctx.attempt();
      },
      runq::TaskOptions{}.max_retries(5).backoff(runq::Backoff::fixed(20ms)));
  app.task("record", [](std::string path, std::string line) { append_line(path, line); });
  auto record_sleep = app.task("record_sleep", [](runq::Context& ctx, std::string path, int ms) {
    append_line(path, "start " + ctx.id());
    return sleep_for(ctx, ms);
  });
  app.task("record_join", [](runq::Context& ctx, std::vector<int> values, std::string path) {
    append_line(path, "start " + ctx.id());
    return static_cast<int>(values.size());
  });
  app.task("record_pid", [](runq::Context& ctx, std::string path, int ms) {
    append_line(path, std::to_string(::getpid()));
    return sleep_for(ctx, ms);
  });
  if (const char* tick_file = std::getenv("RUNQ_TEST_TICK_FILE")) {
    app.periodic("tick", runq::every(1s), record_sleep, std::string(tick_file), 0);
  }
  return app.main(argc, argv);
}
