#include "support/postgres_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "support/free_port.hpp"
#include "support/redis_server.hpp"  // running_under_ci

namespace runq::testing {
namespace {

constexpr int kStartAttempts = 3;  // a picked port can be taken before postgres binds it
constexpr auto kReadyDeadline = std::chrono::seconds(30);
constexpr auto kInitDeadline = std::chrono::seconds(120);

std::string find_bin_dir() {
  for (const char* dir :
       {"/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin",
        "/usr/lib/postgresql/14/bin", "/usr/local/pgsql/bin", "/usr/bin"}) {
    const std::string initdb = std::string(dir) + "/initdb";
    const std::string postgres = std::string(dir) + "/postgres";
    if (access(initdb.c_str(), X_OK) == 0 && access(postgres.c_str(), X_OK) == 0) return dir;
  }
  return "";
}

std::string read_tail(const std::string& path) {
  std::ifstream in(path);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return all.size() > 800 ? all.substr(all.size() - 800) : all;
}

// The user the server runs as when we are root: uid/gid of `postgres`, or nullopt-like -1.
struct RunAs {
  uid_t uid = 0;
  gid_t gid = 0;
  bool drop = false;
};

RunAs run_as() {
  RunAs r;
  if (geteuid() != 0) return r;
  if (passwd* pw = getpwnam("postgres")) {
    r.uid = pw->pw_uid;
    r.gid = pw->pw_gid;
    r.drop = true;
  }
  return r;
}

// fork + exec `argv` (as the postgres user when root), output to `log`, in its own process
// group. Returns the pid, or -1.
pid_t spawn(std::vector<std::string> args, const std::string& log, bool die_with_parent) {
  const RunAs as = run_as();
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  const bool main_thread = gettid() == parent;
  pid_t pid = fork();
  if (pid != 0) return pid;
  setpgid(0, 0);
  int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0) dup2(devnull, 0);
  if (out >= 0) {
    if (as.drop && fchown(out, as.uid, as.gid) != 0) _exit(126);
    dup2(out, 1);
    dup2(out, 2);
  }
  if (close_range(3, ~0U, 0) != 0) {
    for (int fd = 3; fd < 1024; ++fd) close(fd);
  }
  if (as.drop) {
    if (setgroups(0, nullptr) != 0 || setgid(as.gid) != 0 || setuid(as.uid) != 0) _exit(126);
  }
  // After setuid: a change of credentials clears the parent-death signal.
  if (die_with_parent && main_thread) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
  }
  execv(argv[0], argv.data());
  _exit(127);
}

// The postmaster's children (backends, background processes): PostgreSQL puts each in its own
// session, so they are found by parent pid, not by process group.
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid ...: comm may hold spaces, so parse after the last ')'.
    const std::size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 1));
    char state = 0;
    pid_t ppid = 0;
    if (rest >> state >> ppid && ppid == parent) out.push_back(std::stoi(name));
  }
  return out;
}

}  // namespace

PostgresServer::PostgresServer(PostgresServerOptions opts) : opts_(std::move(opts)) {}

PostgresServer::~PostgresServer() { stop(); }

std::string PostgresServer::url(const std::string& query) const {
  return "postgresql://runq@127.0.0.1:" + std::to_string(port_) + "/postgres" + query;
}

bool PostgresServer::init_db() {
  const RunAs as = run_as();
  if (geteuid() == 0 && !as.drop) {
    error_ = "running as root and there is no 'postgres' user to run initdb as";
    return false;
  }
  if (as.drop && chown(dir_.path().c_str(), as.uid, as.gid) != 0) {
    error_ = "chown of the data dir failed: " + std::string(strerror(errno));
    return false;
  }
  const std::string log = dir_.file("initdb.log");
  pid_t pid = spawn({bin_dir_ + "/initdb", "-D", dir_.file("data"), "-U", "runq", "--auth=trust",
                     "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"},
                    log, true);
  if (pid < 0) {
    error_ = "fork failed: " + std::string(strerror(errno));
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + kInitDeadline;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      error_ = "initdb did not finish in time";
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    error_ = "initdb failed: " + read_tail(log);
    return false;
  }
  initialized_ = true;
  return true;
}

