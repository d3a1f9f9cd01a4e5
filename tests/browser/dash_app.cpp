// The application the dashboard's browser tests run: a few tasks (one that adds, one that
// fails with the message it is given, one that runs until it is revoked) and a periodic
// schedule, with App::main's commands (`worker`, `serve`...). With DASH_APP_FORGETS_ADD set,
// "add" is registered under another name, so this binary's worker dead-letters "add" tasks
// as unknown (the test's way to make a dead letter that a later worker can run).
//
// `dash_app --store URL workflows` enqueues, on queue "work": a chord of three "add" members
// into "total", a chain add(1, 2) -> add(+10) -> add(+100), and a chord whose second member
// fails; and on queue "held" (no worker takes from it) a chord of two "add" members, whose
// body waits. It prints {"chord": id, "chain": id, "failed_chord": id, "waiting_chord": id}
// (the last steps' ids).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "runq/runq.hpp"

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  const bool enqueue_workflows =
      argc == 4 && std::string(argv[1]) == "--store" && std::string(argv[3]) == "workflows";
  runq::App app(enqueue_workflows ? runq::AppOptions{.store_url = argv[2]} : runq::AppOptions{});
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
  auto total = app.task("total", [](std::vector<int> v) {
    int sum = 0;
    for (int x : v) sum += x;
    return sum;
  });
  auto fail_with_int = app.task(
      "fail_with_int", [](int) -> int { throw std::runtime_error("member failed on purpose"); },
      runq::TaskOptions{}.max_retries(0));
  if (enqueue_workflows) {
    const auto work = [](auto sig) {
      sig.queue("work");
      return sig;
    };
    const auto held = [](auto sig) {
      sig.queue("held");
      return sig;
    };
    const std::string chord =
        runq::chord(runq::group(work(add.s(1, 1)), work(add.s(2, 2)), work(add.s(3, 3))),
                    work(total.s()))
            .delay()
            .id();
    const std::string chain =
        runq::chain(work(add.s(1, 2)), work(add.s(10)), work(add.s(100))).delay().id();
    const std::string failed =
        runq::chord(runq::group(work(add.s(4, 4)), work(fail_with_int.s(5))), work(total.s()))
            .delay()
            .id();
    const std::string waiting =
        runq::chord(runq::group(held(add.s(5, 5)), held(add.s(6, 6))), held(total.s()))
            .delay()
            .id();
    std::printf(
        "{\"chord\": \"%s\", \"chain\": \"%s\", \"failed_chord\": \"%s\", \"waiting_chord\": "
        "\"%s\"}\n",
        chord.c_str(), chain.c_str(), failed.c_str(), waiting.c_str());
    return 0;
  }
  app.periodic("every-minute-add", runq::every(std::chrono::minutes(1)), add, 1, 2);
  return app.main(argc, argv);
}
