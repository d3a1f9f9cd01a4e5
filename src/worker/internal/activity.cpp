#include "worker/internal/activity.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace runq::internal {
namespace {

constexpr Millis kMinuteMs = 60'000;

nlohmann::json histogram_json(const Activity::Histogram& h) {
  // Trailing empty buckets are left out: most tasks fill only the first few.
  std::size_t n = h.counts.size();
  while (n > 0 && h.counts[n - 1] == 0) --n;
  return {{"b", std::vector<std::uint64_t>(h.counts.begin(), h.counts.begin() + n)},
          {"sum", h.sum}};
}

}  // namespace

void Activity::Histogram::add(Millis ms) {
  const double secs = static_cast<double>(std::max<Millis>(ms, 0)) / 1000.0;
  auto at = std::lower_bound(kBounds.begin(), kBounds.end(), secs);
  ++counts[static_cast<std::size_t>(at - kBounds.begin())];
  sum += secs;
}

Activity::Totals& Activity::totals(std::string_view task) {
  auto it = tasks_.find(task);
  if (it != tasks_.end()) return it->second;
  if (tasks_.size() >= kMaxNames) return tasks_["(other)"];
  return tasks_[std::string(task)];
}

Activity::Minute& Activity::minute(Millis now) {
  const Millis start = now - now % kMinuteMs;
  if (minutes_.empty() || minutes_.back().start < start) {
    minutes_.push_back(Minute{.start = start});
    while (minutes_.size() > static_cast<std::size_t>(kMinutes)) minutes_.pop_front();
  }
  // A clock that stepped back counts in the latest minute.
  return minutes_.back();
}

void Activity::started(const std::string& id, std::string_view task, Millis wait_ms, Millis now) {
  MutexLock lock(mu_);
  running_[id] = Running{std::string(task), now};
  totals(task).wait.add(wait_ms);
  minute(now).wait.add(wait_ms);
}

void Activity::finished(const std::string& id, Kind kind, Millis run_ms, Millis now) {
  MutexLock lock(mu_);
  auto it = running_.find(id);
  if (it == running_.end()) return;
  std::string task = std::move(it->second.task);
  running_.erase(it);
  if (kind == Kind::kReleased) return;
  Totals& t = totals(task);
  ++t.outcomes[static_cast<std::size_t>(kind)];
  t.run.add(run_ms);
  Minute& m = minute(now);
  m.run.add(run_ms);
  if (kind == Kind::kRetried) return;  // not completed: it runs again
  ++m.ok;
  if (kind == Kind::kFailed || kind == Kind::kDead) ++m.fail;
}

std::string Activity::json(Millis now) const {
  MutexLock lock(mu_);
  nlohmann::json running = nlohmann::json::array();
  for (const auto& [id, r] : running_) {
    if (running.size() >= kMaxRunning) break;
    running.push_back({{"id", id}, {"task", r.task}, {"started", r.started}});
  }
  nlohmann::json tasks = nlohmann::json::object();
  for (const auto& [name, t] : tasks_) {
    nlohmann::json j = {{"wait", histogram_json(t.wait)}, {"run", histogram_json(t.run)}};
    for (std::size_t k = 0; k < kKindNames.size(); ++k) j[kKindNames[k]] = t.outcomes[k];
    tasks[name] = std::move(j);
  }
  nlohmann::json minutes = nlohmann::json::array();
  const Millis oldest = now - now % kMinuteMs - (kMinutes - 1) * kMinuteMs;
  for (const Minute& m : minutes_) {
    if (m.start < oldest) continue;
    minutes.push_back({{"t", m.start},
                       {"ok", m.ok},
                       {"fail", m.fail},
                       {"wait", histogram_json(m.wait)},
                       {"run", histogram_json(m.run)}});
  }
  return nlohmann::json{{"v", 1}, {"running", running}, {"tasks", tasks}, {"minutes", minutes}}
      .dump();
}

}  // namespace runq::internal
