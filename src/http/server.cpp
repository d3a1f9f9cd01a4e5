// HttpServer: maps the route table (routes.hpp) onto cpp-httplib. This is the one file that
// includes the HTTP library: the token check, limits, CORS, error bodies and TLS live here;
// the handlers see only HttpRequest / HttpResponse.
#include <httplib.h>

#include <arpa/inet.h>

#include <regex>
#include <thread>

#include "http/events.hpp"
#include "http/internal/bounded_pool.hpp"
#include "http/json_io.hpp"
#include "http/routes.hpp"
#include "runq/app.hpp"
#include "runq/error.hpp"
#include "runq/server.hpp"

namespace runq {
namespace {

using internal::HttpRequest;
using internal::HttpResponse;
using internal::Route;
using internal::Scope;

// Connections accepted but not yet served, per serving thread.
constexpr std::size_t kQueuedPerThread = 8;

class PoolQueue : public httplib::TaskQueue {
 public:
  PoolQueue(int threads) : pool_(threads, kQueuedPerThread * static_cast<std::size_t>(threads)) {}
  void enqueue(std::function<void()> fn) override { pool_.enqueue(std::move(fn)); }
  void shutdown() override { pool_.shutdown(); }

 private:
  internal::BoundedPool pool_;
};

bool is_loopback(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

// Equal strings in time that depends only on their lengths, never on where they differ.
bool same_token(std::string_view given, std::string_view expected) {
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < given.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i]) ^
            static_cast<unsigned char>(expected.empty() ? 0 : expected[i % expected.size()]);
  }
  return diff == 0 && !expected.empty();
}

Status check_options(const ServeOptions& o) {
  if (o.port < 0 || o.port > 65535) {
    return invalid_argument_error("port " + std::to_string(o.port) + " is outside 0..65535");
  }
  if (o.threads < 1 || o.threads > 1024) {
    return invalid_argument_error("threads must be 1..1024, got " + std::to_string(o.threads));
  }
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    return invalid_argument_error(
        "TLS needs both a certificate and its key (--tls-cert, --tls-key)");
  }
  if (!is_loopback(o.bind) && o.admin_token.empty() && o.read_token.empty()) {
    return invalid_argument_error(
        "refusing to serve on '" + o.bind +
        "' without a token: anyone who can reach that address could enqueue and purge tasks. "
        "Give a token (--token-file FILE or RUNQ_API_TOKEN), or bind to 127.0.0.1 and put a "
        "reverse proxy in front (docs/http-api.md)");
  }
  return Status();
}

