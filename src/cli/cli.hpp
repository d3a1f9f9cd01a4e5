// The command line shared by the `runq` tool and App::main: a table of thin subcommands that
// parse arguments, call the store / worker / scheduler, and render.
#pragma once

namespace runq {
class App;
}

namespace runq::internal {

// Runs the command line on `app` (its registered tasks are what `worker` can run). Returns
// the process exit code; errors are printed as one line on stderr.
int run_cli(App& app, int argc, char** argv);

}  // namespace runq::internal
