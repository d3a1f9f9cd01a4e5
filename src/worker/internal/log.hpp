// The worker's diagnostics: one line on stderr each.
#pragma once

#include <cstdio>
#include <string>

namespace runq::internal {

inline void log_line(const std::string& line) {
  std::fprintf(stderr, "runq worker: %s\n", line.c_str());
}

}  // namespace runq::internal
