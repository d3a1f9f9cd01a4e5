#include "http/activity.hpp"

#include <algorithm>

namespace runq::internal {
namespace {

constexpr Millis kHourMs = 3'600'000;

void add_histogram(Buckets& into, const nlohmann::json& h) {
  if (!h.is_object()) return;
  if (auto b = h.find("b"); b != h.end() && b->is_array()) {
    for (std::size_t i = 0; i < b->size() && i < into.counts.size(); ++i) {
      if ((*b)[i].is_number_unsigned()) into.counts[i] += (*b)[i].get<std::uint64_t>();
    }
  }
  if (auto s = h.find("sum"); s != h.end() && s->is_number()) into.sum += s->get<double>();
}

std::uint64_t count_of(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

nlohmann::json percentiles(const Buckets& b) {
  return {{"count", b.count()},
          {"p50", b.quantile(0.50)},
          {"p95", b.quantile(0.95)},
          {"p99", b.quantile(0.99)}};
}

}  // namespace

std::uint64_t Buckets::count() const {
  std::uint64_t n = 0;
  for (std::uint64_t c : counts) n += c;
  return n;
}

double Buckets::quantile(double q) const {
  const std::uint64_t total = count();
  if (total == 0) return 0;
  const double rank = q * static_cast<double>(total);
  double seen = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0) continue;
    if (seen + static_cast<double>(counts[i]) >= rank) {
      if (i >= kActivityBounds.size()) return kActivityBounds.back();
      const double lo = i == 0 ? 0 : kActivityBounds[i - 1];
      const double hi = kActivityBounds[i];
      return lo + (hi - lo) * (rank - seen) / static_cast<double>(counts[i]);
    }
    seen += static_cast<double>(counts[i]);
  }
  return kActivityBounds.back();
}

std::vector<RunningTask> running_tasks(const WorkerInfo& worker) {
  std::vector<RunningTask> out;
  if (worker.activity.empty()) return out;
  nlohmann::json j = nlohmann::json::parse(worker.activity, nullptr, false);
  if (!j.is_object() || !j.contains("running") || !j["running"].is_array()) return out;
  for (const auto& r : j["running"]) {
    if (!r.is_object()) continue;
    out.push_back(RunningTask{.id = r.value("id", ""),
                              .task = r.value("task", ""),
                              .worker = worker.id,
                              .started = r.value("started", Millis{0})});
  }
  return out;
}

ActivitySummary summarize_activity(const std::vector<WorkerInfo>& workers) {
  ActivitySummary s;
  for (const WorkerInfo& w : workers) {
    if (w.activity.empty()) continue;
    nlohmann::json j = nlohmann::json::parse(w.activity, nullptr, false);
    if (!j.is_object()) continue;
    ++s.workers_reporting;
    for (RunningTask& r : running_tasks(w)) s.running.push_back(std::move(r));
    if (auto tasks = j.find("tasks"); tasks != j.end() && tasks->is_object()) {
      for (const auto& [name, t] : tasks->items()) {
        if (!t.is_object()) continue;
        TaskActivity& into = s.tasks[name];
        for (const auto& [key, v] : t.items()) {
          if (v.is_number_unsigned()) into.outcomes[key] += v.get<std::uint64_t>();
        }
        add_histogram(into.wait, t.value("wait", nlohmann::json()));
        add_histogram(into.run, t.value("run", nlohmann::json()));
      }
    }
    if (auto minutes = j.find("minutes"); minutes != j.end() && minutes->is_array()) {
      for (const auto& m : *minutes) {
        if (!m.is_object() || !m.contains("t") || !m["t"].is_number_integer()) continue;
        MinuteActivity& into = s.minutes[m["t"].get<Millis>()];
        into.ok += count_of(m, "ok");
        into.fail += count_of(m, "fail");
        add_histogram(into.wait, m.value("wait", nlohmann::json()));
        add_histogram(into.run, m.value("run", nlohmann::json()));
      }
    }
  }
  std::sort(s.running.begin(), s.running.end(),
            [](const RunningTask& a, const RunningTask& b) { return a.started < b.started; });
  return s;
}

nlohmann::json activity_json(const ActivitySummary& summary, Millis now) {
  nlohmann::json minutes = nlohmann::json::array();
  Buckets wait_hour, run_hour;
  std::uint64_t ok_hour = 0, fail_hour = 0;
  for (const auto& [t, m] : summary.minutes) {
    if (t < now - kHourMs) continue;
    minutes.push_back({{"t", t},
                       {"completed", m.ok},
                       {"failed", m.fail},
                       {"wait", percentiles(m.wait)},
                       {"run", percentiles(m.run)}});
    ok_hour += m.ok;
    fail_hour += m.fail;
    for (std::size_t i = 0; i < wait_hour.counts.size(); ++i) {
      wait_hour.counts[i] += m.wait.counts[i];
      run_hour.counts[i] += m.run.counts[i];
    }
  }
  nlohmann::json tasks = nlohmann::json::object();
  for (const auto& [name, t] : summary.tasks) {
    nlohmann::json j = {{"wait", percentiles(t.wait)}, {"run", percentiles(t.run)}};
    for (const auto& [k, v] : t.outcomes) j[k] = v;
    tasks[name] = std::move(j);
  }
  return {{"minutes", minutes},
          {"hour",
           {{"completed", ok_hour},
            {"failed", fail_hour},
            {"wait", percentiles(wait_hour)},
            {"run", percentiles(run_hour)}}},
          {"tasks", tasks},
          {"workers_reporting", summary.workers_reporting}};
}

}  // namespace runq::internal
