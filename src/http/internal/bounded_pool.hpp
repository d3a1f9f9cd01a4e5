// BoundedPool: the HTTP library's task queue with a fixed number of threads and a bounded
// queue of accepted connections. When the queue is full, enqueue() waits for room: the accept
// loop stops accepting and further connections wait in the kernel's backlog, so neither
// threads nor accepted sockets grow with the number of clients.
//
// Thread safety: enqueue() is called by the one accept thread; shutdown() once, by the server.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace runq::internal {

class BoundedPool {
 public:
  // REQUIRES: threads >= 1, max_queued >= 1.
  BoundedPool(int threads, std::size_t max_queued);
  ~BoundedPool();  // shutdown() if not done

  // Queues `job` (one connection), waiting while `max_queued` jobs wait already.
  void enqueue(std::function<void()> job);
  // Runs the queued jobs, then joins the threads.
  void shutdown();

 private:
  void run();

  std::size_t max_queued_;
  std::mutex mu_;
  std::condition_variable has_job_;         // a job was queued, or shutdown
  std::condition_variable has_room_;        // a job was taken
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace runq::internal
