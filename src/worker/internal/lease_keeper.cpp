#include "worker/internal/lease_keeper.hpp"

#include <algorithm>
#include <chrono>

#include "worker/internal/log.hpp"

namespace runq::internal {

LeaseKeeper::LeaseKeeper(Store& store, const Clock& clock, LeaseTable& leases,
                         LeaseKeeperOptions opts, std::function<WorkerInfo()> info,
                         std::function<void(const std::string&, Millis)> terminate)
    : store_(store),
      clock_(clock),
      leases_(leases),
      opts_(opts),
      info_(std::move(info)),
      terminate_(std::move(terminate)) {}

void LeaseKeeper::start() {
  thread_ = std::thread([this] { keep_loop(); });
}

void LeaseKeeper::stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool LeaseKeeper::wait_tick(Millis ms) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  MutexLock lock(mu_);
  while (!stopping_ && cv_.wait_until(mu_, until)) {
  }
  return !stopping_;
}

void LeaseKeeper::keep_loop() {
  const Millis revoke_poll = std::max<Millis>(10, opts_.revoke_poll_ms);
  Millis tick = std::max<Millis>(20, std::min(opts_.lease_ms / 3, opts_.heartbeat_ms));
  tick = std::min<Millis>({tick, 100, revoke_poll});
  Millis last_beat = 0, last_extend = clock_.now_ms(), last_cleanup = 0, last_revoke_poll = 0;
  bool cleanup_behind = false;
  while (wait_tick(tick)) {
    Millis now = clock_.now_ms();
    leases_.cancel_overdue(now);
    if (now - last_extend >= opts_.lease_ms / 3) {
      extend_leases(now);
      last_extend = now;
    }
    if (now - last_beat >= opts_.heartbeat_ms) {
      (void)store_.heartbeat(info_());
      last_beat = now;
    }
    // Revoke requests are read often, not with the heartbeat: a `revoke --terminate` reaches
    // a running task within about revoke_poll_ms (docs/benchmarks.md, "Revoke").
    // (Half a tick of slack: a wait that ends a millisecond early must not skip a poll.)
    if (now - last_revoke_poll + tick / 2 >= revoke_poll) {
      poll_revokes();
      last_revoke_poll = now;
    }
    if (cleanup_behind || now - last_cleanup >= kCleanupEveryMs) {
      // A store may bound the work of one call (Redis: 10,000 expired results): while it
      // keeps finding that much, clean up again at the next tick instead of in a minute.
      Result<std::int64_t> removed = store_.cleanup(now);
      cleanup_behind = removed.ok() && *removed >= kCleanupAgainAt;
      last_cleanup = now;
    }
  }
}

void LeaseKeeper::poll_revokes() {
  if (revoke_unsupported_) return;
  std::vector<LeaseRef> refs = leases_.refs();
  if (refs.empty()) return;
  std::vector<std::string> ids;
  ids.reserve(refs.size());
  for (LeaseRef& r : refs) ids.push_back(std::move(r.id));
  Result<std::vector<RevokeRequest>> requests = store_.revoke_requests(ids);
  if (!requests.ok()) {
    if (is_failed_precondition(requests.status())) {
      revoke_unsupported_ = true;
      log_line(requests.status().message() + "; revoking running tasks will not work");
    }
    return;
  }
  if (requests->empty()) return;
  for (const std::string& id : leases_.revoke(*requests)) terminate_(id, opts_.revoke_grace_ms);
}

void LeaseKeeper::extend_leases(Millis now) {
  std::vector<LeaseRef> refs = leases_.refs();
  if (refs.empty()) return;
  Result<std::vector<bool>> kept = store_.extend(refs, opts_.lease_ms, now);
  if (!kept.ok()) {
    log_line("extending leases failed: " + kept.status().to_string());
    return;
  }
  leases_.cancel_lost(refs, *kept, now + opts_.lease_ms);
}

}  // namespace runq::internal
