#include "support/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <string_view>

#include "support/temp_dir.hpp"
#include "support/wait.hpp"

extern char** environ;

namespace runq::testing {

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !exit_code_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

namespace {

// This process's environment with `extra` ("NAME=value") added or replacing entries.
std::vector<std::string> merged_env(const std::vector<std::string>& extra) {
  std::vector<std::string> out = extra;
  for (char** e = environ; *e; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const std::string& x : extra)
      replaced |= x.compare(0, name.size() + 1, std::string(name) + "=") == 0;
    if (!replaced) out.emplace_back(entry);
  }
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& items) {
  std::vector<char*> out;
  for (std::string& s : items) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

bool ChildProcess::start(const std::string& binary, const std::vector<std::string>& args,
                         const std::string& out_path, const std::string& err_path,
                         const std::vector<std::string>& env) {
  std::vector<std::string> all = {binary};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv = pointers(all);
  std::vector<std::string> env_items = merged_env(env);
  std::vector<char*> envp = pointers(env_items);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  if (err_path == out_path) {
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  } else {
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
  }
  // A child must not inherit blocked signals from a test thread.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, binary.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return false;
  pid_ = pid;
  exit_code_.reset();
  return true;
}

void ChildProcess::signal(int sig) const {
  if (pid_ > 0 && !exit_code_) ::kill(pid_, sig);
}

bool ChildProcess::poll_exit() {
  if (exit_code_) return true;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r != pid_) return false;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return true;
}

std::optional<int> ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  wait_until([&] { return poll_exit(); }, timeout);
  return exit_code_;
}

CommandResult run_command(const std::string& binary, const std::vector<std::string>& args,
                          std::chrono::milliseconds timeout) {
  TempDir dir;
  CommandResult r;
  {
    ChildProcess child;
    if (!child.start(binary, args, dir.file("out"), dir.file("err"))) {
      r.err = "cannot start " + binary;
      return r;
    }
    r.exit_code = child.wait_exit(timeout).value_or(-1);
  }
  r.out = read_file(dir.file("out"));
  r.err = read_file(dir.file("err"));
  return r;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int count_lines(const std::string& path, const std::string& line) {
  std::ifstream in(path);
  int n = 0;
  for (std::string l; std::getline(in, l);) n += l == line;
  return n;
}

}  // namespace runq::testing
