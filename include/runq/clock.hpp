// runq/clock.hpp — the one source of "now" for runq's time-dependent logic.
//
// Stores never read the clock: every store call that depends on time takes `now` as a
// parameter. The worker, the scheduler and the retry policy read time only through a `Clock`,
// so tests drive them with a `ManualClock` instead of sleeping.
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace runq {

// Milliseconds since the Unix epoch (UTC). The unit of every timestamp in the store API.
using Millis = std::int64_t;

// Converts a std::chrono duration to whole milliseconds.
template <typename Rep, typename Period>
constexpr Millis to_millis(std::chrono::duration<Rep, Period> d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in milliseconds since the Unix epoch.
  virtual Millis now_ms() const = 0;

  // The process-wide real clock (std::chrono::system_clock).
  static Clock& system();
};

// A clock that moves only when told to. For tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Millis start = 1'700'000'000'000) : now_(start) {}
  Millis now_ms() const override { return now_.load(std::memory_order_acquire); }
  void set(Millis t) { now_.store(t, std::memory_order_release); }
  void advance(Millis d) { now_.fetch_add(d, std::memory_order_acq_rel); }

 private:
  std::atomic<Millis> now_;
};

}  // namespace runq
