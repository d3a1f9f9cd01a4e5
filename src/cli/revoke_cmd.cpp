// `revoke ID [--terminate]`: App::revoke, and what it did in one line.
#include <cstdio>

#include "cli/cli_support.hpp"
#include "cli/commands.hpp"
#include "runq/app.hpp"

namespace runq::internal {

int run_revoke_cmd(App& app, const RevokeArgs& a) {
  constexpr std::string_view kCmd = "revoke";
  // Revoke is idempotent (a revoked task reads REVOKED after the call either way): look
  // first, to tell the user when there was nothing to do.
  Result<std::shared_ptr<Store>> store = open_app_store(app);
  if (!store.ok()) return fail(kCmd, store.status());
  if (Result<TaskInfo> before = (*store)->get_task(a.id, app.clock().now_ms());
      before.ok() && is_final(before->state)) {
    std::printf("%s is already %s: nothing to revoke\n", a.id.c_str(),
                std::string(task_state_name(before->state)).c_str());
    return kExitOk;
  }
  Result<TaskState> state = app.revoke(a.id, {.terminate = a.terminate});
  if (!state.ok()) {
    if (is_not_found(state.status())) {
      return fail(kCmd, "no task '" + a.id + "' (never enqueued, or its result expired)",
                  kExitUnknown);
    }
    return fail(kCmd, state.status());
  }
  const char* id = a.id.c_str();
  switch (*state) {
    case TaskState::kRevoked:
      std::printf("revoked %s: it had not started and will never run\n", id);
      break;
    case TaskState::kReserved:
      if (a.terminate) {
        std::printf(
            "revoke requested for %s: it is running; its worker cancels it within about "
            "50 ms (a process-pool worker kills it after --revoke-grace) and it ends "
            "revoked\n",
            id);
      } else {
        std::printf(
            "revoke requested for %s: it is reserved or running; if it has not started it "
            "never will, if it runs it finishes (use --terminate to stop it)\n",
            id);
      }
      break;
    default:
      std::printf("%s is already %s: nothing to revoke\n", id,
                  std::string(task_state_name(*state)).c_str());
      break;
  }
  return kExitOk;
}

}  // namespace runq::internal
