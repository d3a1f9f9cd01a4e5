#include "http/events.hpp"

#include <chrono>

#include <nlohmann/json.hpp>

#include "http/activity.hpp"
#include "http/json_io.hpp"
#include "runq/app.hpp"
#include "runq/result.hpp"

namespace runq::internal {

void EventHub::start() {
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { follow(); });
}

void EventHub::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::uint64_t EventHub::subscribe() {
  std::lock_guard lock(mu_);
  std::uint64_t id = next_id_++;
  clients_[id];
  // The follower lists tasks from here on (it may not poll for up to a second).
  if (since_ == 0) since_ = ctx_.app.clock().now_ms();
  return id;
}

void EventHub::unsubscribe(std::uint64_t client) {
  std::lock_guard lock(mu_);
  clients_.erase(client);
}

std::optional<std::string> EventHub::next(std::uint64_t client, Millis timeout_ms) {
  std::unique_lock lock(mu_);
  auto ready = [&] {
    auto it = clients_.find(client);
    return stopping_ || it == clients_.end() || it->second.dropped || !it->second.frames.empty();
  };
  changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms), ready);
  auto it = clients_.find(client);
  if (stopping_ || it == clients_.end() || it->second.dropped) return std::nullopt;
  if (it->second.frames.empty()) return std::string();
  std::string frame = std::move(it->second.frames.front());
  it->second.frames.pop_front();
  return frame;
}

void EventHub::publish(std::string_view type, const std::string& json) {
  {
    std::lock_guard lock(mu_);
    std::string frame = "id: " + std::to_string(next_event_++) + "\nevent: " + std::string(type) +
                        "\ndata: " + json + "\n\n";
    for (auto& [id, c] : clients_) {
      if (c.dropped) continue;
      if (c.frames.size() >= kClientBuffer) {
        c.dropped = true;
        c.frames.clear();
      } else {
        c.frames.push_back(frame);
      }
    }
  }
  changed_.notify_all();
}

bool EventHub::has_clients() {
  std::lock_guard lock(mu_);
  return !clients_.empty();
}

void EventHub::follow() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      changed_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
      if (stopping_) return;
      if (clients_.empty()) {
        // Nobody listens: forget the state, so a new client starts from now.
        workers_.clear();
        queues_json_.clear();
        watermark_ = 0;
        since_ = 0;
        running_.clear();
        outcomes_.clear();
        outcomes_primed_ = false;
        continue;
      }
      if (watermark_ == 0) {
        watermark_ = since_;
        at_watermark_.clear();
      }
    }
    Result<std::shared_ptr<Store>> store = ctx_.store();
    if (store.ok()) poll(**store);  // a store that is down is tried again next second
  }
}

namespace {

constexpr int kMaxPagesPerPoll = 5;

nlohmann::json worker_json(const WorkerInfo& w) {
  return {{"id", w.id},
          {"host", w.host},
          {"pid", w.pid},
          {"queues", w.queues},
          {"concurrency", w.concurrency}};
}

constexpr std::size_t kMaxLookupsPerPoll = 200;

std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The event a task that stopped running ended with, or "" (released, or running elsewhere).
const char* ended_event(TaskState s) {
  switch (s) {
    case TaskState::kSuccess:
      return "task.succeeded";
    case TaskState::kFailure:
      return "task.failed";
    case TaskState::kRetry:
    case TaskState::kScheduled:
      return "task.retried";
    case TaskState::kDead:
      return "task.dead";
    case TaskState::kRevoked:
      return "task.revoked";
    case TaskState::kExpired:
      return "task.expired";
    default:
      return "";
  }
}

}  // namespace

