// Uses the installed headers and library: registers a task and runs it in eager mode.
#include <runq/runq.hpp>

#include <cstdio>

int main() {
  runq::App app(runq::AppOptions{.eager = true});
  auto add = app.task("add", [](int a, int b) { return a + b; });
  int v = add.delay(20, 22).get(std::chrono::seconds(5));
  std::printf("consumer: add(20, 22) = %d\n", v);
  return v == 42 ? 0 : 1;
}
