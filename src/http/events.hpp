// EventHub: the live event stream behind GET /api/v1/events (Server-Sent Events).
//
// While at least one client is connected, one thread reads the store every second and turns
// what changed into events, so they cover every producer and worker on every machine:
//   task.enqueued   {id, task, queue, state, enqueued} for each task newly listed
//                   (Store::list_tasks from the last enqueue time seen, at most 5,000 a second;
//                   beyond that one `task.enqueued_burst` {count_at_least} instead)
//   worker.online / worker.offline   {id, host, pid, queues, concurrency}
//   queues          {queues: [{name, pending, scheduled, running, dead}]} when a count changed
//   task.started    {id, task, worker, started} for each task a worker's heartbeat newly
//                   reports running (WorkerInfo::activity)
//   task.succeeded / task.failed / task.retried / task.dead / task.revoked / task.expired
//                   {id, task, worker, state, started, finished, error} when a task that was
//                   reported running is no longer, read once by id (at most 200 a second)
//   task.outcomes   {task, succeeded, failed, ...: how many more since the last event} from
//                   the workers' per-task-name counters: this covers the tasks too short to be
//                   seen running between two heartbeats (2 s), which get no event of their own
// Each client has a bounded buffer of frames. A client whose buffer fills (it reads too
// slowly) is dropped, so a slow client never slows the hub, and the hub never slows the
// workers: it only reads the store.
//
// Thread safety: start/stop from the server's thread; subscribe/next from serving threads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

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
  void poll(Store& store);
  bool has_clients();

  ApiContext& ctx_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::uint64_t, Client> clients_;  // guarded by mu_
  std::uint64_t next_id_ = 1;                // guarded by mu_
  std::uint64_t next_event_ = 1;             // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  Millis since_ = 0;  // guarded by mu_: when the first of the current clients subscribed
  std::thread thread_;
  // Follower state (follower thread only).
  std::map<std::string, std::string> workers_;  // alive worker id -> its online event JSON
  std::string queues_json_;                     // the last queues event
  Millis watermark_ = 0;                        // latest enqueue time listed
  std::set<std::string> at_watermark_;          // ids listed with that enqueue time
  std::map<std::string, std::string> running_;  // task id -> its task.started event JSON
  std::map<std::string, std::map<std::string, std::uint64_t>> outcomes_;  // task -> counters
  bool outcomes_primed_ = false;  // outcomes_ holds a first reading (no event for it)
  void task_events(Store& store, const std::vector<WorkerInfo>& workers, Millis now);
};

}  // namespace runq::internal
