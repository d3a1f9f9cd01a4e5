#include "worker/internal/zygote.hpp"

#include "worker/internal/child_main.hpp"
#include "worker/internal/log.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

namespace runq::internal {
namespace {

// One control message. Requests use only `type`.
struct ControlRecord {
  char type = 0;  // 'S' spawn request; 'P' spawned (fd attached); 'X' a child exited
  std::int32_t pid = 0;
  std::int32_t status = 0;
};

// Children's transport buffers: large enough that a 1 MiB task body or result never blocks the
// sender on a busy peer.
constexpr int kSocketBuffer = 4 << 20;

bool send_record(int ctl, const ControlRecord& r, int fd = -1) {
  iovec iov{const_cast<ControlRecord*>(&r), sizeof r};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (fd >= 0) {
    std::memset(control, 0, sizeof control);
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  while (true) {
    ssize_t n = ::sendmsg(ctl, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    return n == static_cast<ssize_t>(sizeof r);
  }
}

// Receives one record (and an attached fd, else -1). False at end of stream or on error.
bool recv_record(int ctl, ControlRecord* r, int* fd) {
  iovec iov{r, sizeof *r};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(ctl, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof *r)) return false;
  *fd = -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      std::memcpy(fd, CMSG_DATA(c), sizeof *fd);
  }
  return true;
}

void reset_signals_for_child() {
  for (int sig : {SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2})
    ::signal(sig, SIG_DFL);
  // Ctrl-C reaches the whole process group: the worker decides how its children stop.
  ::signal(SIGINT, SIG_IGN);
  // Only the cancellation signal stays blocked: the child takes it with sigtimedwait.
  sigset_t cancel;
  sigemptyset(&cancel);
  sigaddset(&cancel, kCancelSignal);
  ::sigprocmask(SIG_SETMASK, &cancel, nullptr);
}

[[noreturn]] void run_child(int fd, const Zygote::ChildMain& child_main) {
  int code = 1;
  try {
    code = child_main(fd);
  } catch (...) {
    code = 70;
  }
  std::fflush(nullptr);
  ::_exit(code);
}

void spawn_child(int ctl, int sfd, const Zygote::ChildMain& child_main) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    send_record(ctl, {'P', -errno, 0});
    return;
  }
  for (int fd : sv) {
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSocketBuffer, sizeof kSocketBuffer);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kSocketBuffer, sizeof kSocketBuffer);
  }
  const pid_t zygote = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ctl);
    ::close(sfd);
    ::close(sv[0]);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != zygote) ::_exit(1);
    reset_signals_for_child();
    run_child(sv[1], child_main);
  }
  ::close(sv[1]);
  if (pid < 0) {
    send_record(ctl, {'P', -errno, 0});
  } else {
    send_record(ctl, {'P', pid, 0}, sv[0]);
  }
  ::close(sv[0]);
}

[[noreturn]] void zygote_main(int ctl, pid_t worker, const Zygote::ChildMain& child_main) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != worker) ::_exit(0);
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGTERM, SIG_DFL);
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  ::sigprocmask(SIG_SETMASK, &chld, nullptr);
  int sfd = ::signalfd(-1, &chld, SFD_CLOEXEC);
  if (sfd < 0) ::_exit(1);
  pollfd fds[2] = {{ctl, POLLIN, 0}, {sfd, POLLIN, 0}};
  while (true) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      ::_exit(1);
    }
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo info;
      (void)!::read(sfd, &info, sizeof info);
      int status = 0;
      pid_t pid;
      while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) send_record(ctl, {'X', pid, status});
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ControlRecord req;
      int fd;
      if (!recv_record(ctl, &req, &fd)) ::_exit(0);  // the worker closed the socket or died
      if (fd >= 0) ::close(fd);
      if (req.type == 'S') spawn_child(ctl, sfd, child_main);
    }
  }
}

}  // namespace

