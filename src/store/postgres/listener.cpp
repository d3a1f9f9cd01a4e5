#include "store/postgres/listener.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

namespace runq::pg {

Listener::Listener(std::string conninfo, std::string channel)
    : conninfo_(std::move(conninfo)), channel_(std::move(channel)) {}

Listener::~Listener() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (wake_fd_ >= 0) {
    const std::uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof(one));
  }
  if (thread_.joinable()) thread_.join();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void Listener::start_locked() {
  if (started_) return;
  started_ = true;
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  thread_ = std::thread([this] { run(); });
}

std::uint64_t Listener::generation() {
  std::lock_guard<std::mutex> lock(mu_);
  start_locked();
  return generation_;
}

bool Listener::listening() {
  std::lock_guard<std::mutex> lock(mu_);
  return listening_;
}

bool Listener::wait(std::uint64_t seen, Clock::time_point until) {
  std::unique_lock<std::mutex> lock(mu_);
  start_locked();
  return cv_.wait_until(lock, until, [&] { return generation_ != seen || stop_; }) &&
         generation_ != seen;
}

void Listener::bump(bool listening) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++generation_;
    listening_ = listening;
  }
  cv_.notify_all();
}

bool Listener::pause(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, d, [&] { return stop_; });
}

void Listener::run() {
  std::chrono::milliseconds backoff(50);
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    const char* keys[] = {"dbname", "application_name", "connect_timeout", nullptr};
    const char* values[] = {conninfo_.c_str(), "runq-listen", "10", nullptr};
    PGconn* conn = PQconnectdbParams(keys, values, 1);
    bool ok = PQstatus(conn) == CONNECTION_OK;
    if (ok) {
      PQsetNoticeProcessor(
          conn, [](void*, const char*) {}, nullptr);
      const std::string sql = "LISTEN \"" + channel_ + "\"";
      PGresult* res = PQexec(conn, sql.c_str());
      ok = PQresultStatus(res) == PGRES_COMMAND_OK;
      PQclear(res);
    }
    if (ok) {
      backoff = std::chrono::milliseconds(50);
      bump(true);  // anything sent while not listening may have been missed: look again
      pollfd fds[2] = {{PQsocket(conn), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      for (;;) {
        fds[0].revents = fds[1].revents = 0;
        if (poll(fds, 2, wake_fd_ < 0 ? 200 : -1) < 0) continue;  // EINTR
        if (fds[1].revents != 0) break;                           // stopping
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (stop_) break;
        }
        if (PQconsumeInput(conn) == 0) break;  // connection lost
        bool notified = false;
        while (PGnotify* n = PQnotifies(conn)) {
          notified = true;
          PQfreemem(n);
        }
        if (notified) bump(true);
      }
    }
    PQfinish(conn);
    bump(false);
    if (!pause(backoff)) return;
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

}  // namespace runq::pg
