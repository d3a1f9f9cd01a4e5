// runq/workflow.hpp — signatures and workflows: chain, group, chord, with results passed along.
//
//   auto add = app.task("add", [](int a, int b) { return a + b; });
//   auto total = app.task("total", [](std::vector<int> v) { return sum(v); });
//   runq::Signature<int> two_three = add.s(2, 3);       // a call, not yet sent
//   auto step = add.s(10);                               // one argument short: takes the
//                                                        // previous result first
//   runq::AsyncResult<int> r = runq::chain(two_three, step, add.s(1)).delay();  // ((2+3)+10)+1
//   runq::GroupResult<int> g = runq::group(add.s(1, 1), add.s(2, 2)).delay();   // {2, 4}
//   runq::AsyncResult<int> c = runq::chord(runq::group(sigs), total.s()).delay();
//
// A SIGNATURE (`task.s(args...)`) is a task call with its arguments and options, not yet
// sent. With all its arguments it is COMPLETE (Signature<R>); with the first one missing it
// is PARTIAL (Signature<R, First>) and receives the previous step's result as that argument.
// `.si(args...)` is a complete signature that says so explicitly ("immutable"): in a chain it
// ignores the previous result. Wrong argument types do not compile, and neither does a chain
// step whose missing argument cannot be built from the previous step's result. Signatures
// serialise to JSON (SignatureData, to_json/from_json) to travel inside messages.
//
// HOW IT RUNS. A workflow is enqueued in ONE store batch: every task of it at once, the later
// ones WAITING on the earlier ones (Store dependencies, runq/store.hpp WorkflowLinks). A step
// is released by the store inside the same atomic call that settles its last dependency (a
// counter, no polling), and its worker reads the results it needs from the stored results of
// its dependencies. So a workflow survives any worker dying at any moment, a member that
// retries counts only once it is final, and a lapsed-lease duplicate counts once.
//  - chain(a, b, c): b runs after a SUCCEEDED (a partial b gets a's result first). When a step
//    fails for good the later steps end CANCELED ("dependency <id> ended failure"), and the
//    chain's result (the last step's) throws TaskFailed naming the failed step and its error.
//  - group(sigs...): all run in parallel; GroupResult<T> reads them in order.
//  - chord(group, body) = chain(group, body): the body runs exactly once, after every member
//    is final, with the vector of their results in member order. A member that failed for
//    good makes the body end FAILURE without running, with error type "runq::ChordError"
//    naming the failed members and their errors (AsyncResult::get throws ChordError). A body
//    taking std::vector<MemberResult<T>> instead runs with every member's outcome (allow
//    failures). A chord of 0 members runs the body at once with an empty vector.
//  - Nesting: a group or a chord may be a step of a chain; a group's result passed to the next
//    step is the vector of its members' results.
//  - Results a later step reads must still be stored when it runs: keep result_ttl (1 day by
//    default) longer than the workflow, and do not set ignore_result on such members.
//  - link(sig) / link_error(sig) on a signature: callbacks enqueued atomically with the
//    task's final settlement: on success a partial `sig` receives the result; on failure a
//    partial `sig` receives a FailedTask (id, task, error type and message).
//
// Thread safety: signatures, chains and groups are values; delay() may be called from any
// thread (each call enqueues a fresh copy with new ids). Errors: delay() throws runq::Error as
// TaskHandle::delay does (nothing is enqueued then).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "runq/clock.hpp"
#include "runq/error.hpp"
#include "runq/options.hpp"
#include "runq/result.hpp"
#include "runq/store.hpp"

