// `schedule list | pause NAME | resume NAME | next EXPR`: periodic schedules as the store
// knows them, and a preview of an expression's fire times.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/cli_support.hpp"
#include "cli/commands.hpp"
#include "cli/schedule_view.hpp"
#include "core/duration.hpp"
#include "runq/app.hpp"
#include "runq/schedule.hpp"

namespace runq::internal {
namespace {

Millis json_ms(const nlohmann::json& info, const char* key) {
  auto it = info.find(key);
  return it != info.end() && it->is_number_integer() ? it->get<Millis>() : 0;
}

std::string json_text(const nlohmann::json& info, const char* key) {
  auto it = info.find(key);
  return it != info.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The next run from the expression itself: the info's copy is only as fresh as the last
// scheduler pass, and no scheduler may be running.
Millis next_run_of(const ScheduleView& v, Millis now) {
  if (v.expression.empty()) return 0;
  Result<Schedule> s = parse_cron(v.expression, v.zone.empty() ? "UTC" : v.zone);
  if (!s.ok()) return 0;
  Millis next = s->next_after(std::max(now, v.last_run));
  return next == kNever ? 0 : next;
}

ScheduleView view_of(const ScheduleState& st, Store& store, Millis now) {
  ScheduleView v;
  v.name = st.name;
  v.paused = st.paused;
  v.last_run = st.last_tick;
  nlohmann::json info = nlohmann::json::parse(st.info, nullptr, false);
  if (info.is_object()) {
    v.expression = json_text(info, "expression");
    v.zone = json_text(info, "zone");
    v.task = json_text(info, "task");
    v.misfire = json_text(info, "misfire");
    v.last_task_id = json_text(info, "last_task_id");
    if (json_ms(info, "last_run") != v.last_run) v.last_task_id.clear();  // info is older
  }
  v.next_run = next_run_of(v, now);
  if (!v.last_task_id.empty()) {
    Result<TaskInfo> t = store.get_task(v.last_task_id, now);
    v.last_outcome = t.ok() ? std::string(task_state_name(t->state)) : "unknown";
  }
  return v;
}

}  // namespace

Result<std::vector<ScheduleView>> load_schedules(Store& store, Millis now) {
  RUNQ_ASSIGN_OR_RETURN(std::vector<ScheduleState> states, store.list_schedules());
  std::vector<ScheduleView> out;
  out.reserve(states.size());
  for (const ScheduleState& st : states) out.push_back(view_of(st, store, now));
  return out;
}

nlohmann::json schedule_json(const ScheduleView& s) {
  return {{"name", s.name},
          {"expression", s.expression},
          {"zone", s.zone},
          {"task", s.task},
          {"misfire", s.misfire},
          {"paused", s.paused},
          {"next_run", time_json(s.next_run)},
          {"last_run", time_json(s.last_run)},
          {"last_task_id", s.last_task_id},
          {"last_outcome", s.last_outcome}};
}

void print_schedules(const std::vector<ScheduleView>& schedules, Millis now) {
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "EXPRESSION", "ZONE", "TASK", "NEXT RUN", "LAST RUN", "OUTCOME", "PAUSED"}};
  for (const ScheduleView& s : schedules) {
    rows.push_back(
        {s.name, s.expression.empty() ? "?" : s.expression, s.zone, s.task.empty() ? "-" : s.task,
         s.paused ? "paused" : describe_time(s.next_run, now), describe_time(s.last_run, now),
         s.last_outcome.empty() ? "-" : s.last_outcome, s.paused ? "yes" : "no"});
  }
  print_table(rows);
}

int run_schedule_list_cmd(App& app, const ScheduleListArgs& a) {
  Result<std::shared_ptr<Store>> store = open_app_store(app);
  if (!store.ok()) return fail("schedule list", store.status());
  Millis now = app.clock().now_ms();
  Result<std::vector<ScheduleView>> views = load_schedules(**store, now);
  if (!views.ok()) return fail("schedule list", views.status());
  if (a.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const ScheduleView& v : *views) out.push_back(schedule_json(v));
    std::printf("%s\n", out.dump().c_str());
  } else if (views->empty()) {
    std::printf(
        "no periodic schedules (they appear once a scheduler ran: `worker --beat` or `beat`)\n");
  } else {
    print_schedules(*views, now);
  }
  return kExitOk;
}

int run_schedule_pause_cmd(App& app, const SchedulePauseArgs& a) {
  const char* cmd = a.paused ? "schedule pause" : "schedule resume";
  Result<std::shared_ptr<Store>> store = open_app_store(app);
  if (!store.ok()) return fail(cmd, store.status());
  Status s = (*store)->set_schedule_paused(a.name, a.paused);
  if (is_not_found(s)) return fail(cmd, "unknown schedule '" + a.name + "'", kExitFailure);
  if (!s.ok()) return fail(cmd, s);
  std::printf("%s %s\n", a.name.c_str(), a.paused ? "paused" : "resumed");
  return kExitOk;
}

int run_schedule_next_cmd(App& app, const ScheduleNextArgs& a) {
  constexpr std::string_view kCmd = "schedule next";
  if (a.count < 1 || a.count > 10'000) return fail(kCmd, "-n: expected 1..10000", kExitUsage);
  Result<Schedule> schedule = parse_cron(a.expression, a.tz);
  if (!schedule.ok()) return fail(kCmd, schedule.status());
  Millis t = app.clock().now_ms();
  if (!a.from.empty()) {
    Result<Millis> from = parse_iso_time(a.from);
    if (!from.ok()) return fail(kCmd, from.status().with_context("--from"));
    t = *from;
  }
  for (int i = 0; i < a.count; ++i) {
    t = schedule->next_after(t);
    if (t == kNever) break;
    std::printf("%s\n", schedule->format_time(t).c_str());
  }
  return kExitOk;
}

}  // namespace runq::internal
