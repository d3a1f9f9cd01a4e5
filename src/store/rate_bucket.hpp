// The limit arithmetic every store shares (TaskLimits::rate_key): GCRA, the "generic cell
// rate algorithm", a token bucket kept as one timestamp. The SQLite and memory stores run it
// here on the caller's clock; the Redis store runs the same steps in Lua (flow_lib.lua) on the
// server's clock. Times are in microseconds so that 300/s (3,333 us apart) stays exact.
#pragma once

#include <algorithm>
#include <cstdint>

#include "runq/clock.hpp"

namespace runq::internal {

// The eta of a task parked for a concurrency slot (TaskLimits::concurrency_key): SCHEDULED,
// never due by time; a freed slot brings it back to its queue. Far from overflow in sums.
inline constexpr Millis kParkedEta = 4'000'000'000'000'000'000;

// Tasks of one bucket may start this much ahead of their even spacing (catching up after a
// late worker), and never more: at most 25 ms worth of tasks over the rate in any window.
inline constexpr std::int64_t kRateBurstUs = 25'000;

// The stored state of one bucket.
struct RateBucket {
  std::int64_t tat_us = 0;        // theoretical arrival time: the bucket allows a task at
                                  // tat - burst or later
  std::int64_t park_next_us = 0;  // the next free slot for a task moved aside
  Millis window_start = 0;        // the current counting window (one period long)
  std::int64_t window_n = 0;      // tasks handed out in it
  std::int64_t previous_n = 0;    // ... and in the window before (status)
};

// Spacing of tasks at `count` per `period_ms`, in microseconds (>= 1).
inline std::int64_t rate_interval_us(std::int64_t count, Millis period_ms) {
  return std::max<std::int64_t>(1, period_ms * 1000 / std::max<std::int64_t>(1, count));
}

inline std::int64_t rate_burst_us(std::int64_t count, Millis period_ms) {
  return std::clamp<std::int64_t>(period_ms * 1000 - rate_interval_us(count, period_ms), 0,
                                  kRateBurstUs);
}

// Takes one task from the bucket at `now`. Returns 0 when allowed (the bucket is updated), or
// the time (ms, on the same clock as `now`) at which the task should be looked at again: its
// slot in the line of tasks moved aside, so that a backlog comes back one slot at a time and
// no reserve has to look at it before then.
inline Millis rate_take(RateBucket& b, std::int64_t count, Millis period_ms, Millis now) {
  const std::int64_t now_us = now * 1000;
  const std::int64_t interval = rate_interval_us(count, period_ms);
  const std::int64_t tat = std::max(b.tat_us, now_us);
  if (tat - now_us > rate_burst_us(count, period_ms)) {
    const std::int64_t slot = std::max(b.park_next_us, tat - rate_burst_us(count, period_ms));
    b.park_next_us = slot + interval;
    return std::max<Millis>(now + 1, (slot + 999) / 1000);
  }
  b.tat_us = tat + interval;
  if (now >= b.window_start + period_ms) {
    b.previous_n = now < b.window_start + 2 * period_ms ? b.window_n : 0;
    b.window_start = now;
    b.window_n = 0;
  }
  ++b.window_n;
  return 0;
}

// Tasks handed out in the latest full period, as of `now` (status).
inline std::int64_t rate_started_last_period(const RateBucket& b, Millis period_ms, Millis now) {
  if (now >= b.window_start + 2 * period_ms) return 0;
  if (now >= b.window_start + period_ms) return b.window_n;
  return b.previous_n;
}

// How long from `now` until the bucket allows a task (0 = at once).
inline Millis rate_next_free_ms(const RateBucket& b, std::int64_t count, Millis period_ms,
                                Millis now) {
  const std::int64_t wait_us = b.tat_us - rate_burst_us(count, period_ms) - now * 1000;
  return wait_us <= 0 ? 0 : (wait_us + 999) / 1000;
}

}  // namespace runq::internal
