// `enqueue NAME --args JSON`: adds one task and prints its id. The task need not be
// registered in this binary; the worker that picks it up decides. `--args @FILE` reads the
// arguments from a file and `--args -` from stdin, for arguments too large for a command line.
// With --unique-key, a task already holding the key is not added to: its id is printed (the
// same line as for a new task) and a note goes to stderr.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/cli_support.hpp"
#include "cli/commands.hpp"
#include "runq/app.hpp"
#include "runq/error.hpp"

namespace runq::internal {
namespace {

constexpr std::string_view kCmd = "enqueue";

// The text of --args: the value itself, the file named after '@', or stdin for "-".
Result<std::string> args_text(const std::string& value, std::string& source) {
  if (value == "-") {
    source = "--args - (stdin)";
    std::ostringstream in;
    in << std::cin.rdbuf();
    return in.str();
  }
  if (!value.starts_with("@")) {
    source = "--args";
    return value;
  }
  const std::string path = value.substr(1);
  source = "--args " + value;
  if (path.empty()) return invalid_argument_error("--args @: give a file name, e.g. @args.json");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return invalid_argument_error("--args @" + path + ": cannot read '" + path +
                                  "': " + std::strerror(errno));
  }
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Result<nlohmann::json> parse_args_json(const std::string& value) {
  std::string source;
  RUNQ_ASSIGN_OR_RETURN(std::string text, args_text(value, source));
  nlohmann::json args = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (args.is_discarded()) {
    // A file can be large: quote only its start.
    std::string shown = text.size() > 80 ? text.substr(0, 80) + "..." : text;
    for (char& c : shown)
      if (c == '\n' || c == '\r') c = ' ';
    return invalid_argument_error(source + ": invalid JSON '" + shown +
                                  "': give a JSON array, e.g. --args '[2, 3]'");
  }
  if (!args.is_array()) {
    return invalid_argument_error(source +
                                  ": expected a JSON array of arguments, e.g. '[2, 3]', got " +
                                  std::string(args.type_name()));
  }
  return args;
}

Result<EnqueueOptions> build_options(const EnqueueArgs& a) {
  EnqueueOptions opts;
  if (!a.queue.empty()) opts.queue(a.queue);
  if (a.priority >= 0) opts.priority(a.priority);
  if (!a.id.empty()) opts.id(a.id);
  if (!a.countdown.empty()) {
    RUNQ_ASSIGN_OR_RETURN(Millis ms, parse_duration_option("--countdown", a.countdown));
    opts.countdown(std::chrono::milliseconds(ms));
  }
  if (!a.eta.empty()) {
    RUNQ_ASSIGN_OR_RETURN(Millis t, parse_iso_time(a.eta));
    opts.eta(std::chrono::system_clock::time_point(std::chrono::milliseconds(t)));
  }
  if (!a.expires.empty()) {
    RUNQ_ASSIGN_OR_RETURN(Millis ms, parse_duration_option("--expires", a.expires));
    opts.expires(std::chrono::milliseconds(ms));
  }
  if (a.unique_key) opts.unique_key(*a.unique_key);
  if (!a.unique_for.empty()) {
    RUNQ_ASSIGN_OR_RETURN(Millis ms, parse_duration_option("--unique-for", a.unique_for));
    opts.unique_for(std::chrono::milliseconds(ms));
  }
  if (!a.unique_until.empty()) opts.unique_until(a.unique_until == "start" ? kStart : kFinish);
  return opts;
}

}  // namespace

int run_enqueue_cmd(App& app, const EnqueueArgs& a) {
  Result<nlohmann::json> args = parse_args_json(a.args_json);
  if (!args.ok()) return fail(kCmd, args.status());
  Result<EnqueueOptions> opts = build_options(a);
  if (!opts.ok()) return fail(kCmd, opts.status());
  Result<std::shared_ptr<Store>> store = open_app_store(app);
  if (!store.ok()) return fail(kCmd, store.status());
  try {
    AsyncResult<nlohmann::json> r = app.send(a.name, *args, *opts);
    std::printf("%s\n", r.id().c_str());
    if (!r.added()) {
      std::fprintf(stderr, "%s: not added: task %s holds its unique key\n",
                   std::string(kCmd).c_str(), r.id().c_str());
    }
  } catch (const QueueFull& e) {
    return fail(kCmd, e.status().message(), kExitQueueFull);
  } catch (const Error& e) {
    return fail(kCmd, e.status());
  }
  return kExitOk;
}

}  // namespace runq::internal
