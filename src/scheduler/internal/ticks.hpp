// Tick arithmetic for the scheduler: which ticks of a schedule are due, late or missed.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runq/clock.hpp"
#include "runq/schedule.hpp"

namespace runq::internal {

// The latest tick T of `schedule` with after < T <= upto, or nullopt. A binary search over
// next_after (which is monotonic), so it costs ~45 next_after calls however long the span:
// a week-long outage of a once-a-second schedule is as cheap as a minute's.
std::optional<Millis> latest_tick(const Schedule& schedule, Millis after, Millis upto);

// The ticks to fire now, oldest first, for a schedule whose last claimed tick (or baseline)
// is `after`:
//  - ticks in (now - grace_ms, now] are on time and always included;
//  - older ones in (after, now - grace_ms] are missed; `policy` decides: kSkip drops them,
//    kRunOnce keeps the latest of them only when no tick is on time, kRunAll keeps the
//    latest `run_all_limit` of them.
// REQUIRES: grace_ms >= 0, run_all_limit >= 0.
std::vector<Millis> due_ticks(const Schedule& schedule, Millis after, Millis now, Millis grace_ms,
                              Misfire policy, int run_all_limit);

// "periodic:NAME:2024-03-31T01:00:00Z", with ".mmm" before the Z when the tick has
// milliseconds. The same on every host: the id that makes a tick's task unique.
std::string periodic_task_id(std::string_view schedule_name, Millis tick);

}  // namespace runq::internal
