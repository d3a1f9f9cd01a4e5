// What `schedule list` and `status` show about periodic schedules: the store's schedule
// state and the info the scheduler writes, plus the outcome of each schedule's last task.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runq/clock.hpp"
#include "runq/status.hpp"
#include "runq/store.hpp"

namespace runq::internal {

struct ScheduleView {
  std::string name;
  std::string expression;  // empty when the scheduler never wrote its info
  std::string zone;
  std::string task;  // the task it enqueues, when known
  std::string misfire;
  bool paused = false;
  Millis next_run = 0;  // recomputed from the expression; 0 = unknown or never
  Millis last_run = 0;  // latest tick fired; 0 = never
  std::string last_task_id;
  std::string last_outcome;  // state of the last task ("success", ...), "unknown" if gone
};

Result<std::vector<ScheduleView>> load_schedules(Store& store, Millis now);
nlohmann::json schedule_json(const ScheduleView& s);
// One row per schedule: name, expression, zone, next run, last run, outcome, paused.
void print_schedules(const std::vector<ScheduleView>& schedules, Millis now);

}  // namespace runq::internal
