// Default implementations of the Store methods a backend may override to save round trips.
#include "runq/store.hpp"

namespace runq {

Result<std::vector<Delivery>> Store::wait_and_reserve(const ReserveRequest& req, Millis timeout_ms,
                                                      const Clock& clock) {
  Status waited = wait_for_work(req.queues, timeout_ms);
  if (!waited.ok() && !is_deadline_exceeded(waited)) return waited;
  ReserveRequest now = req;
  now.now = clock.now_ms();
  return reserve(now);
}

}  // namespace runq
