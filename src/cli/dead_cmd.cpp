// `dead list | retry | purge` and `purge QUEUE`: the dead-letter list and emptying a queue.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/cli_support.hpp"
#include "cli/commands.hpp"
#include "core/duration.hpp"
#include "core/message.hpp"
#include "runq/app.hpp"

namespace runq::internal {
namespace {

// The task name from a dead task's body; the body may be the malformed message itself.
std::string task_name_of(const DeadTask& d) {
  Result<TaskMessage> m = decode_message(d.body);
  return m.ok() ? m->name : "?";
}

}  // namespace

int run_dead_list_cmd(App& app, const DeadListArgs& a) {
  constexpr std::string_view kCmd = "dead list";
  if (a.limit < 1) return fail(kCmd, "--limit: expected a positive number", kExitUsage);
  Result<std::shared_ptr<Store>> store = open_app_store(app);
  if (!store.ok()) return fail(kCmd, store.status());
  Result<std::vector<DeadTask>> dead = (*store)->list_dead(static_cast<std::size_t>(a.limit));
  if (!dead.ok()) return fail(kCmd, dead.status());
  if (a.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const DeadTask& d : *dead) {
      out.push_back({{"id", d.id},
                     {"queue", d.queue},
                     {"task", task_name_of(d)},
                     {"reason", d.reason},
                     {"died_at", time_json(d.died_at)}});
    }
    std::printf("%s\n", out.dump().c_str());
    return kExitOk;
  }
  if (dead->empty()) {
    std::printf("no dead tasks\n");
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {{"ID", "QUEUE", "TASK", "DIED", "REASON"}};
  for (const DeadTask& d : *dead) {
    rows.push_back({d.id, d.queue, task_name_of(d), format_time(d.died_at), d.reason});
  }
  print_table(rows);
  return kExitOk;
}

int run_dead_retry_cmd(App& app, const DeadRetryArgs& a) {
  constexpr std::string_view kCmd = "dead retry";
  if (a.all == !a.ids.empty()) {
    return fail(kCmd, "give the ids of dead tasks to retry, or --all (not both)", kExitUsage);
  }
  Result<std::shared_ptr<Store>> store = open_app_store(app);
  if (!store.ok()) return fail(kCmd, store.status());
  Result<std::int64_t> n = (*store)->retry_dead(a.ids, app.clock().now_ms());
  if (!n.ok()) return fail(kCmd, n.status());
  std::printf("requeued %lld dead task(s)\n", static_cast<long long>(*n));
  if (!a.all && *n < static_cast<std::int64_t>(a.ids.size())) {
    return fail(kCmd, std::to_string(a.ids.size() - *n) + " of the given ids are not dead tasks",
                kExitFailure);
  }
  return kExitOk;
}

int run_dead_purge_cmd(App& app) {
  constexpr std::string_view kCmd = "dead purge";
  Result<std::shared_ptr<Store>> store = open_app_store(app);
  if (!store.ok()) return fail(kCmd, store.status());
  Result<std::int64_t> n = (*store)->purge_dead();
  if (!n.ok()) return fail(kCmd, n.status());
  std::printf("removed %lld dead task(s)\n", static_cast<long long>(*n));
  return kExitOk;
}

int run_purge_cmd(App& app, const PurgeArgs& a) {
  constexpr std::string_view kCmd = "purge";
  Result<std::shared_ptr<Store>> store = open_app_store(app);
  if (!store.ok()) return fail(kCmd, store.status());
  Result<std::int64_t> n = (*store)->purge_queue(a.queue);
  if (!n.ok()) return fail(kCmd, n.status());
  std::printf("removed %lld task(s) from queue '%s'\n", static_cast<long long>(*n),
              a.queue.c_str());
  return kExitOk;
}

}  // namespace runq::internal
