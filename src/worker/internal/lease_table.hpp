// LeaseTable: the leases a worker holds, and the cancellation flag of each task.
//
// A task is in the table from the moment it is reserved until its settlement was applied
// or refused by the store, so the lease keeper extends exactly the leases this worker still
// needs: those of buffered tasks, running tasks and results waiting to be written.
//
// Thread safety: every method may be called from any thread; each takes mu_ briefly and
// calls nothing else while holding it.
#pragma once

#include <optional>
#include <stop_token>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/mutex.hpp"
#include "runq/clock.hpp"
#include "runq/store.hpp"

namespace runq::internal {

class LeaseTable {
 public:
  // Records the leases of a reserved batch.
  void add(const std::vector<Delivery>& batch) RUNQ_EXCLUDES(mu_);
  // What start() found.
  struct Started {
    std::stop_token stop;         // the task's cancellation token
    std::optional<bool> revoked;  // a revoke request was seen: whether with terminate
  };
  // Marks `d` as running, with its soft time limit at `deadline` (0 = none). Returns nullopt
  // instead (forgetting `d`'s own lease) when it must not start: its lease lapsed at or before
  // `now` (it sat in the buffer while the process was stopped or starved, so another worker may run
  // it already), an extend found it lost, or a later delivery of the same task is held. The store
  // redelivers such a task.
  std::optional<Started> start(const Delivery& d, Millis now, Millis deadline) RUNQ_EXCLUDES(mu_);
  // Forgets the leases that `batch` settled (applied or refused): a lease whose token
  // changed since belongs to a later delivery and is kept.
  void remove(const std::vector<Settlement>& batch) RUNQ_EXCLUDES(mu_);

  // The leases to extend.
  std::vector<LeaseRef> refs() const RUNQ_EXCLUDES(mu_);
  // Applies an extend: `kept[i]` true means `refs[i]` now lasts until `kept_until`; false
  // means it was lost, and the task is cancelled.
  void cancel_lost(const std::vector<LeaseRef>& refs, const std::vector<bool>& kept,
                   Millis kept_until) RUNQ_EXCLUDES(mu_);
  // Cancels the running tasks whose soft time limit is at or before `now`.
  void cancel_overdue(Millis now) RUNQ_EXCLUDES(mu_);
  // Cancels every task held (the grace period after a stop request is over).
  void cancel_all() RUNQ_EXCLUDES(mu_);

  // Records revoke requests for held tasks (ids not held are ignored). With `terminate` the
  // task's cancellation flag is raised at once. Returns the ids of running tasks revoked
  // with terminate (to stop by force).
  std::vector<std::string> revoke(const std::vector<RevokeRequest>& requests) RUNQ_EXCLUDES(mu_);
  // Whether `id` was revoked: nullopt if not, else whether with terminate.
  std::optional<bool> revoked(const std::string& id) const RUNQ_EXCLUDES(mu_);

 private:
  struct Held {
    std::uint64_t token = 0;
    Millis lease_expires = 0;  // as the reserve or the last successful extend set it
    bool lost = false;         // an extend found the lease gone
    std::stop_source stop;
    Millis deadline = 0;  // soft time limit, 0 = none
    bool running = false;
    std::optional<bool> revoked;  // revoke request seen; the value: with terminate
  };

  mutable Mutex mu_;
  std::unordered_map<std::string, Held> held_ RUNQ_GUARDED_BY(mu_);
};

}  // namespace runq::internal
