#include "http/events.hpp"

#include <chrono>

#include <nlohmann/json.hpp>

#include "http/json_io.hpp"
#include "runq/app.hpp"

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

}  // namespace

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
