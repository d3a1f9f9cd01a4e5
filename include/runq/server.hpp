// runq/server.hpp — `runq serve`: the HTTP API, the Prometheus metrics and the live event
// stream for one store, as a library object (`HttpServer`) that `runq serve`, `myapp serve`
// and `App::serve` run. docs/http-api.md describes every route; docs/openapi.yaml is the
// machine-readable form.
//
//   runq::ServeOptions opts;           // 127.0.0.1:8910, no token, no TLS
//   auto server = runq::HttpServer::start(app, opts);
//   if (!server.ok()) ...              // e.g. a public address without a token
//   (*server)->port();                 // the bound port (useful with port 0)
//   (*server)->stop();                 // or let the destructor stop it
//
// Security: the server binds to loopback unless told otherwise, and `start` refuses a
// non-loopback address when no token is configured. With tokens, every request except
// /healthz and /readyz needs `Authorization: Bearer <token>`: the read token or the admin
// token for reads, the admin token for changes (revoke, purge, pause, retry). Tokens are
// compared in constant time. Request bodies over `max_body_bytes` get 413; CORS headers are
// sent only for the origins in `cors_origins`. The API enqueues tasks by name only; nothing
// in a request is ever executed.
//
// Thread safety: `start` and `stop` from one thread; `port`, `url` from any. Requests are
// served by a bounded pool of `threads` threads; connections beyond what the pool and its
// queue hold wait in the kernel's accept backlog, never in an unbounded list.
//
// Errors: `start` returns InvalidArgument (bad options, e.g. a public address without a
// token, a TLS certificate without its key) or Unavailable (the address cannot be bound; the
// message names it). Nothing here throws.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "runq/status.hpp"

namespace runq {

class App;

// How `runq serve` runs. Defaults in brackets.
struct ServeOptions {
  // Address to listen on [127.0.0.1]. Anything but a loopback address needs a token.
  std::string bind = "127.0.0.1";
  // TCP port [8910]; 0 picks a free one (read it back with HttpServer::port()).
  int port = 8910;
  // Admin token: reads and changes. Empty = none. `runq serve` reads it from --token-file or
  // RUNQ_API_TOKEN.
  std::string admin_token;
  // Read-only token: GET routes and /metrics only. Empty = none (--read-token-file,
  // RUNQ_API_READ_TOKEN).
  std::string read_token;
  // Request-serving threads [8]. Long polls and event streams hold one each while they last,
  // so at most threads / 2 long polls and threads / 4 event streams run at once; more are
  // answered at once (long poll: the current state; stream: 503).
  int threads = 8;
  // Largest request body accepted [1 MiB, as the task payload limit]; larger ones get 413.
  std::size_t max_body_bytes = 1 << 20;
  // A connection idle or stalled mid-request this long is closed [5 s] (slow clients cannot
  // hold a thread).
  std::chrono::milliseconds read_timeout{5000};
  // Longest `?wait=` a GET /api/v1/tasks/{id} may ask for [30 s]; longer asks are cut to it.
  std::chrono::milliseconds max_wait{30000};
  // PEM certificate and key for HTTPS; both or neither [neither: plain HTTP].
  std::string tls_cert;
  std::string tls_key;
  // Origins allowed to call the API from a browser (CORS) [none: no CORS headers at all].
  // "*" allows any origin.
  std::vector<std::string> cors_origins;
};

class HttpServer {
 public:
  // Binds to `options.bind:options.port` and starts serving `app`'s store on background
  // threads. The App must outlive the server. Errors: see the file comment.
  static Result<std::unique_ptr<HttpServer>> start(App& app, const ServeOptions& options);

  // Stops accepting, closes every connection (event streams included) and joins the threads.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Stops serving; idempotent. Returns once every serving thread has ended.
  void stop();
  // The bound TCP port.
  int port() const;
  // "http://127.0.0.1:8910" (https when TLS is on).
  std::string url() const;

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace runq
