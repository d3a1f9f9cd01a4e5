// The `runq` tool: the admin commands (enqueue, result, status, dead, purge, schedule) on any
// store. It registers no tasks, so `worker` runs from the application's own binary instead.
#include "runq/app.hpp"

int main(int argc, char** argv) {
  runq::App app;
  return app.main(argc, argv);
}
