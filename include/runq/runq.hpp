// runq/runq.hpp — the umbrella header: everything a user of runq needs.
//
// Reading order: app.hpp (register and enqueue) → task.hpp (typed handles) → options.hpp
// (task and enqueue options, backoff) → context.hpp (inside a task) → result.hpp (AsyncResult)
// → schedule.hpp (cron / every) → worker.hpp → store.hpp (the backend contract) →
// status.hpp / error.hpp (errors) → clock.hpp.
//
// Everything here is in namespace runq. Names in runq::internal and headers under
// runq/internal/ are implementation details that may change in any release.
// Thread safety: each header states its own rules.
#pragma once

#include "runq/app.hpp"
#include "runq/clock.hpp"
#include "runq/context.hpp"
#include "runq/error.hpp"
#include "runq/options.hpp"
#include "runq/result.hpp"
#include "runq/schedule.hpp"
#include "runq/status.hpp"
#include "runq/store.hpp"
#include "runq/task.hpp"
#include "runq/worker.hpp"
