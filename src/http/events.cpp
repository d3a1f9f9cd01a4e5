#include "http/events.hpp"

#include <chrono>

namespace runq::internal {

void EventHub::start() {
  std::lock_guard lock(mu_);
  stopping_ = false;
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

void EventHub::follow() {}

}  // namespace runq::internal
