// The Prometheus text exposition (format 0.0.4) served at /metrics: per-queue gauges, worker
// gauges and store-wide counters, read from the store, so they cover every worker on every
// machine, not only this process. docs/http-api.md lists the metrics and Grafana queries.
#pragma once

#include <string>

#include "runq/status.hpp"
#include "runq/store.hpp"

namespace runq::internal {

// Errors: those of Store::stats (Unavailable).
Result<std::string> render_metrics(Store& store, Millis now);

}  // namespace runq::internal
