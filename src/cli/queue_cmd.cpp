// `queue pause NAME`, `queue resume NAME`, `queue limit NAME N`, `queue list [--json]`: the
// flow controls of a queue, through App::pause_queue / resume_queue / limit_queue /
// queue_controls.
#include <cstdio>

#include "cli/cli_support.hpp"
#include "cli/commands.hpp"
#include "runq/app.hpp"

namespace runq::internal {

int run_queue_pause_cmd(App& app, const QueueArgs& a, bool paused) {
  const char* cmd = paused ? "queue pause" : "queue resume";
  Status s = paused ? app.pause_queue(a.name) : app.resume_queue(a.name);
  if (!s.ok()) return fail(cmd, s);
  if (paused) {
    std::printf(
        "queue '%s' paused: workers take none of its tasks until `runq queue resume %s`"
        " (running tasks finish; enqueue still adds)\n",
        a.name.c_str(), a.name.c_str());
  } else {
    std::printf("queue '%s' resumed\n", a.name.c_str());
  }
  return kExitOk;
}

int run_queue_limit_cmd(App& app, const QueueArgs& a) {
  constexpr std::string_view kCmd = "queue limit";
  if (a.limit < 0) {
    return fail(kCmd,
                "max: expected a number of tasks >= 0 (0 removes the bound), not " +
                    std::to_string(a.limit),
                kExitUsage);
  }
  Status s = app.limit_queue(a.name, a.limit);
  if (!s.ok()) return fail(kCmd, s);
  if (a.limit == 0) {
    std::printf("queue '%s' is unbounded\n", a.name.c_str());
  } else {
    std::printf(
        "queue '%s' is bounded to %lld waiting tasks: enqueue beyond that fails "
        "(tasks already queued stay)\n",
        a.name.c_str(), a.limit);
  }
  return kExitOk;
}

int run_queue_list_cmd(App& app, const QueueArgs& a) {
  Result<std::vector<QueueControl>> controls = app.queue_controls();
  if (!controls.ok()) return fail("queue list", controls.status());
  if (a.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const QueueControl& c : *controls) {
      out.push_back({{"queue", c.queue}, {"paused", c.paused}, {"max_length", c.max_length}});
    }
    std::printf("%s\n", out.dump().c_str());
    return kExitOk;
  }
  if (controls->empty()) {
    std::printf("no queue is paused or bounded\n");
    return kExitOk;
  }
  std::printf("%-24s %-8s %s\n", "QUEUE", "STATE", "LIMIT");
  for (const QueueControl& c : *controls) {
    std::printf("%-24s %-8s %s\n", c.queue.c_str(), c.paused ? "paused" : "running",
                c.max_length > 0 ? std::to_string(c.max_length).c_str() : "-");
  }
  return kExitOk;
}

}  // namespace runq::internal
