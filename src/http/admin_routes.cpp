// Admin and inspection routes: queues (stats, purge, pause/resume, limit), workers, schedules
// (list, pause/resume), dead letters (list, retry, purge).
#include <cstdlib>

#include "http/activity.hpp"
#include "http/json_io.hpp"
#include "http/routes.hpp"
#include "runq/app.hpp"

namespace runq::internal {
namespace {

Millis now_of(ApiContext& ctx) { return ctx.app.clock().now_ms(); }

// Runs `fn(Store&)` on the store, or answers its open error.
template <typename Fn>
HttpResponse with_store(ApiContext& ctx, Fn&& fn) {
  Result<std::shared_ptr<Store>> store = ctx.store();
  if (!store.ok()) return status_response(store.status());
  return fn(**store);
}

HttpResponse queues(ApiContext& ctx) {
  return with_store(ctx, [&](Store& s) {
    Result<StoreStats> st = s.stats(now_of(ctx));
    if (!st.ok()) return status_response(st.status());
    // Flow controls: a store without them has no paused or bounded queue.
    Result<std::vector<QueueControl>> controls = s.queue_controls();
    if (!controls.ok() && !is_failed_precondition(controls.status())) {
      return status_response(controls.status());
    }
    auto control_of = [&](const std::string& queue) {
      QueueControl none;
      if (!controls.ok()) return none;
      for (const QueueControl& c : *controls) {
        if (c.queue == queue) return c;
      }
      return none;
    };
    nlohmann::json out = nlohmann::json::array();
    for (const QueueStats& q : st->queues) {
      const QueueControl c = control_of(q.queue);
      out.push_back({{"name", q.queue},
                     {"pending", q.pending},
                     {"scheduled", q.scheduled},
                     {"running", q.running},
                     {"dead", q.dead},
                     {"paused", c.paused},
                     {"max_length", c.max_length}});
    }
    return json_response(200, {{"queues", out},
                               {"completed", st->completed},
                               {"failed", st->failed},
                               {"duplicates", st->duplicates}});
  });
}

HttpResponse purge_queue(ApiContext& ctx, const HttpRequest& req) {
  return with_store(ctx, [&](Store& s) {
    Result<std::int64_t> n = s.purge_queue(req.params.at("queue"));
    if (!n.ok()) return status_response(n.status());
    return json_response(200, {{"purged", *n}});
  });
}

// Flow control: the store's FailedPrecondition (no queue controls) is 501.
HttpResponse flow_status(const Status& s, const nlohmann::json& ok) {
  if (is_failed_precondition(s)) return error_response(501, "not_implemented", s.message());
  if (!s.ok()) return status_response(s);
  return json_response(200, ok);
}

HttpResponse pause_queue(ApiContext& ctx, const HttpRequest& req, bool paused) {
  const std::string& q = req.params.at("queue");
  Status s = paused ? ctx.app.pause_queue(q) : ctx.app.resume_queue(q);
  return flow_status(s, {{"queue", q}, {"paused", paused}});
}

// Body: {"max_length": N}, N >= 0 (0 removes the bound).
HttpResponse limit_queue(ApiContext& ctx, const HttpRequest& req) {
  const std::string& q = req.params.at("queue");
  Result<nlohmann::json> body = parse_object(req.body);
  if (!body.ok()) return status_response(body.status());
  if (Status f = check_fields(*body, {"max_length"}, "limiting a queue"); !f.ok()) {
    return status_response(f);
  }
  auto it = body->find("max_length");
  if (it == body->end() || !it->is_number_integer() || it->get<std::int64_t>() < 0) {
    return error_response(
        400, "invalid_argument",
        "limiting queue '" + q + "': 'max_length' must be an integer >= 0 (0 removes the bound)");
  }
  const std::int64_t n = it->get<std::int64_t>();
  return flow_status(ctx.app.limit_queue(q, n), {{"queue", q}, {"max_length", n}});
}

nlohmann::json running_json(const std::vector<RunningTask>& running) {
  nlohmann::json out = nlohmann::json::array();
  for (const RunningTask& r : running) {
    out.push_back({{"id", r.id},
                   {"task", r.task},
                   {"worker", r.worker},
                   {"started", iso_time_json(r.started)}});
  }
  return out;
}

HttpResponse workers(ApiContext& ctx) {
  return with_store(ctx, [&](Store& s) {
    Result<StoreStats> st = s.stats(now_of(ctx));
    if (!st.ok()) return status_response(st.status());
    nlohmann::json out = nlohmann::json::array();
    for (const WorkerInfo& w : st->workers) {
      out.push_back({{"id", w.id},
                     {"host", w.host},
                     {"pid", w.pid},
                     {"queues", w.queues},
                     {"concurrency", w.concurrency},
                     {"running", w.running},
                     {"processed", w.processed},
                     {"failed", w.failed},
                     {"started", iso_time_json(w.started)},
                     {"last_seen", iso_time_json(w.last_seen)},
                     {"expires", iso_time_json(w.expires)},
                     {"tasks", running_json(running_tasks(w))}});
    }
    return json_response(200, {{"workers", out}});
  });
}

// Throughput and queue-wait / run-time percentiles per minute over the last hour, and per task
// name, from every alive worker's heartbeat (http/activity.hpp).
HttpResponse activity(ApiContext& ctx) {
  return with_store(ctx, [&](Store& s) {
    Result<StoreStats> st = s.stats(now_of(ctx));
    if (!st.ok()) return status_response(st.status());
    ActivitySummary summary = summarize_activity(st->workers);
    nlohmann::json out = activity_json(summary, now_of(ctx));
    out["running"] = running_json(summary.running);
    return json_response(200, out);
  });
}

HttpResponse schedules(ApiContext& ctx) {
  return with_store(ctx, [&](Store& s) {
    Result<std::vector<ScheduleState>> list = s.list_schedules();
    if (!list.ok()) return status_response(list.status());
    nlohmann::json out = nlohmann::json::array();
    for (const ScheduleState& sc : *list) {
      nlohmann::json info = nlohmann::json::parse(sc.info, nullptr, false);
      out.push_back({{"name", sc.name},
                     {"paused", sc.paused},
                     {"last_tick", iso_time_json(sc.last_tick)},
                     {"info", info.is_discarded() ? nlohmann::json(nullptr) : info}});
    }
    return json_response(200, {{"schedules", out}});
  });
}

HttpResponse pause_schedule(ApiContext& ctx, const HttpRequest& req, bool paused) {
  return with_store(ctx, [&](Store& s) {
    Status st = s.set_schedule_paused(req.params.at("name"), paused);
    if (!st.ok()) return status_response(st);
    return json_response(200, {{"name", req.params.at("name")}, {"paused", paused}});
  });
}

HttpResponse dead_list(ApiContext& ctx, const HttpRequest& req) {
  std::size_t limit = 100;
  if (auto it = req.query.find("limit"); it != req.query.end()) {
    char* end = nullptr;
    unsigned long v = std::strtoul(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0' || v < 1 || v > 10'000) {
      return error_response(400, "invalid_argument", "'limit' must be 1..10000");
    }
    limit = v;
  }
  return with_store(ctx, [&](Store& s) {
    Result<std::vector<DeadTask>> dead = s.list_dead(limit);
    if (!dead.ok()) return status_response(dead.status());
    nlohmann::json out = nlohmann::json::array();
    for (const DeadTask& d : *dead) {
      nlohmann::json body = nlohmann::json::parse(d.body, nullptr, false);
      out.push_back({{"id", d.id},
                     {"queue", d.queue},
                     {"reason", d.reason},
                     {"died_at", iso_time_json(d.died_at)},
                     {"task", body.is_object() ? body.value("task", "") : ""}});
    }
    return json_response(200, {{"dead", out}});
  });
}

// {"ids": [...]} retries those; {"all": true} every dead task.
HttpResponse dead_retry(ApiContext& ctx, const HttpRequest& req) {
  Result<nlohmann::json> body = parse_object(req.body);
  if (!body.ok()) return status_response(body.status());
  if (Status f = check_fields(*body, {"ids", "all"}, "retrying dead tasks"); !f.ok()) {
    return status_response(f);
  }
  std::vector<std::string> ids;
  bool all = body->value("all", false) == true;
  if (auto it = body->find("ids"); it != body->end()) {
    if (!it->is_array()) return error_response(400, "invalid_argument", "'ids' must be an array");
    for (const auto& id : *it) {
      if (!id.is_string() || id.get<std::string>().empty()) {
        return error_response(400, "invalid_argument", "'ids' must hold non-empty strings");
      }
      ids.push_back(id.get<std::string>());
    }
  }
  if (all == !ids.empty()) {
    return error_response(400, "invalid_argument",
                          "retrying dead tasks: give either 'ids' (non-empty) or \"all\": true");
  }
  return with_store(ctx, [&](Store& s) {
    Result<std::int64_t> n = s.retry_dead(ids, now_of(ctx));
    if (!n.ok()) return status_response(n.status());
    return json_response(200, {{"retried", *n}});
  });
}

HttpResponse dead_purge(ApiContext& ctx) {
  return with_store(ctx, [&](Store& s) {
    Result<std::int64_t> n = s.purge_dead();
    if (!n.ok()) return status_response(n.status());
    return json_response(200, {{"purged", *n}});
  });
}

}  // namespace

std::vector<Route> admin_routes(ApiContext& ctx) {
  ApiContext* c = &ctx;
  return {
      {"GET", "/api/v1/queues", Scope::kRead, [c](const auto&) { return queues(*c); }},
      {"POST", "/api/v1/queues/{queue}/purge", Scope::kAdmin,
       [c](const auto& r) { return purge_queue(*c, r); }},
      {"POST", "/api/v1/queues/{queue}/pause", Scope::kAdmin,
       [c](const auto& r) { return pause_queue(*c, r, true); }},
      {"POST", "/api/v1/queues/{queue}/resume", Scope::kAdmin,
       [c](const auto& r) { return pause_queue(*c, r, false); }},
      {"POST", "/api/v1/queues/{queue}/limit", Scope::kAdmin,
       [c](const auto& r) { return limit_queue(*c, r); }},
      {"GET", "/api/v1/workers", Scope::kRead, [c](const auto&) { return workers(*c); }},
      {"GET", "/api/v1/activity", Scope::kRead, [c](const auto&) { return activity(*c); }},
      {"GET", "/api/v1/schedules", Scope::kRead, [c](const auto&) { return schedules(*c); }},
      {"POST", "/api/v1/schedules/{name}/pause", Scope::kAdmin,
       [c](const auto& r) { return pause_schedule(*c, r, true); }},
      {"POST", "/api/v1/schedules/{name}/resume", Scope::kAdmin,
       [c](const auto& r) { return pause_schedule(*c, r, false); }},
      {"GET", "/api/v1/dead", Scope::kRead, [c](const auto& r) { return dead_list(*c, r); }},
      {"POST", "/api/v1/dead/retry", Scope::kAdmin,
       [c](const auto& r) { return dead_retry(*c, r); }},
      {"DELETE", "/api/v1/dead", Scope::kAdmin, [c](const auto&) { return dead_purge(*c); }},
  };
}

}  // namespace runq::internal
