// Zygote: a small process forked from the worker before the worker starts any thread, which
// forks the process pool's children on request. Forking a multi-threaded process is unsafe
// (only the forking thread survives; locks other threads held stay locked), so children are
// never forked from the worker itself but from this single-threaded copy of it, which holds
// the same registered tasks.
//
// Protocol, over an AF_UNIX SOCK_SEQPACKET control socket (one fixed-size record per message):
// the worker sends a spawn request; the zygote forks a child with a fresh stream socketpair,
// passes the worker's end back with SCM_RIGHTS together with the child's pid, and reports the
// wait status of every child that ends. When the control socket closes (the worker stopped or
// died) the zygote exits; children are killed when the zygote dies (PR_SET_PDEATHSIG), and the
// zygote when the worker dies, so no process outlives a worker killed with kill -9.
//
// Thread safety: spawn() and wait_exit() may be called from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <thread>

#include "core/mutex.hpp"
#include "runq/status.hpp"

namespace runq::internal {

class Zygote {
 public:
  // The code a child runs on its end of the socketpair; its return value is the exit code.
  using ChildMain = std::function<int(int fd)>;

  // Forks the zygote. REQUIRES: the calling thread outlives the zygote (PR_SET_PDEATHSIG is
  // tied to it), and ideally no other thread runs yet. Errors: Internal (fork/socket failed).
  static Result<std::unique_ptr<Zygote>> start(ChildMain child_main);
  // Closes the control socket (the zygote exits, killing children still alive) and reaps it.
  ~Zygote();

  struct Child {
    pid_t pid = -1;
    int fd = -1;  // the worker's end of the child's socket; the caller owns it
  };
  // Forks a child. Errors: Unavailable (the zygote is gone, fork failed, no answer within
  // 10 s, or stop_spawning() was called).
  Result<Child> spawn() RUNQ_EXCLUDES(mu_);
  // From now on spawn() fails at once, including a call waiting for the zygote's answer.
  void stop_spawning() RUNQ_EXCLUDES(mu_);
  // Whether the zygote is gone (died or was killed): no child can be forked any more.
  bool gone() const RUNQ_EXCLUDES(mu_);
  // The wait status (as from waitpid) of child `pid` once it ended, or nullopt if it has not
  // ended within `timeout`. Each status is returned once.
  std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds timeout) RUNQ_EXCLUDES(mu_);

 private:
  Zygote(pid_t pid, int ctl) : pid_(pid), ctl_(ctl) {}
  void read_loop() RUNQ_EXCLUDES(mu_);

  const pid_t pid_;
  const int ctl_;
  std::thread reader_;
  Mutex spawn_mu_;  // one spawn request at a time: replies come back in order

  mutable Mutex mu_;
  CondVar cv_;
  std::deque<Child> spawned_ RUNQ_GUARDED_BY(mu_);
  std::map<pid_t, int> exits_ RUNQ_GUARDED_BY(mu_);
  bool gone_ RUNQ_GUARDED_BY(mu_) = false;
  bool stop_spawning_ RUNQ_GUARDED_BY(mu_) = false;
};

// "signal 11 (SIGSEGV)" or "exited with code 3", from a wait status.
std::string describe_wait_status(int status);
// "SIGSEGV" or "exit code 3".
std::string short_wait_status(int status);

}  // namespace runq::internal
