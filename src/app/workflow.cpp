// Building and enqueueing workflows (runq/workflow.hpp): composing flows, the JSON form of
// signatures, and App::enqueue_flow, which turns a flow into one batch of NewTasks whose
// dependencies and `workflow` message fields say how each step gets its inputs.
#include "runq/workflow.hpp"

#include <algorithm>

#include "app/internal/task_builder.hpp"
#include "core/ids.hpp"
#include "runq/app.hpp"

namespace runq {

void to_json(nlohmann::json& j, const SignatureData& s) {
  j = {{"task", s.task}, {"args", s.args}};
  if (s.takes_parent) j["takes_parent"] = true;
  if (!s.queue.empty()) j["queue"] = s.queue;
  if (s.priority) j["priority"] = *s.priority;
  if (s.countdown > 0) j["countdown"] = s.countdown;
  if (s.expires_in > 0) j["expires_in"] = s.expires_in;
  if (s.time_limit > 0) j["time_limit"] = s.time_limit;
  if (s.soft_time_limit > 0) j["soft_time_limit"] = s.soft_time_limit;
  if (!s.id.empty()) j["id"] = s.id;
  if (!s.link.empty()) j["link"] = s.link;
  if (!s.link_error.empty()) j["link_error"] = s.link_error;
}

void from_json(const nlohmann::json& j, SignatureData& s) {
  s = SignatureData{};
  s.task = j.at("task").get<std::string>();
  s.args = j.value("args", nlohmann::json::array());
  if (!s.args.is_array())
    throw nlohmann::json::type_error::create(302, "args must be an array", &j);
  s.takes_parent = j.value("takes_parent", false);
  s.queue = j.value("queue", "");
  if (auto p = j.find("priority"); p != j.end()) s.priority = p->get<int>();
  s.countdown = j.value("countdown", Millis{0});
  s.expires_in = j.value("expires_in", Millis{0});
  s.time_limit = j.value("time_limit", Millis{0});
  s.soft_time_limit = j.value("soft_time_limit", Millis{0});
  s.id = j.value("id", "");
  if (auto l = j.find("link"); l != j.end()) s.link = l->get<std::vector<SignatureData>>();
  if (auto l = j.find("link_error"); l != j.end())
    s.link_error = l->get<std::vector<SignatureData>>();
}

void to_json(nlohmann::json& j, const FailedTask& f) {
  j = {{"id", f.id},
       {"task", f.task},
       {"state", f.state},
       {"error_type", f.error_type},
       {"error", f.error}};
}

void from_json(const nlohmann::json& j, FailedTask& f) {
  f.id = j.at("id").get<std::string>();
  f.task = j.value("task", "");
  f.state = j.value("state", "");
  f.error_type = j.value("error_type", "");
  f.error = j.value("error", "");
}

std::vector<std::string> Producer::enqueue_flow(const internal::Flow&) {
  throw Error(failed_precondition_error("this producer does not enqueue workflows"));
}

namespace internal {

namespace {

void shift(std::vector<std::size_t>& v, std::size_t by) {
  for (std::size_t& i : v) i += by;
}

// Appends the nodes of `b` to `a`, returning the offset of b's first node.
std::size_t append_nodes(Flow& a, Flow b) {
  std::size_t off = a.nodes.size();
  for (FlowNode& n : b.nodes) {
    shift(n.parents, off);
    shift(n.after, off);
    a.nodes.push_back(std::move(n));
  }
  if (a.producer == nullptr) a.producer = b.producer;
  return off;
}

}  // namespace

Flow then(Flow prev, Flow next) {
  std::vector<std::size_t> exits = prev.exits;
  bool group = prev.exit_is_group;
  std::vector<std::size_t> entries = next.entries, next_exits = next.exits;
  bool next_group = next.exit_is_group;
  std::size_t off = append_nodes(prev, std::move(next));
  shift(entries, off);
  shift(next_exits, off);
  for (std::size_t e : entries) {
    FlowNode& n = prev.nodes[e];
    n.parents = exits;
    n.parent_is_group = group;
  }
  Flow out = std::move(prev);
  out.exits = std::move(next_exits);
  out.exit_is_group = next_group;
  // The entries of a chain are those of its first step: `out.entries` stays as it was.
  return out;
}

Flow parallel(std::vector<Flow> flows) {
  Flow out;
  out.exit_is_group = true;
  for (Flow& f : flows) {
    std::vector<std::size_t> entries = f.entries, exits = f.exits;
    std::size_t off = append_nodes(out, std::move(f));
    for (std::size_t e : entries) out.entries.push_back(e + off);
    for (std::size_t e : exits) out.exits.push_back(e + off);
  }
  return out;
}

std::vector<std::string> enqueue_flow(const Flow& flow) {
  if (flow.producer == nullptr) {
    throw Error(invalid_argument_error("enqueueing a workflow: it has no task (an empty group)"));
  }
  return flow.producer->enqueue_flow(flow);
}

std::shared_ptr<Store> flow_store(const Flow& flow) { return flow.producer->result_store(); }
const Clock* flow_clock(const Flow& flow) { return &flow.producer->producer_clock(); }

}  // namespace internal

std::vector<std::string> App::enqueue_flow(const internal::Flow& flow) {
  Millis now = clock_->now_ms();
  // Ids: "<one new id>-<position>" unless the signature names its own, so that a chord body
  // names its (maybe 100,000) members by ranges instead of one id each.
  const std::string base = internal::new_task_id();
  std::vector<std::string> ids;
  ids.reserve(flow.nodes.size());
  for (std::size_t i = 0; i < flow.nodes.size(); ++i) {
    const std::string& own = flow.nodes[i].sig.id;
    ids.push_back(own.empty() ? base + "-" + std::to_string(i) : own);
  }
  // The parents of a node: runs of generated ids as {"base","from","to"}, others as ids.
  auto parents_json = [&](const std::vector<std::size_t>& parents) {
    nlohmann::json out = nlohmann::json::array();
    for (std::size_t k = 0; k < parents.size();) {
      std::size_t p = parents[k];
      if (!flow.nodes[p].sig.id.empty()) {
        out.push_back(ids[p]);
        ++k;
        continue;
      }
      std::size_t end = k + 1;
      while (end < parents.size() && parents[end] == parents[end - 1] + 1 &&
             flow.nodes[parents[end]].sig.id.empty()) {
        ++end;
      }
      if (end - k == 1) {
        out.push_back(ids[p]);
      } else {
        out.push_back({{"base", base}, {"from", p}, {"to", parents[end - 1] + 1}});
      }
      k = end;
    }
    return out;
  };
  std::vector<NewTask> tasks;
  tasks.reserve(flow.nodes.size());
  for (std::size_t i = 0; i < flow.nodes.size(); ++i) {
    const internal::FlowNode& n = flow.nodes[i];
    const SignatureData& sig = n.sig;
    EnqueueOptions opts;
    opts.id(ids[i]);
    if (!sig.queue.empty()) opts.queue(sig.queue);
    if (sig.priority) opts.priority(*sig.priority);
    if (sig.countdown > 0) opts.countdown(std::chrono::milliseconds(sig.countdown));
    if (sig.expires_in > 0) opts.expires(std::chrono::milliseconds(sig.expires_in));
    if (sig.time_limit > 0) opts.time_limit(std::chrono::milliseconds(sig.time_limit));
    if (sig.soft_time_limit > 0)
      opts.soft_time_limit(std::chrono::milliseconds(sig.soft_time_limit));
    nlohmann::json wf = nlohmann::json::object();
    std::vector<std::string> deps;
    if (!n.parents.empty()) {
      for (std::size_t p : n.parents) deps.push_back(ids[p]);
      wf["parents"] = parents_json(n.parents);
      if (n.parent_is_group) wf["group"] = true;
      if (sig.takes_parent) wf["pass"] = true;
      if (n.allow_failures) wf["allow_failures"] = true;
    } else if (n.parent_is_group && sig.takes_parent) {
      wf["parents"] = nlohmann::json::array();  // a chord of 0 members
      wf["group"] = true;
      wf["pass"] = true;
      if (n.allow_failures) wf["allow_failures"] = true;
    }
    for (std::size_t a : n.after) deps.push_back(ids[a]);
    if (!sig.link.empty()) wf["link"] = sig.link;
    if (!sig.link_error.empty()) wf["link_error"] = sig.link_error;
    internal::BuildContext ctx{now, options_.max_payload_bytes, eager_, {}};
    if (!wf.empty()) ctx.workflow = wf.dump();
    Result<NewTask> t = internal::build_task(sig.task, sig.args.dump(), n.options, opts, ctx);
    if (!t.ok()) throw Error(t.status().with_context("enqueueing a workflow"));
    t->links.depends_on = std::move(deps);
    t->links.allow_dependency_failure = n.parent_is_group;
    tasks.push_back(std::move(t).value());
  }
  std::shared_ptr<Store> s = store();
  Status st = s->enqueue(tasks, now);
  if (!st.ok()) throw Error(st.with_context("enqueueing a workflow"));
  if (eager_) run_eager(ids);
  return ids;
}

}  // namespace runq
