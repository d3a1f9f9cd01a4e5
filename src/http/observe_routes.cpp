// /healthz, /readyz, /metrics (Prometheus text format), /api/v1/events (SSE) and
// /api/v1/auth (what the caller's token allows).
#include "http/events.hpp"
#include "http/json_io.hpp"
#include "http/metrics.hpp"
#include "http/routes.hpp"
#include "runq/app.hpp"

namespace runq::internal {
namespace {

HttpResponse healthz() { return json_response(200, {{"status", "ok"}}); }

// Reachable = a cheap read by id answers (NotFound is an answer).
HttpResponse readyz(ApiContext& ctx) {
  Result<std::shared_ptr<Store>> store = ctx.store();
  if (!store.ok()) return status_response(store.status());
  Result<TaskInfo> probe = (*store)->get_task("runq-readyz-probe", ctx.app.clock().now_ms());
  if (!probe.ok() && !is_not_found(probe.status())) return status_response(probe.status());
  return json_response(200, {{"status", "ready"}});
}

HttpResponse metrics(ApiContext& ctx) {
  Result<std::shared_ptr<Store>> store = ctx.store();
  if (!store.ok()) return status_response(store.status());
  Result<std::string> text = render_metrics(**store, ctx.app.clock().now_ms());
  if (!text.ok()) return status_response(text.status());
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = std::move(text).value();
  return r;
}

// What the caller's token allows, so a client (the dashboard) shows only what it may do.
HttpResponse auth(const ApiContext& ctx, const HttpRequest& req) {
  bool tokens = !ctx.options.admin_token.empty() || !ctx.options.read_token.empty();
  return json_response(
      200, {{"scope", req.scope == Scope::kAdmin ? "admin" : "read"}, {"tokens_required", tokens}});
}

// Holds one of the threads / 4 stream slots while a client is connected.
HttpResponse events(ApiContext& ctx) {
  int max = std::max(1, ctx.options.threads / 4);
  if (ctx.streams.fetch_add(1) >= max) {
    ctx.streams.fetch_sub(1);
    return error_response(
        503, "too_many_streams",
        "at most " + std::to_string(max) + " event streams at once on this server (--threads / 4)");
  }
  HttpResponse r;
  r.content_type = "text/event-stream";
  ApiContext* c = &ctx;
  // Frees the slot when the response is dropped, whether or not the stream ever ran.
  std::shared_ptr<void> slot(nullptr, [c](void*) { c->streams.fetch_sub(1); });
  r.stream = [c, slot](const ChunkSink& write) {
    std::uint64_t id = c->events->subscribe();
    bool open = write(": runq events\n\n");
    while (open) {
      std::optional<std::string> frame = c->events->next(id, 15'000);
      if (!frame) break;
      // An empty frame is a keep-alive comment, which also detects a client that left.
      open = write(frame->empty() ? std::string_view(":\n\n") : std::string_view(*frame));
    }
    c->events->unsubscribe(id);
  };
  return r;
}

}  // namespace

std::vector<Route> observe_routes(ApiContext& ctx) {
  ApiContext* c = &ctx;
  return {
      {"GET", "/healthz", Scope::kPublic, [](const auto&) { return healthz(); }},
      {"GET", "/readyz", Scope::kPublic, [c](const auto&) { return readyz(*c); }},
      {"GET", "/metrics", Scope::kRead, [c](const auto&) { return metrics(*c); }},
      {"GET", "/api/v1/events", Scope::kRead, [c](const auto&) { return events(*c); }},
      {"GET", "/api/v1/auth", Scope::kRead, [c](const auto& r) { return auth(*c, r); }},
  };
}

}  // namespace runq::internal
