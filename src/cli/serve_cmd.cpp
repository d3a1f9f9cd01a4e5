// `serve`: the HTTP API (runq/server.hpp) until SIGINT/SIGTERM; also App::serve.
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>

#include "cli/cli_support.hpp"
#include "cli/commands.hpp"
#include "cli/signal_waiter.hpp"
#include "runq/app.hpp"
#include "runq/server.hpp"

namespace runq {
namespace {

constexpr std::string_view kCmd = "serve";

// The token in `file` (surrounding whitespace dropped), else the environment variable `env`.
Result<std::string> read_token(const std::string& file, const char* env, const char* option) {
  if (file.empty()) {
    const char* v = std::getenv(env);
    return std::string(v ? v : "");
  }
  std::ifstream in(file);
  if (!in) return invalid_argument_error(std::string(option) + ": cannot read '" + file + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string t = ss.str();
  t.erase(0, t.find_first_not_of(" \t\r\n"));
  t.erase(t.find_last_not_of(" \t\r\n") + 1);
  if (t.size() < 16) {
    return invalid_argument_error(std::string(option) + ": the token in '" + file +
                                  "' is shorter than 16 characters; use a long random one, e.g. "
                                  "`openssl rand -hex 32`");
  }
  return t;
}

}  // namespace

int App::serve(const ServeOptions& options) {
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  internal::SignalWaiter signals(std::string(kCmd), [&] {
    std::lock_guard lock(mu);
    stop = true;
    cv.notify_all();
  });
  Result<std::unique_ptr<HttpServer>> server = HttpServer::start(*this, options);
  if (!server.ok()) return internal::fail(kCmd, server.status());
  std::printf(
      "runq serve: %s/api/v1 on %s (%s)\n", (*server)->url().c_str(),
      internal::display_url(store_url()).c_str(),
      options.admin_token.empty() && options.read_token.empty() ? "no token" : "token required");
  std::fflush(stdout);
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return stop; });
  lock.unlock();
  (*server)->stop();
  return internal::kExitOk;
}

namespace internal {

int run_serve_cmd(App& app, const ServeArgs& a) {
  ServeOptions o;
  o.bind = a.bind;
  o.port = a.port;
  o.threads = a.threads;
  o.tls_cert = a.tls_cert;
  o.tls_key = a.tls_key;
  o.cors_origins = a.cors_origins;
  Result<std::string> admin = read_token(a.token_file, "RUNQ_API_TOKEN", "--token-file");
  if (!admin.ok()) return fail(kCmd, admin.status());
  Result<std::string> read =
      read_token(a.read_token_file, "RUNQ_API_READ_TOKEN", "--read-token-file");
  if (!read.ok()) return fail(kCmd, read.status());
  o.admin_token = *admin;
  o.read_token = *read;
  char* end = nullptr;
  unsigned long long body = std::strtoull(a.max_body.c_str(), &end, 10);
  if (a.max_body.empty() || *end != '\0' || body < 1024 || body > (1ULL << 30)) {
    return fail(kCmd,
                "--max-body: expected bytes from 1024 to 1073741824, got '" + a.max_body + "'",
                kExitUsage);
  }
  o.max_body_bytes = static_cast<std::size_t>(body);
  return app.serve(o);
}

}  // namespace internal
}  // namespace runq
