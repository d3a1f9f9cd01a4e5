#include "store/sqlite/change_watcher.hpp"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

namespace runq::sqlite {

ChangeWatcher::ChangeWatcher(const std::vector<std::string>& paths) {
  fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) return;
  int watches = 0;
  for (const std::string& path : paths) {
    if (inotify_add_watch(fd_, path.c_str(), IN_MODIFY) >= 0) ++watches;
  }
  if (watches == 0) {
    close(fd_);
    fd_ = -1;
  }
}

ChangeWatcher::~ChangeWatcher() {
  if (fd_ >= 0) close(fd_);
}

std::uint64_t ChangeWatcher::generation() {
  internal::MutexLock lock(mu_);
  return generation_;
}

ChangeWatcher::TimePoint ChangeWatcher::last_change() {
  internal::MutexLock lock(mu_);
  return last_change_;
}

bool ChangeWatcher::wait(std::uint64_t seen, TimePoint until) {
  // Explicit lock() / unlock(): the leader releases mu_ while it polls.
  mu_.lock();
  bool moved = true;
  while (generation_ == seen) {
    if (std::chrono::steady_clock::now() >= until) {
      moved = false;
      break;
    }
    if (leader_) {
      cv_.wait_until(mu_, until);
      continue;
    }
    leader_ = true;
    mu_.unlock();
    const bool changed = poll_events(until);
    mu_.lock();
    leader_ = false;
    if (changed) {
      ++generation_;
      last_change_ = std::chrono::steady_clock::now();
    }
    // Wakes the followers: to see the new generation, or for one of them to take over polling.
    cv_.notify_all();
  }
  mu_.unlock();
  return moved;
}

bool ChangeWatcher::poll_events(TimePoint until) {
  const auto left = until - std::chrono::steady_clock::now();
  if (left <= std::chrono::nanoseconds::zero()) return false;
  if (fd_ < 0) {
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, kFallbackPoll));
    return true;
  }
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
  const timespec timeout{static_cast<time_t>(ns / 1'000'000'000),
                         static_cast<long>(ns % 1'000'000'000)};
  pollfd pfd{fd_, POLLIN, 0};
  const int n = ppoll(&pfd, 1, &timeout, nullptr);
  if (n <= 0) return n < 0 && errno == EINTR;  // a signal: let the caller re-check
  alignas(inotify_event) char buf[4096];
  while (read(fd_, buf, sizeof buf) > 0) {
  }
  return true;
}

}  // namespace runq::sqlite