void EventHub::task_events(Store& store, const std::vector<WorkerInfo>& workers, Millis now) {
  std::map<std::string, std::string> running;
  for (const WorkerInfo& w : workers) {
    for (const RunningTask& r : running_tasks(w)) {
      running[r.id] = dump({{"id", r.id},
                            {"task", r.task},
                            {"worker", r.worker},
                            {"started", iso_time_json(r.started)}});
    }
  }
  for (const auto& [id, json] : running) {
    if (!running_.count(id)) publish("task.started", json);
  }
  std::size_t lookups = 0;
  for (const auto& [id, json] : running_) {
    if (running.count(id) || ++lookups > kMaxLookupsPerPoll) continue;
    Result<TaskStatus> st = read_task_status(store, id, now);
    if (!st.ok() || *ended_event(st->state) == '\0') continue;
    nlohmann::json started = nlohmann::json::parse(json, nullptr, false);
    publish(ended_event(st->state),
            dump({{"id", id},
                  {"task", st->task},
                  {"worker", started.is_object() ? started.value("worker", "") : ""},
                  {"state", task_state_name(st->state)},
                  {"started", iso_time_json(st->started)},
                  {"finished", iso_time_json(st->finished)},
                  {"error", st->error}}));
  }
  running_ = std::move(running);

  ActivitySummary summary = summarize_activity(workers);
  for (const auto& [task, activity] : summary.tasks) {
    nlohmann::json delta = nlohmann::json::object();
    std::map<std::string, std::uint64_t>& seen = outcomes_[task];
    for (const auto& [outcome, n] : activity.outcomes) {
      if (outcomes_primed_ && n > seen[outcome]) delta[outcome] = n - seen[outcome];
      seen[outcome] = n;  // lower when a worker left: counted from there on
    }
    if (!delta.empty()) {
      delta["task"] = task;
      publish("task.outcomes", dump(delta));
    }
  }
  outcomes_primed_ = true;
}

void EventHub::poll(Store& store) {
  Millis now = ctx_.app.clock().now_ms();
  if (Result<StoreStats> st = store.stats(now); st.ok()) {
    std::map<std::string, std::string> alive;
    for (const WorkerInfo& w : st->workers) alive[w.id] = worker_json(w).dump();
    for (const auto& [id, json] : alive) {
      if (!workers_.count(id)) publish("worker.online", json);
    }
    for (const auto& [id, json] : workers_) {
      if (!alive.count(id)) publish("worker.offline", json);
    }
    workers_ = std::move(alive);
    nlohmann::json queues = nlohmann::json::array();
    for (const QueueStats& q : st->queues) {
      queues.push_back({{"name", q.queue},
                        {"pending", q.pending},
                        {"scheduled", q.scheduled},
                        {"running", q.running},
                        {"dead", q.dead}});
    }
    std::string json = nlohmann::json{{"queues", queues}}.dump();
    if (json != queues_json_) publish("queues", json);
    queues_json_ = std::move(json);
    task_events(store, st->workers, now);
  }
  TaskFilter filter;
  filter.enqueued_from = watermark_;
  std::vector<TaskSummary> fresh;
  std::string cursor;
  int pages = 0;
  for (; pages < kMaxPagesPerPoll; ++pages) {
    Result<TaskPage> page = store.list_tasks(filter, cursor, kMaxListLimit, now);
    if (!page.ok()) return;
    for (TaskSummary& t : page->tasks) {
      if (t.enqueued > watermark_ || !at_watermark_.count(t.id)) fresh.push_back(std::move(t));
    }
    if (page->next_cursor.empty()) break;
    cursor = page->next_cursor;
  }
  if (pages == kMaxPagesPerPoll) {
    publish("task.enqueued_burst", nlohmann::json{{"count_at_least", fresh.size()}}.dump());
  }
  // Pages come newest first: publish oldest first.
  for (auto it = fresh.rbegin(); it != fresh.rend(); ++it) {
    if (pages < kMaxPagesPerPoll) {
      publish("task.enqueued", nlohmann::json{{"id", it->id},
                                              {"task", it->task},
                                              {"queue", it->queue},
                                              {"state", task_state_name(it->state)},
                                              {"enqueued", iso_time_json(it->enqueued)}}
                                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    if (it->enqueued > watermark_) {
      watermark_ = it->enqueued;
      at_watermark_.clear();
    }
    if (it->enqueued == watermark_) at_watermark_.insert(it->id);
  }
}

}  // namespace runq::internal
