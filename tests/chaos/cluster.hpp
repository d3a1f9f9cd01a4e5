// Cluster: the worker and beat processes of a chaos or soak run (`runq_test_app worker` and
// `runq_test_app beat` on one store URL), each in a numbered slot that can be killed,
// stopped, continued and restarted. Every process is stopped by its pid when the Cluster
// dies (kill -9 and reaped), so an aborted run leaves nothing behind.
//
// Thread safety: none; the driver's main thread owns it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "support/child_process.hpp"

namespace runq::chaos {

struct ClusterOptions {
  std::string app_binary;  // runq_test_app
  std::string store_url;
  std::string log_dir;  // proc logs: worker<slot>.<generation>.log, beat<slot>...
  int workers = 4;
  int concurrency = 4;       // --concurrency of each worker
  std::string lease = "2s";  // --lease of each worker
  int beats = 0;             // `beat` processes (tick schedule every second)
  std::string tick_file;     // RUNQ_TEST_TICK_FILE of the beats
};

enum class Role { kWorker, kBeat };

class Cluster {
 public:
  explicit Cluster(ClusterOptions opts);
  ~Cluster();

  // Starts every slot. False (with error()) if a process could not be spawned.
  bool start_all();
  int count(Role role) const;
  int pid(Role role, int slot) const;
  bool stopped(Role role, int slot) const;

  // kill -9 of the slot's process, reaped, then a fresh one in its place.
  bool kill9_and_restart(Role role, int slot);
  // kill -9 of every process, reaped, then fresh ones (a crash of everything on the host).
  bool kill9_all_and_restart();
  void sigstop(Role role, int slot);
  void sigcont(Role role, int slot);
  // Graceful end of every process of `role`: SIGCONT, then SIGTERM; whatever has not exited
  // within `grace_ms` is killed. Returns the number of processes that had to be killed.
  int stop(Role role, int grace_ms);
  // A process that exited by itself (a crash: the run only ever kills by pid) since it was
  // started: "worker 2 exited with 134", or empty. Stopped roles are not looked at.
  std::string unexpected_exit();
  const std::string& error() const { return error_; }

 private:
  struct Slot {
    Role role;
    int index;
    int generation = 0;
    bool stopped = false;
    bool ended = false;  // stop() was called: gone for good
    std::unique_ptr<testing::ChildProcess> proc;
  };
  bool launch(Slot& slot);
  Slot& slot(Role role, int index);
  const Slot& slot(Role role, int index) const;

  ClusterOptions opts_;
  std::vector<Slot> slots_;
  std::string error_;
};

}  // namespace runq::chaos