// "/api/v1/tasks/{id}" -> "/api/v1/tasks/([^/]+)" and the parameter names in order.
std::string to_regex(const std::string& pattern, std::vector<std::string>* names) {
  static const std::regex param(R"(\{([a-z_]+)\})");
  std::string out;
  auto it = std::sregex_iterator(pattern.begin(), pattern.end(), param);
  std::size_t last = 0;
  for (; it != std::sregex_iterator(); ++it) {
    out += pattern.substr(last, static_cast<std::size_t>(it->position()) - last);
    out += "([^/]+)";
    names->push_back((*it)[1].str());
    last = static_cast<std::size_t>(it->position() + it->length());
  }
  return out + pattern.substr(last);
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(App& app, const ServeOptions& o) : ctx_{app, o} {}

  ~Impl() { stop(); }

  Status start() {
    const ServeOptions& o = ctx_.options;
    if (o.tls_cert.empty()) {
      server_ = std::make_unique<httplib::Server>();
    } else {
      auto tls = std::make_unique<httplib::SSLServer>(o.tls_cert.c_str(), o.tls_key.c_str());
      if (!tls->is_valid()) {
        return invalid_argument_error("cannot use the TLS certificate '" + o.tls_cert +
                                      "' with key '" + o.tls_key +
                                      "': unreadable, not PEM, or they do not match");
      }
      server_ = std::move(tls);
    }
    configure();
    events_ = std::make_unique<internal::EventHub>(ctx_);
    ctx_.events = events_.get();
    for (Route& r : internal::all_routes(ctx_)) add(std::move(r));
    for (Route& r : internal::dashboard_routes()) add(std::move(r));
    port_ = o.port == 0 ? server_->bind_to_any_port(o.bind) : o.port;
    if (port_ <= 0 || (o.port != 0 && !server_->bind_to_port(o.bind, o.port))) {
      return unavailable_error("cannot listen on " + o.bind + ":" + std::to_string(o.port) +
                               ": address in use, not local, or not permitted");
    }
    events_->start();
    // Connections made before the accept loop runs wait in the backlog of the bound socket.
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    return Status();
  }

  void stop() {
    if (events_) events_->stop();  // ends the event streams, which hold serving threads
    if (thread_.joinable()) {
      server_->stop();
      thread_.join();
    }
  }

  int port() const { return port_; }
  std::string url() const {
    return std::string(ctx_.options.tls_cert.empty() ? "http" : "https") + "://" +
           ctx_.options.bind + ":" + std::to_string(port_);
  }

 private:
  void configure() {
    const ServeOptions& o = ctx_.options;
    int threads = o.threads;
    server_->new_task_queue = [threads] { return new PoolQueue(threads); };
    server_->set_payload_max_length(o.max_body_bytes);
    server_->set_read_timeout(
        std::chrono::duration_cast<std::chrono::microseconds>(o.read_timeout));
    server_->set_write_timeout(std::chrono::seconds(5));
    server_->set_keep_alive_timeout(2);
    server_->set_keep_alive_max_count(1000);
    server_->set_tcp_nodelay(true);
    server_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      std::string code = res.status == 404   ? "not_found"
                         : res.status == 413 ? "too_large"
                         : res.status == 400 ? "bad_request"
                                             : "http_" + std::to_string(res.status);
      std::string msg =
          res.status == 404 ? "no route " + req.method + " " + req.path
          : res.status == 413
              ? "the request body is larger than the limit (--max-body, or 8 KiB for a "
                "form-encoded body: send Content-Type: application/json)"
              : "the request could not be read (HTTP " + std::to_string(res.status) + ")";
      write(res, internal::error_response(res.status, code, msg));
    });
    server_->set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
          write(res, internal::error_response(500, "internal", "the request failed unexpectedly"));
        });
    server_->Options(".*", [this](const httplib::Request& req, httplib::Response& res) {
      add_cors(req, res);
      res.status = cors_origin(req).empty() ? 404 : 204;
    });
  }

  static void write(httplib::Response& res, const HttpResponse& r) {
    res.status = r.status;
    for (const auto& [name, value] : r.headers) res.set_header(name, value);
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_content(r.body, r.content_type.c_str());
  }

  // The response, or 304 without a body when the client already holds this version (its
  // If-None-Match names the response's ETag).
  static void write_cached(const httplib::Request& req, httplib::Response& res,
                           const HttpResponse& r) {
    for (const auto& [name, value] : r.headers) {
      if (name == "ETag" && r.status == 200 && req.get_header_value("If-None-Match") == value) {
        res.status = 304;
        for (const auto& [n, v] : r.headers) res.set_header(n, v);
        return;
      }
    }
    write(res, r);
  }

  std::string cors_origin(const httplib::Request& req) const {
    std::string origin = req.get_header_value("Origin");
    for (const std::string& allowed : ctx_.options.cors_origins) {
      if (allowed == "*" || (allowed == origin && !origin.empty())) return allowed;
    }
    return "";
  }

  void add_cors(const httplib::Request& req, httplib::Response& res) const {
    std::string allowed = cors_origin(req);
    if (allowed.empty()) return;
    res.set_header("Access-Control-Allow-Origin",
                   allowed == "*" ? "*" : req.get_header_value("Origin"));
    res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
    res.set_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
    res.set_header("Vary", "Origin");
  }

  // What the request's token allows, or an error response (401) in `denied`.
  Scope scope_of(const httplib::Request& req, HttpResponse* denied) const {
    const ServeOptions& o = ctx_.options;
    if (o.admin_token.empty() && o.read_token.empty()) return Scope::kAdmin;
    std::string auth = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.compare(0, kBearer.size(), kBearer) != 0) {
      *denied = internal::error_response(
          401, "unauthorized", "this server needs a token: send 'Authorization: Bearer <token>'");
      return Scope::kPublic;
    }
    std::string_view token = std::string_view(auth).substr(kBearer.size());
    if (same_token(token, o.admin_token)) return Scope::kAdmin;
    if (same_token(token, o.read_token)) return Scope::kRead;
    *denied = internal::error_response(401, "unauthorized", "the token is not valid here");
    return Scope::kPublic;
  }

  void add(Route route) {
    auto names = std::make_shared<std::vector<std::string>>();
    std::string regex = to_regex(route.pattern, names.get());
    auto r = std::make_shared<Route>(std::move(route));
    httplib::Server::Handler h = [this, r, names](const httplib::Request& req,
                                                  httplib::Response& res) {
      add_cors(req, res);
      HttpRequest in;
      HttpResponse denied;
      in.scope = r->scope == Scope::kPublic ? Scope::kAdmin : scope_of(req, &denied);
      if (in.scope == Scope::kPublic) return write(res, denied);
      if (r->scope == Scope::kAdmin && in.scope != Scope::kAdmin) {
        return write(
            res, internal::error_response(403, "forbidden", "this route needs the admin token"));
      }
      in.method = req.method;
      in.path = req.path;
      for (std::size_t i = 0; i < names->size() && i + 1 < req.matches.size(); ++i) {
        in.params[(*names)[i]] = req.matches[i + 1].str();
      }
      for (const auto& [k, v] : req.params) in.query.emplace(k, v);
      in.body = req.body;
      HttpResponse out = r->handler(in);
      if (!out.stream) return write_cached(req, res, out);
      res.status = out.status;
      res.set_header("Cache-Control", "no-cache");
      auto stream = std::move(out.stream);
      res.set_chunked_content_provider(
          out.content_type, [stream](std::size_t, httplib::DataSink& sink) {
            stream([&sink](std::string_view chunk) {
              return sink.is_writable() && sink.write(chunk.data(), chunk.size());
            });
            sink.done();
            return true;
          });
    };
    if (r->method == "GET")
      server_->Get(regex, std::move(h));
    else if (r->method == "POST")
      server_->Post(regex, std::move(h));
    else if (r->method == "DELETE")
      server_->Delete(regex, std::move(h));
  }

  internal::ApiContext ctx_;
  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<internal::EventHub> events_;
  std::thread thread_;
  int port_ = 0;
};

Result<std::unique_ptr<HttpServer>> HttpServer::start(App& app, const ServeOptions& options) {
  if (Status s = check_options(options); !s.ok()) return s.with_context("runq serve");
  auto impl = std::make_unique<Impl>(app, options);
  if (Status s = impl->start(); !s.ok()) return s.with_context("runq serve");
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;
void HttpServer::stop() { impl_->stop(); }
int HttpServer::port() const { return impl_->port(); }
std::string HttpServer::url() const { return impl_->url(); }

namespace internal {

Result<std::shared_ptr<Store>> ApiContext::store() {
  try {
    return app.store();
  } catch (const Error& e) {
    return unavailable_error(std::string("opening the store: ") + e.what());
  }
}

std::vector<Route> all_routes(ApiContext& ctx) {
  std::vector<Route> all = task_routes(ctx);
  for (auto* f : {admin_routes, observe_routes}) {
    for (Route& r : f(ctx)) all.push_back(std::move(r));
  }
  return all;
}

}  // namespace internal
}  // namespace runq
