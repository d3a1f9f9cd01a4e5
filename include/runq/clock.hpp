// runq/clock.hpp — the one source of "now" for runq's time-dependent logic, and the time
// unit of the whole API (Millis: milliseconds since the Unix epoch).
//
// Every store call that depends on time takes `now` as a parameter. The App (eta,
// countdown, expiry), the worker (leases, time limits, heartbeats) and the scheduler (ticks)
// read time through the App's `Clock` (AppOptions::clock), so tests can drive them with a
// `ManualClock`. Waits with a timeout (AsyncResult::get, idle workers) still use real time.
//
// Thread safety: all methods of Clock and ManualClock may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace runq {

// Milliseconds since the Unix epoch (UTC): the unit of every timestamp in the API. Also used
// for durations in ms (lease_ms, result_ttl...).
using Millis = std::int64_t;

// Converts a std::chrono duration to whole milliseconds, truncating toward zero (1999us ->
// 1). Overflow is not checked.
template <typename Rep, typename Period>
constexpr Millis to_millis(std::chrono::duration<Rep, Period> d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// A source of wall-clock time. Subclass it to control time in tests.
class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in milliseconds since the Unix epoch. Implementations must be safe to
  // call from any thread, never throw, and should not block. Not required to be monotonic
  // (the system clock may step back).
  virtual Millis now_ms() const = 0;

  // The process-wide real clock (std::chrono::system_clock), valid for the whole program
  // lifetime.
  static Clock& system();
};

// A clock that moves only when told to. For tests: pass it as AppOptions::clock and move it
// with advance() instead of sleeping. Lock-free; every method is thread-safe.
class ManualClock final : public Clock {
 public:
  // Starts at `start` [2023-11-14T22:13:20Z].
  explicit ManualClock(Millis start = 1'700'000'000'000) : now_(start) {}
  Millis now_ms() const override { return now_.load(std::memory_order_acquire); }
  // Jumps to `t`, forward or backward.
  void set(Millis t) { now_.store(t, std::memory_order_release); }
  // Moves forward by `d` ms (backward when d < 0).
  void advance(Millis d) { now_.fetch_add(d, std::memory_order_acq_rel); }

 private:
  std::atomic<Millis> now_;
};

}  // namespace runq
