// `result ID [--wait D] [--json]`: a task's state, value or errors, and — for a task that is
// not final — why it is not running yet (App::explain; this file only renders it).
#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "app/workflow_step.hpp"
#include "cli/cli_support.hpp"
#include "cli/commands.hpp"
#include "core/duration.hpp"
#include "runq/app.hpp"
#include "runq/result.hpp"

namespace runq::internal {
namespace {

constexpr std::string_view kCmd = "result";

// Waits up to `wait_ms` for a final state, then asks the library where the task stands.
// NotFound for an unknown id.
Result<TaskExplanation> load(App& app, Store& store, const std::string& id, Millis wait_ms) {
  if (wait_ms > 0) {
    Result<TaskStatus> st = wait_task_status(store, id, wait_ms);
    if (!st.ok() && !is_deadline_exceeded(st.status())) return st.status();
  }
  return app.explain(id);
}

std::string state_upper(TaskState s) {
  std::string name(task_state_name(s));
  std::transform(name.begin(), name.end(), name.begin(), ::toupper);
  return name;
}

nlohmann::json value_json(const std::string& text) {
  if (text.empty()) return nullptr;
  nlohmann::json v = nlohmann::json::parse(text, nullptr, false);
  return v.is_discarded() ? nlohmann::json(text) : v;
}

// The tasks a workflow step takes its inputs from or waits on (its tree, one level down):
// the first kTreeShown with their states; the states of up to kTreeCounted counted.
constexpr std::size_t kTreeShown = 20;
constexpr std::size_t kTreeCounted = 1000;

struct Tree {
  std::size_t total = 0;                                   // parents + dependencies
  std::vector<std::pair<std::string, std::string>> shown;  // (id, state name)
  std::map<std::string, std::size_t> counts;               // state name -> count (counted ones)
};

Tree load_tree(Store& store, const std::string& workflow, Millis now) {
  Tree t;
  if (workflow.empty()) return t;
  nlohmann::json wf = nlohmann::json::parse(workflow, nullptr, false);
  t.total = workflow_parent_count(wf);
  std::vector<std::string> ids = workflow_parents(wf, kTreeCounted);
  for (const std::string& id : ids) {
    Result<TaskInfo> info = store.get_task(id, now);
    std::string state = info.ok() ? std::string(task_state_name(info->state)) : "unknown";
    if (t.shown.size() < kTreeShown) t.shown.emplace_back(id, state);
    ++t.counts[state];
  }
  return t;
}

std::string counts_text(const Tree& t) {
  std::string out;
  for (const auto& [state, n] : t.counts)
    out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + state;
  return out;
}

void print_json(const TaskExplanation& r, const Tree& tree) {
  const TaskStatus& st = r.status;
  nlohmann::json errors = nlohmann::json::array();
  for (const AttemptError& e : st.errors) {
    errors.push_back({{"attempt", e.attempt},
                      {"type", e.type},
                      {"message", e.message},
                      {"at", time_json(e.at)}});
  }
  nlohmann::json j = {{"id", st.id},
                      {"task", st.task},
                      {"state", task_state_name(st.state)},
                      {"value", value_json(st.value)},
                      {"error_type", st.error_type},
                      {"error", st.error},
                      {"errors", errors},
                      {"attempts", st.attempts},
                      {"progress", st.progress},
                      {"queue", st.queue},
                      {"worker", st.worker},
                      {"enqueued", time_json(st.enqueued)},
                      {"started", time_json(st.started)},
                      {"finished", time_json(st.finished)},
                      {"next_run", time_json(st.next_run)},
                      {"lease_expires", time_json(r.lease_expires)},
                      {"dead_reason", st.dead_reason},
                      {"final", is_final(st.state)}};
  if (!is_final(st.state) && !r.reasons.empty()) j["why"] = r.why();
  if (tree.total > 0) {
    nlohmann::json members = nlohmann::json::array();
    for (const auto& [id, state] : tree.shown) members.push_back({{"id", id}, {"state", state}});
    j["workflow"] = {
        {"depends_on_count", tree.total}, {"depends_on", members}, {"states", tree.counts}};
  }
  std::printf("%s\n", j.dump().c_str());
}

void line(const char* label, const std::string& value) {
  if (!value.empty() && value != "-") std::printf("%-10s %s\n", label, value.c_str());
}

void print_human(const TaskExplanation& r, const Tree& tree, Millis now) {
  const TaskStatus& st = r.status;
  line("id:", st.id);
  line("task:", st.task);
  line("state:", state_upper(st.state));
  if (st.state == TaskState::kSuccess) line("value:", st.value.empty() ? "null" : st.value);
  if (!st.error.empty())
    line("error:", st.error_type.empty() ? st.error : st.error_type + ": " + st.error);
  if (!st.dead_reason.empty() && st.dead_reason != st.error) line("reason:", st.dead_reason);
  if (st.attempts > 0) line("attempts:", std::to_string(st.attempts));
  if (!is_final(st.state) && st.progress > 0)
    line("progress:", std::to_string(int(st.progress * 100)) + "%");
  line("queue:", st.queue);
  line("worker:", st.worker);
  line("enqueued:", describe_time(st.enqueued, now));
  line("started:", describe_time(st.started, now));
  line("finished:", describe_time(st.finished, now));
  if (!is_final(st.state)) line("next run:", describe_time(st.next_run, now));
  if (!is_final(st.state)) line("why:", r.why());
  if (tree.total > 0) {
    std::printf("workflow:  depends on %zu task(s): %s%s\n", tree.total, counts_text(tree).c_str(),
                tree.total > kTreeCounted ? " (of the first 1000)" : "");
    for (const auto& [id, state] : tree.shown) {
      std::string upper = state;
      std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
      std::printf("  %-9s %s\n", upper.c_str(), id.c_str());
    }
    if (tree.total > tree.shown.size()) {
      std::printf("  ... and %zu more\n", tree.total - tree.shown.size());
    }
  }
  if (st.errors.empty()) return;
  std::printf("errors (oldest first):\n");
  for (const AttemptError& e : st.errors) {
    std::printf("  attempt %d at %s: %s: %s\n", e.attempt, format_time(e.at).c_str(),
                e.type.c_str(), e.message.c_str());
  }
}

int exit_code(TaskState s) {
  if (s == TaskState::kSuccess) return kExitOk;
  return is_final(s) ? kExitFailure : kExitNotReady;
}

}  // namespace

int run_result_cmd(App& app, const ResultArgs& a) {
  Millis wait_ms = 0;
  if (!a.wait.empty()) {
    Result<Millis> w = parse_duration_option("--wait", a.wait);
    if (!w.ok()) return fail(kCmd, w.status());
    wait_ms = *w;
  }
  Result<std::shared_ptr<Store>> store = open_app_store(app);
  if (!store.ok()) return fail(kCmd, store.status());
  Result<TaskExplanation> r = load(app, **store, a.id, wait_ms);
  if (!r.ok()) {
    if (is_not_found(r.status()))
      return fail(kCmd, "unknown task id '" + a.id + "' (never enqueued, or its result expired)",
                  kExitUnknown);
    return fail(kCmd, r.status());
  }
  Tree tree = load_tree(**store, r->status.workflow, app.clock().now_ms());
  if (a.json) {
    print_json(*r, tree);
  } else {
    print_human(*r, tree, app.clock().now_ms());
  }
  return exit_code(r->status.state);
}

}  // namespace runq::internal
