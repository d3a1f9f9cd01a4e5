#include "support/redis_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/free_port.hpp"

namespace runq::testing {
namespace {

constexpr int kStartAttempts = 3;  // a picked port can be taken before redis binds it
constexpr auto kReadyDeadline = std::chrono::seconds(15);

std::string find_redis_server() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/redis-server";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  for (const char* c : {"/usr/bin/redis-server", "/usr/local/bin/redis-server"}) {
    if (access(c, X_OK) == 0) return c;
  }
  return "";
}

int connect_loopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// A minimal RESP2 client: enough for PING, AUTH and the odd hand-written command in tests.
class RespConnection {
 public:
  explicit RespConnection(int port) : fd_(connect_loopback(port)) {}
  ~RespConnection() {
    if (fd_ >= 0) close(fd_);
  }
  bool connected() const { return fd_ >= 0; }

  std::string call(const std::vector<std::string>& args) {
    std::string out = "*" + std::to_string(args.size()) + "\r\n";
    for (const auto& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
    if (!send_all(out)) return "-CONNECTION write failed: " + std::string(strerror(errno));
    return read_reply();
  }

 private:
  bool send_all(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  bool fill() {
    char chunk[4096];
    ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buf_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  bool read_line(std::string* line) {
    size_t pos;
    while ((pos = buf_.find("\r\n")) == std::string::npos) {
      if (!fill()) return false;
    }
    *line = buf_.substr(0, pos);
    buf_.erase(0, pos + 2);
    return true;
  }

  bool read_bytes(size_t n, std::string* out) {
    while (buf_.size() < n + 2) {
      if (!fill()) return false;
    }
    *out = buf_.substr(0, n);
    buf_.erase(0, n + 2);
    return true;
  }

  std::string read_reply() {
    std::string line;
    if (!read_line(&line) || line.empty()) return "-CONNECTION read failed";
    const char kind = line[0];
    const std::string rest = line.substr(1);
    if (kind == '+' || kind == ':') return rest;
    if (kind == '-') return line;
    if (kind == '$') {
      long n = std::strtol(rest.c_str(), nullptr, 10);
      if (n < 0) return "(nil)";
      std::string body;
      return read_bytes(static_cast<size_t>(n), &body) ? body : "-CONNECTION read failed";
    }
    if (kind == '*') {
      long n = std::strtol(rest.c_str(), nullptr, 10);
      if (n < 0) return "(nil)";
      std::string joined;
      for (long i = 0; i < n; ++i) {
        if (i > 0) joined += '\n';
        joined += read_reply();
      }
      return joined;
    }
    return "-PROTOCOL unexpected reply: " + line;
  }

  int fd_;
  std::string buf_;
};

std::string read_log_tail(const std::string& path) {
  std::ifstream in(path);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return all.size() > 600 ? all.substr(all.size() - 600) : all;
}

}  // namespace

bool running_under_ci() {
  const char* ci = std::getenv("CI");
  if (ci == nullptr) return false;
  std::string v(ci);
  return v == "true" || v == "1" || v == "TRUE" || v == "True";
}

RedisServer::RedisServer(RedisServerOptions opts) : opts_(std::move(opts)) {}

RedisServer::~RedisServer() { stop(); }

std::string RedisServer::url() const {
  std::string auth = opts_.requirepass.empty() ? "" : ":" + opts_.requirepass + "@";
  return "redis://" + auth + "127.0.0.1:" + std::to_string(port_) + "/0";
}

void RedisServer::write_config() const {
  std::ofstream conf(dir_.file("redis.conf"), std::ios::trunc);
  conf << "port " << port_ << "\n"
       << "bind 127.0.0.1\n"
       << "dir " << dir_.path() << "\n"
       << "logfile " << dir_.file("redis.log") << "\n"
       << "daemonize no\n"
       << "save \"\"\n"
       << "databases 16\n";
  if (opts_.appendonly) {
    conf << "appendonly yes\nappendfsync always\n";
  } else {
    conf << "appendonly no\n";
  }
  if (!opts_.requirepass.empty()) conf << "requirepass " << opts_.requirepass << "\n";
}

bool RedisServer::start() {
  if (running()) return true;
  binary_ = find_redis_server();
  if (binary_.empty()) {
    error_ = "redis-server not found on PATH or in /usr/bin";
    return false;
  }
  return start_on_free_port(
      port_, error_, [this] { return launch(); }, kStartAttempts);
}

bool RedisServer::restart() {
  if (running()) stop();
  if (binary_.empty() || port_ == 0) return start();
  return launch();
}

bool RedisServer::launch() {
  write_config();
  std::string conf = dir_.file("redis.conf");
  // Everything the child needs is prepared before fork: only async-signal-safe calls follow.
  char* argv[] = {binary_.data(), conf.data(), nullptr};
  pid_t parent = getpid();
  // PR_SET_PDEATHSIG fires when the forking *thread* exits: use it only from the main thread,
  // whose end is the process's end.
  const bool main_thread = gettid() == parent;
  pid_t pid = fork();
  if (pid < 0) {
    error_ = std::string("fork failed: ") + strerror(errno);
    return false;
  }
  if (pid == 0) {
    if (main_thread) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test binary
      if (getppid() != parent) _exit(127);
    }
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      dup2(devnull, 0);
      dup2(devnull, 1);
      dup2(devnull, 2);
    }
    // The test's own sockets (connections to other servers) must not live on in redis-server.
    if (close_range(3, ~0U, 0) != 0) {
      for (int fd = 3; fd < 1024; ++fd) close(fd);
    }
    setpgid(0, 0);
    execv(argv[0], argv);
    _exit(127);
  }
  pid_ = pid;
  if (wait_ready()) return true;
  reap(SIGKILL, 0);
  return false;
}

bool RedisServer::wait_ready() {
  auto deadline = std::chrono::steady_clock::now() + kReadyDeadline;
  std::string last = "no reply";
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = "redis-server exited at start: " + read_log_tail(dir_.file("redis.log"));
      return false;
    }
    last = command({"PING"});
    if (last == "PONG") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  error_ = "redis-server on port " + std::to_string(port_) + " did not answer PING: " + last;
  return false;
}

void RedisServer::reap(int signal, int grace_ms) {
  if (pid_ <= 0) return;
  kill(pid_, signal);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  pid_ = -1;
}

void RedisServer::kill9() { reap(SIGKILL, 0); }

void RedisServer::stop() { reap(SIGTERM, 5000); }

std::string RedisServer::command(const std::vector<std::string>& args) const {
  RespConnection conn(port_);
  if (!conn.connected()) return "-CONNECTION refused on port " + std::to_string(port_);
  if (!opts_.requirepass.empty()) {
    std::string auth = conn.call({"AUTH", opts_.requirepass});
    if (auth != "OK") return auth;
  }
  return conn.call(args);
}

}  // namespace runq::testing
