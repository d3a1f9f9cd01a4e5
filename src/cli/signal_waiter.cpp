#include "cli/signal_waiter.hpp"

#include <pthread.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cli/commands.hpp"

namespace runq::internal {
namespace {

// The waiting thread, for the forwarding handler; set while a SignalWaiter is live.
std::atomic<bool> g_forward{false};
pthread_t g_waiter;

// Runs only in a thread that did not block the signals (started before the waiter).
// pthread_kill is async-signal-safe.
void forward_to_waiter(int sig) {
  if (g_forward.load()) pthread_kill(g_waiter, sig);
}

const char* signal_name(int sig) { return sig == SIGINT ? "SIGINT" : "SIGTERM"; }

}  // namespace

SignalWaiter::SignalWaiter(std::string cmd, std::function<void()> on_first)
    : cmd_(std::move(cmd)), on_first_(std::move(on_first)) {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set_, &old_mask_);
  thread_ = std::thread([this] { wait_loop(); });
  g_waiter = thread_.native_handle();
  g_forward.store(true);
  struct sigaction sa {};
  sa.sa_handler = forward_to_waiter;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int_);
  sigaction(SIGTERM, &sa, &old_term_);
}

SignalWaiter::~SignalWaiter() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
  g_forward.store(false);
  done_.store(true);
  // Wakes sigwait(): the signal is blocked in that thread, so it stays pending for it.
  pthread_kill(thread_.native_handle(), SIGTERM);
  thread_.join();
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

void SignalWaiter::wait_loop() {
  while (true) {
    int sig = 0;
    if (sigwait(&set_, &sig) != 0) continue;
    if (done_.load()) return;
    int n = ++signals_;
    if (n == 1) {
      std::fprintf(stderr,
                   "runq %s: %s received: stopping gracefully (running tasks finish; send it "
                   "again to stop at once)\n",
                   cmd_.c_str(), signal_name(sig));
      if (on_first_) on_first_();
      continue;
    }
    std::fprintf(stderr,
                 "runq %s: second signal (%s): exiting now; unfinished tasks are redelivered "
                 "when their leases lapse\n",
                 cmd_.c_str(), signal_name(sig));
    std::fflush(stdout);
    std::_Exit(kExitSignal);
  }
}

}  // namespace runq::internal
