#include "store/redis/scripts.hpp"

#include <algorithm>
#include <thread>

#include "store/redis/connection.hpp"

namespace runq::internal {

bool Backoff::wait() {
  if (!enabled_ || std::chrono::steady_clock::now() + delay_ > give_up_) return false;
  std::this_thread::sleep_for(delay_);  // the server is down or loading: back off
  delay_ = std::min(delay_ * 2, std::chrono::milliseconds(500));
  return true;
}

bool refused_for_now(const redisReply* r) {
  for (std::string_view prefix : {"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN"}) {
    if (is_error_reply(r, prefix)) return true;
  }
  return false;
}

}  // namespace runq::internal