namespace runq {

class Producer;

// The untyped, serialisable form of a signature.
struct SignatureData {
  std::string task;                               // registered task name
  nlohmann::json args = nlohmann::json::array();  // the bound arguments
  bool takes_parent = false;                      // partial: the parent result goes first
  std::string queue;                              // empty = the task's
  std::optional<int> priority;                    // unset = the task's
  Millis countdown = 0;                           // run no earlier than enqueue + this
  Millis expires_in = 0;                          // 0 = never
  Millis time_limit = 0, soft_time_limit = 0;     // 0 = the task's
  std::string id;                                 // empty = a new id at each delay()
  std::vector<SignatureData> link, link_error;    // callbacks (see the file comment)
};
void to_json(nlohmann::json& j, const SignatureData& s);
// Throws nlohmann::json::exception for a malformed object (missing "task", mistyped fields).
void from_json(const nlohmann::json& j, SignatureData& s);

// What a link_error callback receives: the task that failed for good.
struct FailedTask {
  std::string id;
  std::string task;
  std::string state;  // "failure", "dead", "expired", "revoked"
  std::string error_type;
  std::string error;
};
void to_json(nlohmann::json& j, const FailedTask& f);
void from_json(const nlohmann::json& j, FailedTask& f);

// One member's outcome, for a chord body that allows failures (takes vector<MemberResult<T>>).
template <typename T>
struct MemberResult {
  std::string id;
  TaskState state = TaskState::kPending;  // kSuccess, or how it ended
  std::optional<T> value;                 // set when state is kSuccess
  std::string error_type, error;          // otherwise
  bool ok() const { return state == TaskState::kSuccess; }
};
template <typename T>
void to_json(nlohmann::json& j, const MemberResult<T>& m) {
  j = {{"id", m.id},
       {"state", task_state_name(m.state)},
       {"error_type", m.error_type},
       {"error", m.error}};
  if (m.value) j["value"] = *m.value;
}
template <typename T>
void from_json(const nlohmann::json& j, MemberResult<T>& m) {
  m.id = j.at("id").get<std::string>();
  m.state = parse_task_state(j.at("state").get<std::string>()).value_or(TaskState::kFailure);
  if (auto v = j.find("value"); v != j.end() && !v->is_null()) m.value = v->get<T>();
  m.error_type = j.value("error_type", "");
  m.error = j.value("error", "");
}

namespace internal {

// One task of a workflow being built. Dependencies are positions in the same Flow.
struct FlowNode {
  SignatureData sig;
  TaskOptions options;               // the registered task's options (defaults)
  std::vector<std::size_t> parents;  // its result inputs: positions, in order
  bool parent_is_group = false;      // parents' results form a vector argument
  bool allow_failures = false;       // chord body taking MemberResult<T>
  std::vector<std::size_t> after;    // extra dependencies (positions)
};

// A workflow being built: nodes in dependency order, the nodes that take the previous step's
// result (entries) and the nodes whose results are the flow's result (exits).
struct Flow {
  std::vector<FlowNode> nodes;
  std::vector<std::size_t> entries;
  std::vector<std::size_t> exits;
  bool exit_is_group = false;  // the result is the vector of the exits' results
  Producer* producer = nullptr;
};

// Appends `next` after `prev`: every entry of `next` depends on every exit of `prev` and, when
// it takes a parent, gets their result(s). Returns the combined flow.
Flow then(Flow prev, Flow next);
// The union of `flows`, run in parallel: a group.
Flow parallel(std::vector<Flow> flows);
// Enqueues every node of `flow` in one batch and returns the ids, by position.
// Throws runq::Error (nothing enqueued) as TaskHandle::delay does.
std::vector<std::string> enqueue_flow(const Flow& flow);
// The store and clock results are read with.
std::shared_ptr<Store> flow_store(const Flow& flow);
const Clock* flow_clock(const Flow& flow);

// Whether a chord body's missing argument is a vector of MemberResult (it allows failures).
template <typename T>
struct IsMemberResults : std::false_type {};
template <typename T>
struct IsMemberResults<std::vector<MemberResult<T>>> : std::true_type {};

template <typename T>
struct IsVector : std::false_type {};
template <typename T>
struct IsVector<std::vector<T>> : std::true_type {
  using value_type = T;
};

}  // namespace internal

// A task call with its arguments and options, not yet sent. R: its result type. Missing: the
// type of the first argument, supplied by the previous step (void: complete). Built by
// TaskHandle::s / si. The setters return a modified copy's reference (fluent).
template <typename R, typename Missing = void>
class Signature {
 public:
  using result_type = R;
  using missing_type = Missing;

  Signature(Producer* producer, SignatureData data, TaskOptions options)
      : producer_(producer), data_(std::move(data)), options_(std::move(options)) {}

