// EventHub: the live event stream behind GET /api/v1/events (Server-Sent Events).
//
// One thread follows the store and turns what changed into events (task enqueued, started,
// succeeded, failed, retried, dead, revoked; worker online/offline); each connected client has
// a bounded buffer of them. A client whose buffer fills (it reads too slowly) is dropped, so a
// slow client never slows the hub, and the hub never slows the workers: it only reads the store.
//
// Thread safety: start/stop from the server's thread; subscribe/next from serving threads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "http/routes.hpp"

namespace runq::internal {

class EventHub {
 public:
  // Events buffered per client before it counts as too slow and is dropped.
  static constexpr std::size_t kClientBuffer = 1024;

  explicit EventHub(ApiContext& ctx) : ctx_(ctx) {}
  ~EventHub() { stop(); }

  void start();
  // Ends every stream and the follower thread. Idempotent.
  void stop();

  // A new client; returns its id.
  std::uint64_t subscribe();
  void unsubscribe(std::uint64_t client);
  // Waits up to `timeout_ms` for the client's next event (an SSE frame). Returns "" on time
  // out; nullopt when the client was dropped or the hub stopped.
  std::optional<std::string> next(std::uint64_t client, Millis timeout_ms);

  // Queues an SSE frame `data` of type `type` for every client (dropping those that are full).
  void publish(std::string_view type, const std::string& json);

 private:
  struct Client {
    std::deque<std::string> frames;
    bool dropped = false;
  };
  void follow();

  ApiContext& ctx_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::uint64_t, Client> clients_;  // guarded by mu_
  std::uint64_t next_id_ = 1;                // guarded by mu_
  std::uint64_t next_event_ = 1;             // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::thread thread_;
};

}  // namespace runq::internal
