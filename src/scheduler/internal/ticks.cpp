#include "scheduler/internal/ticks.hpp"

#include <algorithm>

#include "scheduler/internal/schedule_rep.hpp"

namespace runq::internal {
namespace {

// More on-time ticks than this in one grace window means a sub-millisecond-ish interval;
// the cap keeps one pass bounded whatever the configuration.
constexpr int kMaxOnTime = 10'000;

}  // namespace

std::optional<Millis> latest_tick(const Schedule& schedule, Millis after, Millis upto) {
  if (upto <= after || schedule.next_after(after) > upto) return std::nullopt;
  // Invariant: next_after(lo) <= upto < next_after(hi). At the end hi == lo + 1, so the
  // tick next_after(lo) is the last one <= upto.
  Millis lo = after;
  Millis hi = upto;
  while (hi - lo > 1) {
    Millis mid = lo + (hi - lo) / 2;
    if (schedule.next_after(mid) <= upto) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return schedule.next_after(lo);
}

std::vector<Millis> due_ticks(const Schedule& schedule, Millis after, Millis now, Millis grace_ms,
                              Misfire policy, int run_all_limit) {
  // Ticks in (missed_upto, now] are on time; `- 1` makes a tick exactly grace_ms late count
  // as on time.
  const Millis missed_upto = std::max(after, now - grace_ms - 1);
  std::vector<Millis> on_time;
  for (Millis t = schedule.next_after(missed_upto);
       t <= now && static_cast<int>(on_time.size()) < kMaxOnTime; t = schedule.next_after(t)) {
    on_time.push_back(t);
  }
  std::vector<Millis> out;
  if (policy == Misfire::kRunAll) {
    Millis upto = missed_upto;
    while (static_cast<int>(out.size()) < run_all_limit) {
      std::optional<Millis> t = latest_tick(schedule, after, upto);
      if (!t) break;
      out.push_back(*t);
      upto = *t - 1;
    }
    std::reverse(out.begin(), out.end());
  } else if (policy == Misfire::kRunOnce && on_time.empty()) {
    if (std::optional<Millis> t = latest_tick(schedule, after, missed_upto)) out.push_back(*t);
  }
  out.insert(out.end(), on_time.begin(), on_time.end());
  return out;
}

std::string periodic_task_id(std::string_view schedule_name, Millis tick) {
  std::string iso = format_in_zone(tick, Zone());  // "...+00:00"
  if (iso.ends_with("+00:00")) iso.replace(iso.size() - 6, 6, "Z");
  return "periodic:" + std::string(schedule_name) + ":" + iso;
}

}  // namespace runq::internal
