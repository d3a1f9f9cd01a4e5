// App::main lives in the cli layer: the app layer declares it (runq/app.hpp) but must not
// depend on the command line, which sits above it.
#include "cli/cli.hpp"
#include "runq/app.hpp"

namespace runq {

int App::main(int argc, char** argv) { return internal::run_cli(*this, argc, argv); }

}  // namespace runq
