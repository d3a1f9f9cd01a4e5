// Compiled by ctest with -fsyntax-only: must FAIL to compile when RUNQ_WRONG_ARGS is set
// (typed handles reject wrong argument types) and must compile without it.
#include "runq/app.hpp"

int main() {
  runq::App app;
  auto add = app.task("add", [](int a, int b) { return a + b; });
#ifdef RUNQ_WRONG_ARGS
  add.delay("x", 1);
#else
  add.delay(1, 2);
#endif
  return 0;
}
