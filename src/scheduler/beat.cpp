#include "scheduler/beat.hpp"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>

#include <nlohmann/json.hpp>

#include "scheduler/internal/ticks.hpp"

namespace runq {
namespace {

nlohmann::json time_or_null(const Schedule& schedule, Millis t) {
  return (t <= 0 || t == kNever) ? nlohmann::json(nullptr)
                                 : nlohmann::json(schedule.format_time(t));
}

// The last_run recorded in a schedule's info JSON (0 when absent or unreadable).
Millis info_last_run(const std::string& info) {
  auto json = nlohmann::json::parse(info, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return 0;
  auto it = json.find("last_run");
  return it != json.end() && it->is_number_integer() ? it->get<Millis>() : 0;
}

}  // namespace

Beat::Beat(Store& store, Clock& clock, std::vector<PeriodicEntry> entries, BeatOptions options)
    : store_(store),
      clock_(clock),
      entries_(std::move(entries)),
      states_(entries_.size()),
      options_(options),
      start_ms_(clock.now_ms()) {
  config_status_ = validate();
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    states_[i].next_due = entries_[i].schedule.next_after(start_ms_ - 1);
  }
}

Status Beat::validate() const {
  std::set<std::string, std::less<>> names;
  for (const PeriodicEntry& e : entries_) {
    auto bad = [&](const std::string& why) {
      return invalid_argument_error("periodic schedule \"" + e.name + "\": " + why);
    };
    if (e.name.empty()) return invalid_argument_error("periodic schedule: empty name");
    if (!names.insert(e.name).second) return bad("registered twice");
    if (!e.make_task) return bad("no task to enqueue (make_task is empty)");
    if (e.run_all_limit < 0) return bad("run_all_limit must be >= 0");
    if (!e.info_json_extra.empty()) {
      auto extra = nlohmann::json::parse(e.info_json_extra, nullptr, /*allow_exceptions=*/false);
      if (!extra.is_object()) return bad("info_json_extra is not a JSON object");
    }
  }
  return ok_status();
}

std::string Beat::info_json(const PeriodicEntry& e, Millis last_tick, Millis now) const {
  nlohmann::json info = e.info_json_extra.empty() ? nlohmann::json::object()
                                                  : nlohmann::json::parse(e.info_json_extra);
  const Schedule& s = e.schedule;
  Millis next = s.next_after(std::max(now, last_tick));
  info["expression"] = s.expression();
  info["zone"] = s.zone();
  info["describe"] = s.describe();
  info["misfire"] = misfire_name(e.misfire);
  info["next_run"] = next == kNever ? nlohmann::json(nullptr) : nlohmann::json(next);
  info["next_run_iso"] = time_or_null(s, next);
  info["last_run"] = last_tick > 0 ? nlohmann::json(last_tick) : nlohmann::json(nullptr);
  info["last_run_iso"] = time_or_null(s, last_tick);
  info["last_task_id"] = last_tick > 0
                             ? nlohmann::json(internal::periodic_task_id(e.name, last_tick))
                             : nlohmann::json(nullptr);
  return info.dump();
}

Status Beat::register_schedules() {
  RUNQ_RETURN_IF_ERROR(config_status_);
  RUNQ_ASSIGN_OR_RETURN(std::vector<ScheduleState> states, store_.list_schedules());
  std::map<std::string, Millis, std::less<>> last_ticks;
  for (const ScheduleState& s : states) last_ticks[s.name] = s.last_tick;
  const Millis now = clock_.now_ms();
  for (const PeriodicEntry& e : entries_) {
    auto it = last_ticks.find(e.name);
    Millis last = it == last_ticks.end() ? 0 : it->second;
    RUNQ_RETURN_IF_ERROR(store_.put_schedule_info(e.name, info_json(e, last, now))
                             .with_context("registering periodic schedule \"" + e.name + "\""));
  }
  return ok_status();
}

Result<bool> Beat::fire(const PeriodicEntry& e, Millis tick, Millis now) {
  NewTask task;
  try {
    task = e.make_task(tick);
  } catch (const std::exception& ex) {
    return internal_error("periodic schedule \"" + e.name + "\": building its task: " + ex.what());
  }
  // The deterministic id is what makes a duplicate claim harmless: enqueue skips known ids.
  task.id = internal::periodic_task_id(e.name, tick);
  RUNQ_ASSIGN_OR_RETURN(bool claimed, store_.claim_tick(e.name, tick, task, now));
  if (claimed) {
    // Info is for display; the claim already happened, so a failure here only delays it.
    RUNQ_RETURN_IF_ERROR(store_.put_schedule_info(e.name, info_json(e, tick, now)));
  }
  return claimed;
}

Result<int> Beat::tick_entry(std::size_t i, const ScheduleState* state, Millis now) {
  const PeriodicEntry& e = entries_[i];
  EntryState& es = states_[i];
  const Millis last = state ? state->last_tick : 0;
  // max(now, last): a faster-clocked Beat may have claimed ticks this clock has not reached;
  // waking for those would only spin.
  es.next_due = e.schedule.next_after(std::max(now, last));
  if (state && state->paused) {
    es.seen_paused = true;
    return 0;
  }
  if (es.seen_paused) {
    // Resumed: ticks that fell due while paused were not wanted; on-time ones still are.
    es.floor = now - options_.grace_ms - 1;
    es.seen_paused = false;
  }
  // Never-fired schedules start at this Beat's creation; a tick exactly then counts.
  const Millis after = std::max(last > 0 ? last : start_ms_ - 1, es.floor);
  int fired = 0;
  for (Millis t :
       internal::due_ticks(e.schedule, after, now, options_.grace_ms, e.misfire, e.run_all_limit)) {
    RUNQ_ASSIGN_OR_RETURN(bool claimed, fire(e, t, now));
    fired += claimed ? 1 : 0;
  }
  if (fired == 0 && state && info_last_run(state->info) != last) {
    // Racing Beats can leave the info of an older claim on top; last_tick is the truth.
    RUNQ_RETURN_IF_ERROR(store_.put_schedule_info(e.name, info_json(e, last, now)));
  }
  return fired;
}

Result<int> Beat::tick() {
  RUNQ_RETURN_IF_ERROR(config_status_);
  // One `now` for the whole pass, so all entries agree on what is due; one list_schedules
  // round trip, whatever the number of entries.
  const Millis now = clock_.now_ms();
  RUNQ_ASSIGN_OR_RETURN(std::vector<ScheduleState> states, store_.list_schedules());
  std::map<std::string, const ScheduleState*, std::less<>> by_name;
  for (const ScheduleState& s : states) by_name[s.name] = &s;
  int fired = 0;
  Status first_error;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    auto it = by_name.find(entries_[i].name);
    Result<int> n = tick_entry(i, it == by_name.end() ? nullptr : it->second, now);
    if (n.ok()) {
      fired += *n;
    } else {
      // Retry this entry soon rather than at its next tick.
      states_[i].next_due = now;
      if (first_error.ok()) first_error = n.status();
    }
  }
  if (!first_error.ok()) return first_error;
  return fired;
}

std::string Beat::task_id(std::string_view name, Millis tick) {
  return internal::periodic_task_id(name, tick);
}

Millis Beat::next_wakeup() const {
  Millis next = kNever;
  for (const EntryState& s : states_) next = std::min(next, s.next_due);
  return next;
}

void Beat::run(std::stop_token stop) {
  std::mutex mu;
  std::condition_variable_any cv;
  while (!stop.stop_requested()) {
    Result<int> pass = tick();
    last_status_ = pass.status();
    // Waiting in chunks of at most poll_ms also bounds the damage of a clock jump: the next
    // pass recomputes what is due from the clock, whatever this wait assumed.
    Millis wait = options_.poll_ms;
    if (pass.ok() && next_wakeup() != kNever) {
      wait = std::clamp<Millis>(next_wakeup() - clock_.now_ms(), 0, options_.poll_ms);
    }
    std::unique_lock lock(mu);
    // Wakes early only on stop; the predicate is the stop request itself.
    cv.wait_for(lock, stop, std::chrono::milliseconds(wait), [] { return false; });
  }
}

}  // namespace runq