  Signature& queue(std::string q) {
    data_.queue = std::move(q);
    return *this;
  }
  Signature& priority(int p) {
    data_.priority = p;
    return *this;
  }
  Signature& countdown(std::chrono::milliseconds d) {
    data_.countdown = d.count();
    return *this;
  }
  Signature& expires(std::chrono::milliseconds d) {
    data_.expires_in = d.count();
    return *this;
  }
  Signature& time_limit(std::chrono::milliseconds d) {
    data_.time_limit = d.count();
    return *this;
  }
  // Use this task id (the default is a new id at every delay()).
  Signature& id(std::string v) {
    data_.id = std::move(v);
    return *this;
  }
  // On success, enqueue `cb` (a partial `cb` receives this task's result first).
  template <typename R2, typename M2>
  Signature& link(const Signature<R2, M2>& cb) {
    static_assert(std::is_void_v<M2> || (!std::is_void_v<R> && std::is_convertible_v<R, M2>),
                  "link: the callback's missing first argument must accept this task's result");
    data_.link.push_back(cb.data());
    return *this;
  }
  // On failure for good (FAILURE, DEAD, EXPIRED, REVOKED), enqueue `cb` (a partial `cb`
  // receives a runq::FailedTask first).
  template <typename R2, typename M2>
  Signature& link_error(const Signature<R2, M2>& cb) {
    static_assert(std::is_void_v<M2> || std::is_convertible_v<FailedTask, M2>,
                  "link_error: the callback's missing first argument must accept a FailedTask");
    data_.link_error.push_back(cb.data());
    return *this;
  }

  const SignatureData& data() const { return data_; }
  const TaskOptions& options() const { return options_; }
  Producer* producer() const { return producer_; }
  nlohmann::json to_json() const { return data_; }

  // Enqueues this call. Only for a complete signature.
  AsyncResult<R> delay() const requires std::is_void_v<Missing> {
    internal::Flow f = flow();
    std::vector<std::string> ids = internal::enqueue_flow(f);
    return AsyncResult<R>(internal::flow_store(f), ids.back(), internal::flow_clock(f));
  }

  internal::Flow flow() const {
    internal::Flow f;
    f.producer = producer_;
    f.nodes.push_back({data_, options_, {}, false, false, {}});
    f.entries = {0};
    f.exits = {0};
    return f;
  }

 private:
  Producer* producer_;
  SignatureData data_;
  TaskOptions options_;
};

// The result of a group: one AsyncResult per member, in order.
template <typename T>
class GroupResult {
 public:
  GroupResult(std::shared_ptr<Store> store, std::vector<std::string> ids, const Clock* clock)
      : store_(std::move(store)), ids_(std::move(ids)), clock_(clock) {}

  const std::vector<std::string>& ids() const { return ids_; }
  std::vector<AsyncResult<T>> results() const {
    std::vector<AsyncResult<T>> out;
    for (const std::string& id : ids_) out.emplace_back(store_, id, clock_);
    return out;
  }
  // Every member's value in order; throws as AsyncResult::get for the first member that
  // failed, or Timeout when the members are not all final within `timeout` overall.
  std::vector<T> get(std::chrono::milliseconds timeout = std::chrono::seconds(30)) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<T> out;
    out.reserve(ids_.size());
    for (const std::string& id : ids_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      out.push_back(AsyncResult<T>(store_, id, clock_).get(std::max(left, decltype(left){0})));
    }
    return out;
  }
  // How many members are final (one store read each).
  std::size_t completed_count() const {
    std::size_t n = 0;
    for (const std::string& id : ids_) n += AsyncResult<T>(store_, id, clock_).ready() ? 1 : 0;
    return n;
  }
  bool ready() const { return completed_count() == ids_.size(); }

 private:
  std::shared_ptr<Store> store_;
  std::vector<std::string> ids_;
  const Clock* clock_;
};

// A group of calls run in parallel, each with result type T.
template <typename T>
class Group {
 public:
  using result_type = T;
  explicit Group(internal::Flow flow) : flow_(std::move(flow)) {}
  internal::Flow flow() const { return flow_; }
  std::size_t size() const { return flow_.exits.size(); }

  GroupResult<T> delay() const {
    std::vector<std::string> ids = internal::enqueue_flow(flow_);
    std::vector<std::string> members;
    for (std::size_t e : flow_.exits) members.push_back(ids[e]);
    return GroupResult<T>(internal::flow_store(flow_), std::move(members),
                          internal::flow_clock(flow_));
  }

 private:
  internal::Flow flow_;
};

// A sequence of steps; R: the last step's result type.
template <typename R>
class Chain {
 public:
  using result_type = R;
  explicit Chain(internal::Flow flow) : flow_(std::move(flow)) {}
  internal::Flow flow() const { return flow_; }
  // Enqueues the whole chain (one batch). The result is the last step's.
  AsyncResult<R> delay() const {
    std::vector<std::string> ids = internal::enqueue_flow(flow_);
    return AsyncResult<R>(internal::flow_store(flow_), ids[flow_.exits.back()],
                          internal::flow_clock(flow_));
  }

 private:
  internal::Flow flow_;
};

