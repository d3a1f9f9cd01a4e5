// What runq_chaos and runq_soak share before and after their runs: the cluster flags, the run
// directory, and the exit code of a run whose store server is not installed.
//
// Thread safety: none; called from main() only.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace runq::chaos {

// Adds --store, --workers, --concurrency and --app, bound to the given variables (their
// current values are the defaults shown by --help).
void add_cluster_options(CLI::App& cli, std::string& store, int& workers, int& concurrency,
                         std::string& app_binary);

// Checks the store kind and makes a fresh directory `<tmp>/runq-<tool>-XXXXXX`. Returns its
// path, or "" after printing why (`<tool>: --store: unknown kind ...`, or mkdtemp's error).
std::string prepare_run_dir(const std::string& tool, const std::string& store);

// The exit code of a run whose store server is not installed: 1 under CI (a missing server is
// a failure there), else 77 (ctest's skip code). Prints `<tool>: <why>` first.
int exit_not_installed(const std::string& tool, const std::string& why);

}  // namespace runq::chaos