bool PostgresServer::start() {
  if (running()) return true;
  bin_dir_ = find_bin_dir();
  if (bin_dir_.empty()) {
    error_ = "initdb/postgres not found (install the Debian package postgresql)";
    return false;
  }
  if (!initialized_ && !init_db()) return false;
  return start_on_free_port(
      port_, error_, [this] { return launch(); }, kStartAttempts);
}

bool PostgresServer::restart() {
  if (running()) stop();
  if (!initialized_ || port_ == 0) return start();
  // A killed server's port may be in TIME_WAIT or its shared memory still going away: retry.
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (launch()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

bool PostgresServer::launch() {
  std::vector<std::string> args = {bin_dir_ + "/postgres",
                                   "-D",
                                   dir_.file("data"),
                                   "-p",
                                   std::to_string(port_),
                                   "-c",
                                   "listen_addresses=127.0.0.1",
                                   "-c",
                                   "unix_socket_directories=" + dir_.path(),
                                   "-c",
                                   "fsync=off",
                                   "-c",
                                   "full_page_writes=off",
                                   "-c",
                                   "max_connections=300"};
  for (const std::string& s : opts_.settings) {
    args.push_back("-c");
    args.push_back(s);
  }
  pid_t pid = spawn(std::move(args), dir_.file("postgres.log"), true);
  if (pid < 0) {
    error_ = "fork failed: " + std::string(strerror(errno));
    return false;
  }
  pid_ = pid;
  if (wait_ready()) return true;
  reap(SIGKILL, 0);
  return false;
}

bool PostgresServer::wait_ready() {
  const std::string conninfo =
      "host=127.0.0.1 port=" + std::to_string(port_) + " user=runq dbname=postgres";
  const auto deadline = std::chrono::steady_clock::now() + kReadyDeadline;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = "postgres exited at start: " + read_tail(dir_.file("postgres.log"));
      return false;
    }
    if (PQping(conninfo.c_str()) == PQPING_OK) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  error_ = "postgres on port " + std::to_string(port_) +
           " did not accept connections: " + read_tail(dir_.file("postgres.log"));
  return false;
}

void PostgresServer::reap(int signal, int grace_ms) {
  if (pid_ <= 0) return;
  kill(pid_, signal);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      for (pid_t child : children_of(pid_)) kill(child, SIGKILL);
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  pid_ = -1;
}

void PostgresServer::kill9() {
  if (pid_ <= 0) return;
  const std::vector<pid_t> children = children_of(pid_);
  kill(pid_, SIGKILL);
  for (pid_t child : children) kill(child, SIGKILL);
  reap(SIGKILL, 0);
  // Wait until every one is gone (or a zombie), so that no connection still answers.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (pid_t child : children) {
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
      std::string line;
      if (!std::getline(stat, line)) break;
      const std::size_t close = line.rfind(')');
      if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z') break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
}

void PostgresServer::stop() { reap(SIGINT, 10000); }

std::string PostgresServer::query(const std::string& sql) const {
  const std::string conninfo =
      "host=127.0.0.1 port=" + std::to_string(port_) + " user=runq dbname=postgres";
  PGconn* conn = PQconnectdb(conninfo.c_str());
  std::string out;
  if (PQstatus(conn) != CONNECTION_OK) {
    out = "-ERROR " + std::string(PQerrorMessage(conn));
  } else {
    PGresult* res = PQexec(conn, sql.c_str());
    const ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_TUPLES_OK) {
      if (PQntuples(res) > 0 && PQnfields(res) > 0) out = PQgetvalue(res, 0, 0);
    } else if (st != PGRES_COMMAND_OK) {
      out = "-ERROR " + std::string(PQresultErrorMessage(res));
    }
    PQclear(res);
  }
  PQfinish(conn);
  return out;
}

int shared_postgres_port(std::string* why) {
  static PostgresServer server;  // stopped when the binary exits
  static const bool started = server.start();
  if (!started) {
    if (why) *why = "cannot start PostgreSQL: " + server.error();
    return 0;
  }
  return server.port();
}

}  // namespace runq::testing