namespace internal {

// What a step produces, as the next step sees it.
template <typename S>
struct StepOut {
  using type = typename S::result_type;
};
template <typename T>
struct StepOut<Group<T>> {
  using type = std::vector<T>;
};
// What a step needs: void = nothing (complete), else the type of its missing argument.
template <typename S>
struct StepIn {
  using type = void;
};
template <typename R, typename M>
struct StepIn<::runq::Signature<R, M>> {  // not internal::Signature (task_traits.hpp)
  using type = M;
};
template <typename T>
struct StepIn<Group<T>> {
  using type = void;  // members of a group in a chain are complete calls
};

// Whether `Out` (a previous step's result) fits `In` (a step's missing argument).
template <typename Out, typename In>
constexpr bool fits() {
  if constexpr (std::is_void_v<In>) {
    return true;
  } else if constexpr (std::is_void_v<Out>) {
    return false;
  } else if constexpr (IsVector<Out>::value && IsVector<In>::value) {
    using O = typename IsVector<Out>::value_type;
    using I = typename IsVector<In>::value_type;
    if constexpr (std::is_same_v<I, MemberResult<O>>) return true;
    return std::is_convertible_v<Out, In>;
  } else {
    return std::is_convertible_v<Out, In>;
  }
}

template <typename T>
struct IsGroup : std::false_type {};
template <typename T>
struct IsGroup<Group<T>> : std::true_type {};

// A chain being built; Last: the type of its last step.
template <typename Last>
struct ChainBuilder {
  Flow flow;
};

template <typename Last, typename Next>
ChainBuilder<Next> operator|(ChainBuilder<Last> b, const Next& next) {
  using Out = typename StepOut<Last>::type;
  using In = typename StepIn<Next>::type;
  static_assert(fits<Out, In>(),
                "chain: a step's missing first argument must accept the previous step's result "
                "(use .si(...) or a complete .s(...) for a step that ignores it)");
  Flow n = next.flow();
  if constexpr (IsMemberResults<In>::value) {
    for (std::size_t e : n.entries) n.nodes[e].allow_failures = n.nodes[e].sig.takes_parent;
  }
  return {then(std::move(b.flow), std::move(n))};
}

}  // namespace internal

// chain(a, b, ...): b runs after a succeeded, a partial b receiving a's result first. Steps
// are signatures, groups (a group followed by a step is a chord), chords and chains. The
// first step must be complete; the last must not be a group (wrap it in a chord).
template <typename First, typename... Rest>
auto chain(const First& first, const Rest&... rest) {
  static_assert(std::is_void_v<typename internal::StepIn<First>::type>,
                "chain: the first step must be a complete signature (all arguments given)");
  auto built = (internal::ChainBuilder<First>{first.flow()} | ... | rest);
  using Last = std::tuple_element_t<sizeof...(Rest), std::tuple<First, Rest...>>;
  static_assert(!internal::IsGroup<Last>::value,
                "chain: the last step must not be a group; use chord(group, body)");
  return Chain<typename internal::StepOut<Last>::type>(std::move(built.flow));
}

// group(s1, s2, ...): complete signatures (or chains) with the same result type, run in
// parallel, enqueued in one batch.
template <typename First, typename... Rest>
auto group(const First& first, const Rest&... rest) {
  using T = typename internal::StepOut<First>::type;
  static_assert((std::is_same_v<T, typename internal::StepOut<Rest>::type> && ...),
                "group: every member must have the same result type");
  static_assert(std::is_void_v<typename internal::StepIn<First>::type> &&
                    (std::is_void_v<typename internal::StepIn<Rest>::type> && ...),
                "group: members must be complete signatures (all arguments given)");
  std::vector<internal::Flow> flows{first.flow(), rest.flow()...};
  return Group<T>(internal::parallel(std::move(flows)));
}

// group(vector of complete signatures); an empty vector is a group of 0 members (`producer`
// then says where a chord of it enqueues its body: any signature's producer).
template <typename T>
Group<T> group(const std::vector<Signature<T>>& members) {
  std::vector<internal::Flow> flows;
  flows.reserve(members.size());
  for (const auto& m : members) flows.push_back(m.flow());
  return Group<T>(internal::parallel(std::move(flows)));
}

// chord(group, body): the body runs once after every member is final, with their results (see
// the file comment). Equal to chain(group, body).
template <typename T, typename Body>
auto chord(const Group<T>& members, const Body& body) {
  return chain(members, body);
}

}  // namespace runq
