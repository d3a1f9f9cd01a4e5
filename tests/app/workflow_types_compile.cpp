// Compiled by ctest with -fsyntax-only: each RUNQ_WRONG_<CASE> must FAIL to compile (the
// workflow API rejects the mismatch); with none set the same file must compile.
#include <string>
#include <vector>

#include "runq/app.hpp"

int main() {
  runq::App app;
  auto add = app.task("add", [](int a, int b) { return a + b; });
  auto shout = app.task("shout", [](std::string s) { return s + "!"; });
  auto total = app.task("total", [](std::vector<int> v) { return static_cast<int>(v.size()); });
#if defined(RUNQ_WRONG_CHAIN)
  runq::chain(add.s(1, 2), shout.s());  // an int result cannot be a std::string argument
#elif defined(RUNQ_WRONG_SIGNATURE)
  add.s("x", 1);  // wrong argument type in a signature
#elif defined(RUNQ_WRONG_CHORD)
  runq::chord(runq::group(shout.s("a"), shout.s("b")), total.s());  // strings, not ints
#elif defined(RUNQ_WRONG_FIRST_STEP)
  runq::chain(add.s(1), add.s(2));  // the first step misses an argument
#else
  runq::chain(add.s(1, 2), add.s(3), add.si(4, 5));
  runq::chord(runq::group(add.s(1, 2), add.s(3, 4)), total.s());
  runq::chain(add.s(1, 2), runq::group(add.s(1, 1), add.s(2, 2)), total.s());
#endif
  return 0;
}
