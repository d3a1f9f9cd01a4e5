// /api/v1/tasks: enqueue one, enqueue a batch (all or nothing), read one (with a long poll
// for its result), list with filters and a cursor, revoke.
#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "app/workflow_tree.hpp"
#include "core/message.hpp"
#include "http/json_io.hpp"
#include "http/routes.hpp"
#include "runq/app.hpp"
#include "runq/result.hpp"

namespace runq::internal {
namespace {

constexpr std::size_t kMaxBatch = 10'000;  // tasks per batch request (the body limit binds first)

// One enqueue request object (POST /tasks, and each item of POST /tasks/batch) as a TaskCall.
Result<TaskCall> parse_call(const nlohmann::json& j, const std::string& what) {
  Status fields = check_fields(
      j,
      {"name", "args", "queue", "priority", "countdown", "eta", "expires", "id", "unique_key",
       "unique_for", "unique_until", "rate_limit_key", "concurrency_key"},
      what);
  if (!fields.ok()) return fields;
  TaskCall c;
  auto name = j.find("name");
  if (name == j.end() || !name->is_string() || name->get<std::string>().empty()) {
    return invalid_argument_error(what +
                                  ": 'name' (the task name, a non-empty string) is required");
  }
  c.name = name->get<std::string>();
  if (auto a = j.find("args"); a != j.end()) {
    if (!a->is_array()) return invalid_argument_error(what + ": 'args' must be a JSON array");
    c.args_json = a->dump();
  }
  if (auto q = j.find("queue"); q != j.end()) {
    if (!q->is_string() || q->get<std::string>().empty()) {
      return invalid_argument_error(what + ": 'queue' must be a non-empty string");
    }
    c.options.queue(q->get<std::string>());
  }
  if (auto p = j.find("priority"); p != j.end()) {
    if (!p->is_number_integer() || p->get<long long>() < kMinPriority ||
        p->get<long long>() > kMaxPriority) {
      return invalid_argument_error(what + ": 'priority' must be an integer from 0 to 9");
    }
    c.options.priority(p->get<int>());
  }
  if (auto d = j.find("countdown"); d != j.end()) {
    Result<Millis> ms = parse_duration_field(*d, what + ": 'countdown'");
    if (!ms.ok()) return ms.status();
    c.options.countdown(std::chrono::milliseconds(*ms));
  }
  if (auto e = j.find("eta"); e != j.end()) {
    Result<Millis> t = parse_time_field(*e, what + ": 'eta'");
    if (!t.ok()) return t.status();
    c.options.eta(std::chrono::system_clock::time_point(std::chrono::milliseconds(*t)));
  }
  if (auto x = j.find("expires"); x != j.end()) {
    Result<Millis> ms = parse_duration_field(*x, what + ": 'expires'");
    if (!ms.ok()) return ms.status();
    c.options.expires(std::chrono::milliseconds(*ms));
  }
  if (auto i = j.find("id"); i != j.end()) {
    if (!i->is_string() || i->get<std::string>().empty() || i->get<std::string>().size() > 200) {
      return invalid_argument_error(what + ": 'id' must be a string of 1 to 200 characters");
    }
    c.options.id(i->get<std::string>());
  }
  if (auto k = j.find("unique_key"); k != j.end()) {
    if (!k->is_string() || k->get<std::string>().empty() ||
        k->get<std::string>().size() > kMaxUniqueKeyBytes) {
      return invalid_argument_error(what + ": 'unique_key' must be a string of 1 to " +
                                    std::to_string(kMaxUniqueKeyBytes) + " bytes");
    }
    c.options.unique_key(k->get<std::string>());
  }
  if (auto u = j.find("unique_for"); u != j.end()) {
    Result<Millis> ms = parse_duration_field(*u, what + ": 'unique_for'");
    if (!ms.ok()) return ms.status();
    c.options.unique_for(std::chrono::milliseconds(*ms));
  }
  if (auto u = j.find("unique_until"); u != j.end()) {
    if (!u->is_string() || (*u != "start" && *u != "finish")) {
      return invalid_argument_error(what + ": 'unique_until' must be \"start\" or \"finish\"");
    }
    c.options.unique_until(*u == "start" ? kStart : kFinish);
  }
  // Flow control: the keys of the task's rate limit and max_concurrency (its registration
  // gives the limits; build_task checks the keys).
  for (const char* field : {"rate_limit_key", "concurrency_key"}) {
    auto k = j.find(field);
    if (k == j.end()) continue;
    if (!k->is_string()) {
      return invalid_argument_error(what + ": '" + field + "' must be a string");
    }
    if (std::string_view(field) == "rate_limit_key") {
      c.options.rate_limit_key(k->get<std::string>());
    } else {
      c.options.concurrency_key(k->get<std::string>());
    }
  }
  return c;
}

// A binary that registered tasks knows the whole registry: it refuses names it does not have
// instead of letting a worker dead-letter them. `runq serve` registers none and accepts any.
Status check_known(App& app, const std::vector<TaskCall>& calls) {
  if (app.task_names().empty()) return Status();
  for (const TaskCall& c : calls) {
    if (!app.find_task(c.name)) {
      return invalid_argument_error("unknown task '" + c.name + "': this server knows " +
                                    std::to_string(app.task_names().size()) +
                                    " task names (GET /api/v1/tasks/names lists them)");
    }
  }
  return Status();
}

// The queue a call goes to: its own, else its registered task's, else the default.
const std::string& queue_of(App& app, const TaskCall& c) {
  static const TaskOptions kDefaults;
  if (c.options.queue()) return *c.options.queue();
  const TaskDefinition* def = app.find_task(c.name);
  return def ? def->options.queue() : kDefaults.queue();
}

// The bounded queue that left no room for `calls`, read back from the store after it refused
// them: among the batch's queues that have a bound, the first whose waiting tasks plus the
// batch's share exceed it (the stats are read only when several are bounded), else the first.
// None when no queue of the batch is bounded: then the store itself is out of space.
std::optional<QueueControl> refusing_queue(ApiContext& ctx, const std::vector<TaskCall>& calls) {
  Result<std::shared_ptr<Store>> store = ctx.store();
  if (!store.ok()) return std::nullopt;
  Result<std::vector<QueueControl>> controls = (*store)->queue_controls();
  if (!controls.ok()) return std::nullopt;
  std::map<std::string, std::int64_t, std::less<>> share;  // tasks of the batch per queue
  for (const TaskCall& c : calls) ++share[queue_of(ctx.app, c)];
  std::vector<QueueControl> bounded;
  for (const QueueControl& q : *controls) {
    if (q.max_length > 0 && share.contains(q.queue)) bounded.push_back(q);
  }
  if (bounded.size() <= 1) {
    return bounded.empty() ? std::nullopt : std::optional<QueueControl>(bounded.front());
  }
  Result<StoreStats> stats = (*store)->stats(ctx.app.clock().now_ms());
  if (!stats.ok()) return bounded.front();
  for (const QueueControl& b : bounded) {
    std::int64_t waiting = 0;  // a queue without tasks may be missing from the stats
    for (const QueueStats& s : stats->queues) {
      if (s.queue == b.queue) waiting = s.pending + s.scheduled;
    }
    if (waiting + share[b.queue] > b.max_length) return b;
  }
  return bounded.front();
}

// An enqueue refused for lack of room: 429 queue_full naming the queue and its bound, or 503
// store_full when the store is out of space; both with Retry-After. Nothing was enqueued.
HttpResponse no_room_response(ApiContext& ctx, const std::vector<TaskCall>& calls,
                              const Status& status) {
  std::optional<QueueControl> full = refusing_queue(ctx, calls);
  if (!full) {
    HttpResponse r = error_response(503, "store_full", status.message());
    r.headers.emplace_back("Retry-After", std::to_string(kRetryAfterStoreFullSeconds));
    return r;
  }
  HttpResponse r = json_response(429, {{"error",
                                        {{"code", "queue_full"},
                                         {"message", status.message()},
                                         {"queue", full->queue},
                                         {"limit", full->max_length}}}});
  r.headers.emplace_back("Retry-After", std::to_string(kRetryAfterFullSeconds));
  return r;
}

// Enqueues `calls` all or nothing. Unique jobs: a call whose key another task holds added
// nothing ("added": false, that task's id); a single such call answers 200 instead of 201.
// No room in a bounded queue (or the store): 429 / 503 (no_room_response).
HttpResponse enqueue(ApiContext& ctx, const std::vector<TaskCall>& calls, bool batch) {
  if (Status known = check_known(ctx.app, calls); !known.ok()) return status_response(known);
  Result<std::vector<Enqueued>> done = ctx.app.enqueue_calls(calls);
  if (!done.ok()) {
    return is_resource_exhausted(done.status()) ? no_room_response(ctx, calls, done.status())
                                                : status_response(done.status());
  }
  if (!batch) {
    const Enqueued& e = done->front();
    return json_response(e.added ? 201 : 200, {{"id", e.id}, {"added", e.added}});
  }
  std::vector<std::string> ids;
  std::vector<bool> added;
  for (const Enqueued& e : *done) {
    ids.push_back(e.id);
    added.push_back(e.added);
  }
  return json_response(201, {{"ids", ids}, {"count", ids.size()}, {"added", added}});
}

HttpResponse post_task(ApiContext& ctx, const HttpRequest& req) {
  Result<nlohmann::json> body = parse_object(req.body);
  if (!body.ok()) return status_response(body.status());
  Result<TaskCall> call = parse_call(*body, "task");
  if (!call.ok()) return status_response(call.status());
  return enqueue(ctx, {std::move(call).value()}, false);
}

HttpResponse post_batch(ApiContext& ctx, const HttpRequest& req) {
  Result<nlohmann::json> body = parse_object(req.body);
  if (!body.ok()) return status_response(body.status());
  if (Status f = check_fields(*body, {"tasks"}, "batch"); !f.ok()) return status_response(f);
  auto tasks = body->find("tasks");
  if (tasks == body->end() || !tasks->is_array() || tasks->empty()) {
    return error_response(400, "invalid_argument",
                          "batch: 'tasks' must be a non-empty array of task objects");
  }
  if (tasks->size() > kMaxBatch) {
    return error_response(413, "too_large",
                          "batch: at most " + std::to_string(kMaxBatch) + " tasks per request");
  }
  std::vector<TaskCall> calls;
  calls.reserve(tasks->size());
  for (std::size_t i = 0; i < tasks->size(); ++i) {
    const nlohmann::json& t = (*tasks)[i];
    std::string what = "batch: tasks[" + std::to_string(i) + "]";
    if (!t.is_object()) return error_response(400, "invalid_argument", what + " is not an object");
    Result<TaskCall> call = parse_call(t, what);
    if (!call.ok()) return status_response(call.status());
    calls.push_back(std::move(call).value());
  }
  return enqueue(ctx, calls, true);
}

// Counts a long poll in progress for as long as it lives.
class WaitSlot {
 public:
  WaitSlot(std::atomic<int>& n, int max) : n_(n), ok_(n.fetch_add(1) < max) {}
  ~WaitSlot() { n_.fetch_sub(1); }
  bool ok() const { return ok_; }

