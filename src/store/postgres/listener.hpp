// Listener: one LISTEN connection per store, on its own thread, that turns NOTIFYs on the
// store's channel into a generation counter waiters block on. Started on first use (producers
// never start it). When the connection is lost it reconnects with backoff; meanwhile
// listening() is false and waiters fall back to polling.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace runq::pg {

class Listener {
 public:
  using Clock = std::chrono::steady_clock;

  Listener(std::string conninfo, std::string channel);
  ~Listener();  // stops and joins the thread
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // The number of wake-ups so far (notifications, reconnects). Starts the thread.
  std::uint64_t generation();
  // True while the LISTEN connection is up, so that no notification is missed.
  bool listening();
  // Blocks until generation() moved past `seen` (true) or `until` came (false).
  bool wait(std::uint64_t seen, Clock::time_point until);

 private:
  void start_locked();
  void run();
  void bump(bool listening);
  // Sleeps up to `d` unless stopped. False when stopped.
  bool pause(std::chrono::milliseconds d);

  const std::string conninfo_;
  const std::string channel_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t generation_ = 0;
  bool listening_ = false;
  bool stop_ = false;
  bool started_ = false;
  int wake_fd_ = -1;  // eventfd: wakes the thread's poll() to stop
  std::thread thread_;
};

}  // namespace runq::pg
