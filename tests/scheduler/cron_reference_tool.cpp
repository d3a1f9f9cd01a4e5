// cron_reference_tool: prints runq's next fire times for cases read from stdin, for
// comparison with a reference implementation (tests/scheduler/croniter_compare.py).
//
// Input, one case a line:   EXPR <TAB> ZONE <TAB> START_MS <TAB> N
// Output, one line a case:  OK t1 t2 ... tN   (ms since the epoch; "never" when none)
//                           ERR message
#include <iostream>
#include <sstream>
#include <string>

#include "runq/schedule.hpp"

namespace {

std::string answer(const std::string& line) {
  std::istringstream in(line);
  std::string expr, zone, start_text, n_text;
  if (!std::getline(in, expr, '\t') || !std::getline(in, zone, '\t') ||
      !std::getline(in, start_text, '\t') || !std::getline(in, n_text)) {
    return "ERR malformed input line";
  }
  runq::Result<runq::Schedule> schedule = runq::parse_cron(expr, zone);
  if (!schedule.ok()) return "ERR " + schedule.status().message();
  runq::Millis t = std::stoll(start_text);
  std::string out = "OK";
  for (int i = 0, n = std::stoi(n_text); i < n && t != runq::kNever; ++i) {
    t = schedule->next_after(t);
    out += t == runq::kNever ? " never" : " " + std::to_string(t);
  }
  return out;
}

}  // namespace

int main() {
  std::ios::sync_with_stdio(false);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty()) std::cout << answer(line) << '\n';
  }
  return 0;
}
