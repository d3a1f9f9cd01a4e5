// ChildProcess: runs a binary of this build as a separate process (a worker, the runq tool)
// for multi-process tests, with its output in files. The destructor kill -9s and reaps a
// child that is still running, so a failing test leaves no process behind.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace runq::testing {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts `binary` with `args` (argv[1..]); stdout goes to `out_path`, stderr to
  // `err_path` (the same file when equal). `env` adds or replaces "NAME=value" entries of
  // this process's environment. False if it could not be spawned.
  bool start(const std::string& binary, const std::vector<std::string>& args,
             const std::string& out_path, const std::string& err_path,
             const std::vector<std::string>& env = {});

  int pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !exit_code_; }
  void signal(int sig) const;

  // Waits up to `timeout` for the child to exit. Returns its exit code, or 128 + the signal
  // that killed it; nullopt if it is still running.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

 private:
  bool poll_exit();

  int pid_ = -1;
  std::optional<int> exit_code_;
};

// What a finished command printed.
struct CommandResult {
  int exit_code = -1;  // -1: did not finish within the timeout (then it was killed)
  std::string out;
  std::string err;
};

// Runs `binary args...` to completion (at most `timeout`) with a private output directory.
CommandResult run_command(const std::string& binary, const std::vector<std::string>& args,
                          std::chrono::milliseconds timeout = std::chrono::seconds(20));

std::string read_file(const std::string& path);
// Number of lines of `path` equal to `line` (0 if the file is missing).
int count_lines(const std::string& path, const std::string& line);

}  // namespace runq::testing
