#include "chaos/cluster.hpp"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <utility>

namespace runq::chaos {

using namespace std::chrono_literals;

Cluster::Cluster(ClusterOptions opts) : opts_(std::move(opts)) {
  for (int i = 0; i < opts_.workers; ++i) slots_.push_back(Slot{Role::kWorker, i});
  for (int i = 0; i < opts_.beats; ++i) slots_.push_back(Slot{Role::kBeat, i});
}

Cluster::~Cluster() {
  // ChildProcess's destructor kill -9s and reaps; a stopped process dies of SIGKILL too.
  slots_.clear();
}

bool Cluster::start_all() {
  for (Slot& s : slots_) {
    if (!s.ended && !launch(s)) return false;
  }
  return true;
}

int Cluster::count(Role role) const { return role == Role::kWorker ? opts_.workers : opts_.beats; }

Cluster::Slot& Cluster::slot(Role role, int index) {
  return slots_.at(static_cast<std::size_t>((role == Role::kWorker ? 0 : opts_.workers) + index));
}
const Cluster::Slot& Cluster::slot(Role role, int index) const {
  return slots_.at(static_cast<std::size_t>((role == Role::kWorker ? 0 : opts_.workers) + index));
}

int Cluster::pid(Role role, int index) const {
  const Slot& s = slot(role, index);
  return s.proc && s.proc->running() ? s.proc->pid() : 0;
}

bool Cluster::stopped(Role role, int index) const { return slot(role, index).stopped; }

bool Cluster::launch(Slot& s) {
  const bool worker = s.role == Role::kWorker;
  std::vector<std::string> args = {worker ? "worker" : "beat", "--store", opts_.store_url};
  std::vector<std::string> env;
  if (worker) {
    args.insert(args.end(), {"--concurrency", std::to_string(opts_.concurrency), "--lease",
                             opts_.lease, "--report-every", "0s"});
  } else {
    env.push_back("RUNQ_TEST_TICK_FILE=" + opts_.tick_file);
  }
  std::string log = opts_.log_dir + "/" + (worker ? "worker" : "beat") + std::to_string(s.index) +
                    "." + std::to_string(s.generation++) + ".log";
  s.proc = std::make_unique<testing::ChildProcess>();
  s.stopped = false;
  if (s.proc->start(opts_.app_binary, args, log, log, env)) return true;
  error_ = "cannot start " + opts_.app_binary;
  return false;
}

bool Cluster::kill9_and_restart(Role role, int index) {
  Slot& s = slot(role, index);
  s.proc->signal(SIGKILL);
  (void)s.proc->wait_exit(10s);
  return launch(s);
}

bool Cluster::kill9_all_and_restart() {
  for (Slot& s : slots_) s.proc->signal(SIGKILL);
  for (Slot& s : slots_) (void)s.proc->wait_exit(10s);
  return start_all();
}

void Cluster::sigstop(Role role, int index) {
  Slot& s = slot(role, index);
  s.proc->signal(SIGSTOP);
  s.stopped = true;
}

void Cluster::sigcont(Role role, int index) {
  Slot& s = slot(role, index);
  s.proc->signal(SIGCONT);
  s.stopped = false;
}

int Cluster::stop(Role role, int grace_ms) {
  std::vector<Slot*> targets;
  for (Slot& s : slots_) {
    if (s.role != role || s.ended) continue;
    s.proc->signal(SIGCONT);
    s.stopped = false;
    s.proc->signal(SIGTERM);
    s.ended = true;
    targets.push_back(&s);
  }
  int killed = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  for (Slot* s : targets) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (s->proc->wait_exit(std::max(left, std::chrono::milliseconds(1)))) continue;
    s->proc->signal(SIGKILL);
    (void)s->proc->wait_exit(10s);
    ++killed;
  }
  return killed;
}

std::string Cluster::unexpected_exit() {
  for (Slot& s : slots_) {
    if (s.ended) continue;
    if (auto code = s.proc->wait_exit(0ms)) {
      return std::string(s.role == Role::kWorker ? "worker " : "beat ") + std::to_string(s.index) +
             " exited with " + std::to_string(*code);
    }
  }
  return "";
}

}  // namespace runq::chaos
