#include "worker/internal/lease_table.hpp"

namespace runq::internal {

void LeaseTable::add(const std::vector<Delivery>& batch) {
  MutexLock lock(mu_);
  for (const Delivery& d : batch) {
    Held& h = held_[d.id];
    h.token = d.token;
    h.lease_expires = d.lease_expires;
  }
}

std::optional<LeaseTable::Started> LeaseTable::start(const Delivery& d, Millis now,
                                                     Millis deadline) {
  MutexLock lock(mu_);
  auto it = held_.find(d.id);
  if (it == held_.end()) it = held_.emplace(d.id, Held{.token = d.token}).first;
  Held& h = it->second;
  if (h.token != d.token) return std::nullopt;  // a later delivery of the same task is held
  if (h.lost || (h.lease_expires > 0 && now >= h.lease_expires)) {
    held_.erase(it);
    return std::nullopt;
  }
  h.running = true;
  h.deadline = deadline;
  return Started{h.stop.get_token(), h.revoked};
}

void LeaseTable::remove(const std::vector<Settlement>& batch) {
  MutexLock lock(mu_);
  for (const Settlement& s : batch) {
    auto it = held_.find(s.id);
    if (it != held_.end() && it->second.token == s.token) held_.erase(it);
  }
}

std::vector<LeaseRef> LeaseTable::refs() const {
  MutexLock lock(mu_);
  std::vector<LeaseRef> refs;
  refs.reserve(held_.size());
  for (const auto& [id, h] : held_) refs.push_back({id, h.token});
  return refs;
}

void LeaseTable::cancel_lost(const std::vector<LeaseRef>& refs, const std::vector<bool>& kept,
                             Millis kept_until) {
  MutexLock lock(mu_);
  for (std::size_t i = 0; i < refs.size(); ++i) {
    auto it = held_.find(refs[i].id);
    if (it == held_.end() || it->second.token != refs[i].token) continue;
    if (kept[i]) {
      it->second.lease_expires = kept_until;
      continue;
    }
    // Lost to another worker: tell the task to stop; its result will be refused anyway.
    it->second.lost = true;
    it->second.stop.request_stop();
  }
}

void LeaseTable::cancel_overdue(Millis now) {
  MutexLock lock(mu_);
  for (auto& [id, h] : held_) {
    if (h.running && h.deadline > 0 && now >= h.deadline) h.stop.request_stop();
  }
}

void LeaseTable::cancel_all() {
  MutexLock lock(mu_);
  for (auto& [id, h] : held_) h.stop.request_stop();
}

std::vector<std::string> LeaseTable::revoke(const std::vector<RevokeRequest>& requests) {
  MutexLock lock(mu_);
  std::vector<std::string> terminate;
  for (const RevokeRequest& r : requests) {
    auto it = held_.find(r.id);
    if (it == held_.end()) continue;
    Held& h = it->second;
    h.revoked = h.revoked.value_or(false) || r.terminate;
    if (r.terminate) {
      h.stop.request_stop();
      if (h.running) terminate.push_back(r.id);
    }
  }
  return terminate;
}

std::optional<bool> LeaseTable::revoked(const std::string& id) const {
  MutexLock lock(mu_);
  auto it = held_.find(id);
  return it == held_.end() ? std::nullopt : it->second.revoked;
}

}  // namespace runq::internal