Result<std::unique_ptr<Zygote>> Zygote::start(ChildMain child_main) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return internal_error(std::string("process pool: socketpair: ") + std::strerror(errno));
  const pid_t worker = ::getpid();
  std::fflush(nullptr);  // nothing buffered is written twice
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(sv[0]);
    ::close(sv[1]);
    return internal_error(std::string("process pool: fork: ") + std::strerror(err));
  }
  if (pid == 0) {
    ::close(sv[0]);
    zygote_main(sv[1], worker, child_main);
  }
  ::close(sv[1]);
  std::unique_ptr<Zygote> z(new Zygote(pid, sv[0]));
  z->reader_ = std::thread([p = z.get()] { p->read_loop(); });
  return z;
}

Zygote::~Zygote() {
  ::shutdown(ctl_, SHUT_RDWR);
  if (reader_.joinable()) reader_.join();
  ::close(ctl_);
  {
    MutexLock lock(mu_);
    for (const Child& c : spawned_) {  // answers that came after their spawn() gave up
      if (c.fd >= 0) ::close(c.fd);
    }
  }
  // The zygote exits when it sees its control socket close. One that does not (stuck) is
  // killed after a bounded wait, so that stopping a worker never hangs on it.
  int status;
  for (int i = 0; i < 200; ++i) {  // 200 x 10 ms
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno != EINTR)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  log_line("process pool: the zygote did not exit within 2 s; killing it");
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

void Zygote::read_loop() {
  ControlRecord r;
  int fd;
  while (recv_record(ctl_, &r, &fd)) {
    MutexLock lock(mu_);
    if (r.type == 'P') {
      spawned_.push_back({r.pid, fd});
    } else if (r.type == 'X') {
      if (fd >= 0) ::close(fd);
      exits_[r.pid] = r.status;
    }
    cv_.notify_all();
  }
  MutexLock lock(mu_);
  gone_ = true;
  cv_.notify_all();
}

Result<Zygote::Child> Zygote::spawn() {
  MutexLock spawn_lock(spawn_mu_);
  {
    MutexLock lock(mu_);
    if (stop_spawning_) return unavailable_error("process pool: stopping");
  }
  if (!send_record(ctl_, {'S', 0, 0})) return unavailable_error("process pool: the zygote is gone");
  MutexLock lock(mu_);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (spawned_.empty() && !gone_ && !stop_spawning_) {
    if (!cv_.wait_until(mu_, deadline)) break;
  }
  if (spawned_.empty()) {
    return unavailable_error(stop_spawning_ ? "process pool: stopping"
                             : gone_        ? "process pool: the zygote is gone"
                                            : "process pool: the zygote did not answer");
  }
  Child c = spawned_.front();
  spawned_.pop_front();
  if (c.pid <= 0 || c.fd < 0) {
    if (c.fd >= 0) ::close(c.fd);
    return unavailable_error(std::string("process pool: fork failed: ") + std::strerror(-c.pid));
  }
  return c;
}

void Zygote::stop_spawning() {
  MutexLock lock(mu_);
  stop_spawning_ = true;
  cv_.notify_all();
}

bool Zygote::gone() const {
  MutexLock lock(mu_);
  return gone_;
}

std::optional<int> Zygote::wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(mu_);
  while (true) {
    auto it = exits_.find(pid);
    if (it != exits_.end()) {
      int status = it->second;
      exits_.erase(it);
      return status;
    }
    if (gone_ || !cv_.wait_until(mu_, deadline)) return std::nullopt;
  }
}

std::string describe_wait_status(int status) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* abbrev = ::sigabbrev_np(sig);
    return "signal " + std::to_string(sig) + " (SIG" + (abbrev ? abbrev : "?") + ")";
  }
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  return "ended with wait status " + std::to_string(status);
}

std::string short_wait_status(int status) {
  if (WIFSIGNALED(status)) {
    const char* abbrev = ::sigabbrev_np(WTERMSIG(status));
    return std::string("SIG") + (abbrev ? abbrev : std::to_string(WTERMSIG(status)).c_str());
  }
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  return "wait status " + std::to_string(status);
}

}  // namespace runq::internal
