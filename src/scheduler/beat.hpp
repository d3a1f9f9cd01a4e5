// Beat: the periodic scheduler. Fires each tick of each registered schedule by enqueueing
// the schedule's task — exactly once per tick, however many Beats run on however many hosts.
//
// How exactly-once works: every tick is claimed with Store::claim_tick(name, tick, task, now),
// an atomic compare-and-set on the schedule's last_tick that also enqueues the task, whose id
// is derived from (schedule name, tick time) ("periodic:NAME:2024-03-31T01:00:00Z"). Two Beats
// that race for a tick: one claim succeeds, the other changes nothing; and even a stale
// claim could not enqueue twice, since enqueue skips an id that exists. A tick is never lost
// while one Beat is alive: each pass fires every due tick after the stored last_tick (subject
// to the misfire policy for ticks more than `grace_ms` late).
//
// Time: a Beat reads time only from its Clock and never fires a tick before its own clock
// reaches it. A schedule that never fired (last_tick 0) starts from the Beat's creation time:
// older ticks are not replayed. See docs/periodic-tasks.md for misfires and clock skew.
//
// Thread safety: one thread drives a Beat (run(), or tick() in tests). Stopping run() through
// its stop_token is safe from any thread. Different Beats share nothing but the store.
#pragma once

#include <functional>
#include <limits>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "runq/clock.hpp"
#include "runq/schedule.hpp"
#include "runq/status.hpp"
#include "runq/store.hpp"

namespace runq {

struct PeriodicEntry {
  std::string name;  // unique, non-empty: the store's schedule name and part of task ids
  Schedule schedule;
  Misfire misfire = Misfire::kRunOnce;
  int run_all_limit = 100;  // kRunAll: most missed ticks fired after one outage
  // Builds the task for a tick. Its `id` is overwritten with the tick's deterministic id.
  // Must not throw (an exception is reported as an Internal error for that entry).
  std::function<NewTask(Millis tick)> make_task;
  // A JSON object whose members are added to the schedule's info (e.g. the task name and
  // arguments, for `runq schedule list`). Empty = none.
  std::string info_json_extra;
};

struct BeatOptions {
  // A tick at most this late is on time and always fires; later ones are misfires [1000 ms].
  Millis grace_ms = 1000;
  // run(): longest wait between passes, so pauses, resumes and store outages are noticed
  // within this time [1000 ms].
  Millis poll_ms = 1000;
};

class Beat {
 public:
  // `store` and `clock` must outlive the Beat. Creation time (clock.now_ms()) is the baseline
  // of schedules that never fired.
  Beat(Store& store, Clock& clock, std::vector<PeriodicEntry> entries, BeatOptions options = {});

  // Writes each schedule's info (expression, zone, misfire, next_run, last_run, last task id)
  // with put_schedule_info. Errors: InvalidArgument (empty or duplicate name, no make_task,
  // run_all_limit < 0, info_json_extra not a JSON object); Unavailable.
  Status register_schedules();

  // One pass at clock.now_ms(): for each entry that is not paused, claims and enqueues every
  // due tick (oldest first, per misfire policy) and updates its info. Returns how many ticks
  // this Beat fired (claims lost to another Beat are not counted). On a store error the pass
  // still tries the other entries and then returns the first error; unfired ticks are
  // retried by the next pass. Errors: as register_schedules, plus Internal from make_task.
  Result<int> tick();

  // The earliest time any entry may next have a due tick (kNever if none), as of the last
  // pass (or creation).
  Millis next_wakeup() const;

  // Loops until `stop` is requested: tick(), then waits until next_wakeup() but at most
  // poll_ms (real time), waking at once on stop. Store errors are kept in last_status() and
  // retried at the next pass; run() itself never fails.
  void run(std::stop_token stop);

  // The outcome of the latest pass of run() (OK before the first).
  Status last_status() const { return last_status_; }

  // The id of the task a tick of schedule `name` enqueues, e.g.
  // "periodic:nightly:2024-03-31T01:00:00Z": the same on every host.
  static std::string task_id(std::string_view name, Millis tick);

 private:
  struct EntryState {
    Millis next_due = kNever;
    bool seen_paused = false;  // this Beat saw it paused
    // Ticks at or before this are never fired by this Beat: set on resume, so that ticks
    // which fell due while paused stay unfired whatever the misfire policy.
    Millis floor = std::numeric_limits<Millis>::min();
  };

  Status validate() const;
  Result<int> tick_entry(std::size_t i, const ScheduleState* state, Millis now);
  Result<bool> fire(const PeriodicEntry& entry, Millis tick, Millis now);
  std::string info_json(const PeriodicEntry& entry, Millis last_tick, Millis now) const;

  Store& store_;
  Clock& clock_;
  std::vector<PeriodicEntry> entries_;
  std::vector<EntryState> states_;
  BeatOptions options_;
  Millis start_ms_;
  Status config_status_;
  Status last_status_;
};

}  // namespace runq
