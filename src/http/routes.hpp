// The HTTP API as a table of routes: each a method, a path pattern, the token scope it needs
// and a thin handler that parses the request, calls the library and renders JSON. The server
// (server.cpp, the only file that includes the HTTP library) maps the table onto the wire;
// the OpenAPI test reads the same table, so docs/openapi.yaml cannot drift from what is
// served.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runq/server.hpp"
#include "runq/status.hpp"
#include "runq/store.hpp"

namespace runq {
class App;
}

namespace runq::internal {

class EventHub;

// What a token allows. Without configured tokens every request is kAdmin.
enum class Scope { kPublic, kRead, kAdmin };

struct HttpRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> params;  // from the pattern's {name} segments
  std::map<std::string, std::string> query;   // the first value of each query parameter
  std::string body;
  Scope scope = Scope::kPublic;  // what the caller's token allows
};

// Writes one chunk of a streamed response; false once the client is gone.
using ChunkSink = std::function<bool(std::string_view)>;

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra headers (name, value), e.g. the dashboard's caching and Content-Security-Policy. An
  // "ETag" header makes the server answer 304 to a request whose If-None-Match equals it.
  std::vector<std::pair<std::string, std::string>> headers;
  // A streamed response (Server-Sent Events): called once on the serving thread; it writes
  // chunks until it returns or the sink reports the client gone. `body` is then unused.
  std::function<void(const ChunkSink&)> stream;
};

using Handler = std::function<HttpResponse(const HttpRequest&)>;

struct Route {
  std::string method;   // "GET", "POST", "DELETE"
  std::string pattern;  // "/api/v1/tasks/{id}": literal segments and {name} parameters
  Scope scope = Scope::kRead;
  Handler handler;
};

// What the handlers share. Lives as long as the server.
struct ApiContext {
  App& app;
  ServeOptions options;
  EventHub* events = nullptr;
  std::atomic<int> waiting{0};  // long polls in progress (bounded by options.threads / 2)
  std::atomic<int> streams{0};  // event streams in progress (options.threads / 4)

  // The app's store, opened on first use; Unavailable while it cannot be opened (a later
  // call tries again).
  Result<std::shared_ptr<Store>> store();
};

// The routes of each area, in the order they are matched.
std::vector<Route> task_routes(ApiContext& ctx);     // enqueue, batch, read, list, revoke
std::vector<Route> admin_routes(ApiContext& ctx);    // queues, workers, schedules, dead letters
std::vector<Route> observe_routes(ApiContext& ctx);  // healthz, readyz, metrics, events
// All of the above.
std::vector<Route> all_routes(ApiContext& ctx);
// The dashboard's static files (src/http/dashboard/, embedded at build time): "/" and
// "/assets/{file}", public (they hold no data; the page asks for a token and sends it with
// every API call). Not API routes, so not in all_routes() or docs/openapi.yaml.
std::vector<Route> dashboard_routes();

}  // namespace runq::internal
