#include <algorithm>
#include <cmath>

#include "runq/options.hpp"

namespace runq {

Backoff Backoff::exponential(std::chrono::milliseconds base, double factor,
                             std::chrono::milliseconds cap) {
  Backoff b;
  b.base_ = std::max<Millis>(0, base.count());
  b.factor_ = factor < 1.0 ? 1.0 : factor;
  b.cap_ = std::max<Millis>(b.base_, cap.count());
  b.jitter_ = true;
  return b;
}

Backoff Backoff::fixed(std::chrono::milliseconds delay) {
  Backoff b;
  b.base_ = b.cap_ = std::max<Millis>(0, delay.count());
  b.factor_ = 1.0;
  b.jitter_ = false;
  return b;
}

Millis Backoff::delay_ms(int retry, double random01) const {
  if (!jitter_) return base_;
  double ceiling = static_cast<double>(base_) * std::pow(factor_, std::max(0, retry - 1));
  ceiling = std::min(ceiling, static_cast<double>(cap_));
  double r = std::clamp(random01, 0.0, 1.0);
  return static_cast<Millis>(ceiling * r);
}

bool TaskOptions::should_retry(const std::exception_ptr& ep) const {
  if (retry_rules_.empty()) return true;
  return std::any_of(retry_rules_.begin(), retry_rules_.end(),
                     [&](const auto& rule) { return rule(ep); });
}

}  // namespace runq
