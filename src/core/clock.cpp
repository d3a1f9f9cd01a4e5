#include "runq/clock.hpp"

namespace runq {
namespace {

class SystemClock final : public Clock {
 public:
  Millis now_ms() const override {
    return to_millis(std::chrono::system_clock::now().time_since_epoch());
  }
};

}  // namespace

Clock& Clock::system() {
  static SystemClock clock;
  return clock;
}

}  // namespace runq
