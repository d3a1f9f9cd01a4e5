// Celery's remote control and events for a runq worker on a celery+redis:// store: a thread
// that answers the pidbox broadcast (`celery inspect ping/active`, `celery control revoke`),
// and the envelopes of the events `celery events` reads (worker-online/heartbeat/offline,
// task-received/started/succeeded/failed).
//
// Thread safety: Control is thread-safe; its thread stops in the destructor.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

#include "store/redis/connection.hpp"

namespace runq::internal::celery {

class Control {
 public:
  struct Hooks {
    // JSON array text of the tasks running here, in `inspect active`'s format.
    std::function<std::string()> active;
    // A revoke for task `id` arrived (terminate: stop it if it runs).
    std::function<void(const std::string& id, bool terminate)> revoke;
  };
  // Subscribes to /<db>.celery.pidbox on `endpoint` and answers as node `hostname`.
  Control(RedisEndpoint endpoint, std::string hostname, Hooks hooks);
  ~Control();
  Control(const Control&) = delete;
  Control& operator=(const Control&) = delete;

 private:
  void run();
  void handle(RedisConnection& out, std::string_view raw);

  RedisEndpoint endpoint_;
  std::string hostname_;
  Hooks hooks_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The pub/sub channel of a Celery event routing key ("worker.heartbeat") on broker db `db`.
std::string event_channel(int db, std::string_view routing_key);
// The envelope of one event: `body_json` is the event object (or a list, for task.multi).
std::string event_message(std::string_view routing_key, std::string_view body_json,
                          std::string_view hostname);

}  // namespace runq::internal::celery
