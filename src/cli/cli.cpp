#include "cli/cli.hpp"

#include <cstdio>

namespace runq::internal {

int run_cli(App&, int, char**) {
  std::fprintf(stderr, "runq: command line not built yet\n");
  return 2;
}

}  // namespace runq::internal