 private:
  std::atomic<int>& n_;
  bool ok_;
};

constexpr std::size_t kTreeShown = 100;
constexpr std::size_t kTreeCounted = 1000;

HttpResponse get_task(ApiContext& ctx, const HttpRequest& req) {
  Millis wait_ms = 0;
  if (auto w = req.query.find("wait"); w != req.query.end()) {
    Result<Millis> ms = parse_duration_field(nlohmann::json(w->second), "wait");
    if (!ms.ok()) return status_response(ms.status());
    wait_ms = std::min<Millis>(*ms, ctx.options.max_wait.count());
  }
  Result<std::shared_ptr<Store>> store = ctx.store();
  if (!store.ok()) return status_response(store.status());
  const std::string& id = req.params.at("id");
  Result<TaskStatus> st = read_task_status(**store, id);
  // Past the long-poll bound the caller gets the current state at once, as after a timeout.
  WaitSlot slot(ctx.waiting, std::max(1, ctx.options.threads / 2));
  if (st.ok() && !is_final(st->state) && wait_ms > 0 && slot.ok()) {
    Result<TaskStatus> waited = wait_task_status(**store, id, wait_ms);
    if (waited.ok() || !is_deadline_exceeded(waited.status()))
      st = std::move(waited);
    else
      st = read_task_status(**store, id);
  }
  if (!st.ok()) return status_response(st.status());
  nlohmann::json j = task_json(*st);
  // A workflow step: the tasks it takes its inputs from or depends on, with names and states
  // (the first kTreeShown listed, the states of up to kTreeCounted counted; one batch read).
  if (!st->workflow.empty()) {
    j["workflow"] = workflow_tree_json(load_workflow_tree(
        **store, st->workflow, ctx.app.clock().now_ms(), kTreeShown, kTreeCounted));
  }
  return json_response(200, j);
}

constexpr std::size_t kDefaultPage = 50;

// The query parameters of GET /api/v1/tasks as a TaskFilter.
Result<TaskFilter> parse_filter(const HttpRequest& req) {
  TaskFilter f;
  auto q = [&](const char* k) -> const std::string* {
    auto it = req.query.find(k);
    return it == req.query.end() || it->second.empty() ? nullptr : &it->second;
  };
  for (const auto& param : req.query) {
    static const char* const kKnown[] = {"queue", "state",  "task",  "from",
                                         "to",    "cursor", "limit", "q"};
    const std::string& key = param.first;
    if (std::none_of(std::begin(kKnown), std::end(kKnown),
                     [&](const char* k) { return key == k; })) {
      return invalid_argument_error("listing tasks: unknown parameter '" + key +
                                    "' (known: queue, state, task, from, to, cursor, limit, q)");
    }
  }
  if (auto* v = q("queue")) f.queue = *v;
  if (auto* v = q("task")) f.task = *v;
  if (auto* v = q("state")) {
    f.state = parse_task_state(*v);
    if (!f.state || *f.state == TaskState::kStarted) {
      return invalid_argument_error("listing tasks: unknown state '" + *v +
                                    "' (pending, scheduled, retry, reserved, success, failure, "
                                    "revoked, expired, dead, waiting, canceled)");
    }
  }
  for (auto [key, field] : {std::pair{"from", &f.enqueued_from}, {"to", &f.enqueued_before}}) {
    if (auto* v = q(key)) {
      nlohmann::json j = nlohmann::json::parse(*v, nullptr, false);
      Result<Millis> t = parse_time_field(j.is_number_integer() ? j : nlohmann::json(*v),
                                          std::string("'") + key + "'");
      if (!t.ok()) return t.status();
      *field = *t;
    }
  }
  return f;
}

nlohmann::json summary_json(const TaskSummary& t) {
  return {{"id", t.id},
          {"task", t.task},
          {"queue", t.queue},
          {"state", task_state_name(t.state)},
          {"enqueued", iso_time_json(t.enqueued)}};
}

constexpr std::size_t kMaxSearchText = 200;
constexpr std::size_t kSnippetBytes = 200;  // of a match's arguments text, in a listing

// Up to kSnippetBytes of `text` around the match at `pos` (from up to 60 bytes before it),
// cut at UTF-8 character boundaries, with "…" where text was left out.
std::string match_snippet(const std::string& text, std::size_t pos) {
  const auto continuation = [&](std::size_t i) {
    return i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80;
  };
  std::size_t begin = pos > 60 ? pos - 60 : 0;
  while (begin > 0 && continuation(begin)) --begin;
  std::size_t end = std::min(text.size(), begin + kSnippetBytes);
  while (end > begin && continuation(end)) --end;
  return (begin > 0 ? "…" : "") + text.substr(begin, end - begin) + (end < text.size() ? "…" : "");
}

// Argument text search (`q`): keeps the tasks of `page` whose arguments' JSON text contains
// `text`, reading their bodies in one batch (at most `limit` records: the page's cost stays
// bounded), and sets `snippets` to each kept task's arguments text around the match. Tasks
// whose body the store no longer keeps (finished) never match.
Status search_args(Store& store, const std::string& text, Millis now, TaskPage* page,
                   std::vector<std::string>* snippets) {
  std::vector<std::string> ids;
  for (const TaskSummary& t : page->tasks) ids.push_back(t.id);
  Result<std::vector<Result<TaskInfo>>> infos = store.get_tasks(ids, now);
  if (!infos.ok()) return infos.status();
  std::vector<TaskSummary> kept;
  for (std::size_t i = 0; i < ids.size() && i < infos->size(); ++i) {
    const Result<TaskInfo>& info = (*infos)[i];
    if (!info.ok() || info->body.empty()) continue;
    nlohmann::json args;
    if (!decode_message(info->body, &args).ok()) continue;
    const std::string dumped = args.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    const std::size_t pos = dumped.find(text);
    if (pos == std::string::npos) continue;
    kept.push_back(page->tasks[i]);
    snippets->push_back(match_snippet(dumped, pos));
  }
  page->tasks = std::move(kept);
  return Status();
}

HttpResponse list_tasks(ApiContext& ctx, const HttpRequest& req) {
  Result<TaskFilter> filter = parse_filter(req);
  if (!filter.ok()) return status_response(filter.status());
  std::size_t limit = kDefaultPage;
  if (auto it = req.query.find("limit"); it != req.query.end()) {
    char* end = nullptr;
    unsigned long v = std::strtoul(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0' || v < 1 || v > kMaxListLimit) {
      return error_response(400, "invalid_argument",
                            "listing tasks: 'limit' must be 1.." + std::to_string(kMaxListLimit));
    }
    limit = v;
  }
  std::string cursor = req.query.count("cursor") ? req.query.at("cursor") : "";
  Result<std::shared_ptr<Store>> store = ctx.store();
  if (!store.ok()) return status_response(store.status());
  Result<TaskPage> page = (*store)->list_tasks(*filter, cursor, limit, ctx.app.clock().now_ms());
  if (!page.ok() && is_failed_precondition(page.status())) {
    return error_response(501, "not_implemented", page.status().message());
  }
  if (!page.ok()) return status_response(page.status());
  std::vector<std::string> snippets;  // with `q`: each listed task's arguments around the match
  if (auto q = req.query.find("q"); q != req.query.end() && !q->second.empty()) {
    if (q->second.size() > kMaxSearchText) {
      return error_response(
          400, "invalid_argument",
          "listing tasks: 'q' is at most " + std::to_string(kMaxSearchText) + " characters");
    }
    Status s = search_args(**store, q->second, ctx.app.clock().now_ms(), &*page, &snippets);
    if (!s.ok()) return status_response(s);
  }
  nlohmann::json tasks = nlohmann::json::array();
  for (std::size_t i = 0; i < page->tasks.size(); ++i) {
    tasks.push_back(summary_json(page->tasks[i]));
    if (i < snippets.size()) tasks.back()["args_match"] = snippets[i];
  }
  return json_response(
      200, {{"tasks", tasks},
            {"next_cursor", page->next_cursor.empty() ? nlohmann::json(nullptr)
                                                      : nlohmann::json(page->next_cursor)}});
}

HttpResponse task_names(ApiContext& ctx) {
  return json_response(200, {{"names", ctx.app.task_names()}});
}

// {"terminate": true} also stops a running task. 200 {"id", "state"}: "revoked", or
// "reserved" when the running task's worker will act on the request, or the final state the
// task already had.
HttpResponse revoke(ApiContext& ctx, const HttpRequest& req) {
  RevokeOptions options;
  if (!req.body.empty()) {
    Result<nlohmann::json> body = parse_object(req.body);
    if (!body.ok()) return status_response(body.status());
    if (Status f = check_fields(*body, {"terminate"}, "revoke"); !f.ok()) return status_response(f);
    if (auto t = body->find("terminate"); t != body->end()) {
      if (!t->is_boolean())
        return error_response(400, "invalid_argument", "'terminate' must be a boolean");
      options.terminate = t->get<bool>();
    }
  }
  const std::string& id = req.params.at("id");
  Result<TaskState> state = ctx.app.revoke(id, options);
  if (!state.ok() && is_failed_precondition(state.status())) {
    return error_response(501, "not_implemented", state.status().message());
  }
  if (!state.ok()) return status_response(state.status());
  return json_response(200, {{"id", id}, {"state", task_state_name(*state)}});
}

}  // namespace

std::vector<Route> task_routes(ApiContext& ctx) {
  ApiContext* c = &ctx;
  return {
      {"POST", "/api/v1/tasks", Scope::kAdmin, [c](const auto& r) { return post_task(*c, r); }},
      {"POST", "/api/v1/tasks/batch", Scope::kAdmin,
       [c](const auto& r) { return post_batch(*c, r); }},
      {"GET", "/api/v1/tasks", Scope::kRead, [c](const auto& r) { return list_tasks(*c, r); }},
      {"GET", "/api/v1/tasks/names", Scope::kRead, [c](const auto&) { return task_names(*c); }},
      {"GET", "/api/v1/tasks/{id}", Scope::kRead, [c](const auto& r) { return get_task(*c, r); }},
      {"POST", "/api/v1/tasks/{id}/revoke", Scope::kAdmin,
       [c](const auto& r) { return revoke(*c, r); }},
  };
}

}  // namespace runq::internal
