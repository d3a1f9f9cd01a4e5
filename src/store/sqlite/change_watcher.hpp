// ChangeWatcher: lets threads sleep until some process writes to the database files.
//
// Every commit in WAL mode write()s frames to the "-wal" file, so an inotify IN_MODIFY watch on
// it sees commits from every process on the machine. (The main file is not watched: only
// checkpoints write it, and they follow commits that were already seen.) The -wal file lives
// as long as any connection to the database is open, and the store holds one. The watch is added
// once, when the store opens: events that arrive while nobody waits queue up in the inotify
// descriptor, so a change between a caller's check and its wait is not lost. Changes are counted in
// a generation number; a caller reads generation(), checks the database, then wait()s for the
// generation to move.
//
// One waiting thread at a time (the leader) blocks in ppoll() on the descriptor and drains it;
// the others wait on a condition variable for the generation to move or their deadline. When
// inotify is unavailable (no support, or the per-user instance limit is reached) wait() wakes
// every kFallbackPoll and reports a change, so callers poll.
//
// Thread safety: all methods may be called concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/mutex.hpp"

namespace runq::sqlite {

class ChangeWatcher {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  static constexpr std::chrono::milliseconds kFallbackPoll{50};

  // Watches the existing files among `paths`. Without any watch, falls back to polling.
  explicit ChangeWatcher(const std::vector<std::string>& paths);
  ~ChangeWatcher();
  ChangeWatcher(const ChangeWatcher&) = delete;
  ChangeWatcher& operator=(const ChangeWatcher&) = delete;

  // Number of changes seen so far (batches of events count once).
  std::uint64_t generation() RUNQ_EXCLUDES(mu_);
  // When the latest change was seen (steady clock); the epoch when none was.
  TimePoint last_change() RUNQ_EXCLUDES(mu_);
  // Blocks until generation() != `seen` or `until` passes. True when the generation moved.
  bool wait(std::uint64_t seen, TimePoint until) RUNQ_EXCLUDES(mu_);

 private:
  // Blocks in ppoll() until an event or `until`; drains the descriptor. True on an event.
  bool poll_events(TimePoint until) RUNQ_EXCLUDES(mu_);

  int fd_ = -1;
  internal::Mutex mu_;
  internal::CondVar cv_;  // the generation moved, or the leader left poll_events()
  std::uint64_t generation_ RUNQ_GUARDED_BY(mu_) = 0;
  TimePoint last_change_ RUNQ_GUARDED_BY(mu_){};
  bool leader_ RUNQ_GUARDED_BY(mu_) = false;  // a thread is in poll_events()
};

}  // namespace runq::sqlite
