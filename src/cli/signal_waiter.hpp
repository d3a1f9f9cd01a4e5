// SignalWaiter: SIGINT/SIGTERM handling for the long-running commands (`worker`, `beat`).
//
// The signals are blocked in every thread and taken by one dedicated thread with sigwait(),
// so the reaction runs as ordinary code, not inside a signal handler. The first signal calls
// `on_first` (a graceful stop); a second one ends the process at once with exit code 130
// (leases then lapse and unfinished tasks are redelivered, VISION §4).
//
// REQUIRES: build it before starting the threads that should not receive the signals; they
// inherit the blocked mask. Threads that existed before (e.g. opened by the application)
// may still receive a signal: a process-wide handler forwards it to the waiting thread.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include <signal.h>

namespace runq::internal {

class SignalWaiter {
 public:
  SignalWaiter(std::string cmd, std::function<void()> on_first);
  ~SignalWaiter();  // stops the waiting thread; restores the handlers and the signal mask
  SignalWaiter(const SignalWaiter&) = delete;
  SignalWaiter& operator=(const SignalWaiter&) = delete;

  // True once the first signal arrived.
  bool signalled() const { return signals_.load() > 0; }

 private:
  void wait_loop();

  std::string cmd_;
  std::function<void()> on_first_;
  std::atomic<int> signals_{0};
  std::atomic<bool> done_{false};
  sigset_t set_{};
  sigset_t old_mask_{};
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
  std::thread thread_;
};

}  // namespace runq::internal
