// runq/task.hpp — typed task handles: what App::task returns, and how a call is enqueued.
//
//   auto add = app.task("add", [](int a, int b) { return a + b; });
//   runq::AsyncResult<int> r = add.delay(2, 3);        // add.delay("x", 3) does not compile
//   add.apply(runq::EnqueueOptions{}.countdown(10s).priority(9), 2, 3);
//   int five = r.get();                                // blocks; see runq/result.hpp
//
// Arguments and return values travel as JSON (nlohmann-json): any type with to_json and
// from_json works, including std::string, numbers, bool, containers and user structs. A
// task body may take `runq::Context&` as its first parameter (see runq/context.hpp); it does
// not count as an argument. The handle's parameter types are the body's, decayed (a body
// taking `const std::string&` gives a handle taking std::string), and delay() accepts only
// what converts to them implicitly: a wrong type is a compile error at the call.
//
// A call is checked twice: at compile time in the producer (the handle's types), and when it
// runs, against the body registered in the worker's process. A worker whose body disagrees
// with the message (different arity, or a JSON value that does not convert) fails the task
// with BadArguments and does not retry it.
//
// Thread safety: a TaskHandle is an immutable value (a pointer to its App, a name, options);
// copy it freely and call delay/apply/delay_many from any number of threads once the App's
// registration phase is over. REQUIRES: a handle does not outlive the App that made it.
//
// The template machinery behind this header (signature traits, argument binding) lives in
// runq/internal/ and is not part of the API.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "runq/clock.hpp"
#include "runq/context.hpp"
#include "runq/internal/task_traits.hpp"
#include "runq/options.hpp"
#include "runq/result.hpp"
#include "runq/store.hpp"
#include "runq/workflow.hpp"

namespace runq {

class App;

// Thrown by TaskDefinition::invoke when the JSON arguments do not fit the body's signature:
// not an array, the wrong number of elements ("task 'add' takes 2 argument(s), got 1"), or
// an element that does not convert ("argument 2 of task 'add': ... (got "two")"). The worker
// records it as error type "runq::BadArguments" and the task ends FAILURE at once, whatever
// its max_retries and retry_on rules: running it again cannot help. Not a runq::Error: it
// never reaches a producer's thread, only the stored result.
class BadArguments : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A registered task, type-erased; App::task builds one and App::find_task returns it.
//
// `invoke(ctx, args)` decodes the JSON argument array `args`, runs the body (passing `ctx`
// first when the body takes a Context&) and returns the JSON text of the body's return value
// ("null" for void). It throws BadArguments when the arguments do not fit the signature and
// lets every exception of the body through unchanged; the caller (the worker, or eager mode)
// catches them and decides between retry and FAILURE.
//
// Thread safety: a worker calls `invoke` of one definition from all its executor threads at
// once, on the same copy of the body. A body with mutable captured state must synchronise
// it itself.
struct TaskDefinition {
  std::string name;     // as registered; unique within an App
  TaskOptions options;  // the options given to App::task (retries, backoff, time limit...)
  std::function<std::string(Context&, const nlohmann::json& args)> invoke;
};

// The enqueue interface typed handles call, by task name with JSON argument text. App
// implements it; user code calls TaskHandle (or App::send) instead.
//
// Both enqueue functions throw runq::Error and enqueue nothing when they do: InvalidArgument
// (priority outside 0..9, an empty queue name, one EnqueueOptions::id for a batch of more
// than one call), TooLarge (an encoded message over AppOptions::max_payload_bytes), QueueFull
// (a runq::Error with ResourceExhausted: a bounded queue is full, or the store is out of
// space), and whatever the store returns (Unavailable when it is down or busy), or the error of
// opening it on first use.
//
// Thread safety: every function may be called from any thread.
// What one enqueue did (unique jobs: EnqueueOptions::unique_key, TaskOptions::unique).
struct Enqueued {
  std::string id;     // the new task's id; when !added, the id of the task holding the key
  bool added = true;  // false: another task held the call's unique key; nothing was added
};

class Producer {
 public:
  virtual ~Producer() = default;

  // Enqueues one call of task `name` with argument array text `args_json` and returns its
  // task id. `task_opts` supplies the defaults (queue, priority, ignore_result, result_ttl,
  // max_deliveries) that `opts` does not override. An id that already exists in the store
  // (EnqueueOptions::id) is not enqueued again; the id is still returned.
  virtual std::string enqueue_json(const std::string& name, std::string args_json,
                                   const TaskOptions& task_opts, const EnqueueOptions& opts) = 0;

  // As enqueue_json for each element of `args_json`, all-or-nothing in one store call:
  // either every call is enqueued or none is. Returns the ids in the order of `args_json`.
  virtual std::vector<std::string> enqueue_json_many(const std::string& name,
                                                     std::vector<std::string> args_json,
                                                     const TaskOptions& task_opts,
                                                     const EnqueueOptions& opts) = 0;

  // As enqueue_json_many, and says for each call whether it added a task or found another
  // task holding its unique key (then the id is that task's). The default marks every call
  // added.
  virtual std::vector<Enqueued> enqueue_json_calls(const std::string& name,
                                                   std::vector<std::string> args_json,
                                                   const TaskOptions& task_opts,
                                                   const EnqueueOptions& opts) {
    std::vector<Enqueued> out;
    for (std::string& id : enqueue_json_many(name, std::move(args_json), task_opts, opts)) {
      out.push_back({std::move(id), true});
    }
    return out;
  }

  // The store results are read from (the App's store, opened on first use). Throws
  // runq::Error when it cannot be opened.
  virtual std::shared_ptr<Store> result_store() = 0;

  // The clock AsyncResult uses to decide which results have expired.
  virtual const Clock& producer_clock() const = 0;

  // Enqueues every task of a workflow (runq/workflow.hpp) in one all-or-nothing store call
  // and returns their ids by position. Throws as enqueue_json. The default throws
  // FailedPrecondition (App implements it).
  virtual std::vector<std::string> enqueue_flow(const internal::Flow& flow);
};

// A typed handle to a registered task. R is the body's return type (void allowed), A... the
// decayed types of its JSON-carried parameters (a leading Context& excluded). Obtained from
// App::task; constructing one directly is possible but skips registration.
//
// Every enqueue function below throws what Producer's do (runq::Error; nothing is enqueued
// then). Before that, each argument is encoded with nlohmann-json, and a value it refuses
// (e.g. a std::string that is not valid UTF-8) throws nlohmann::json::type_error, also with
// nothing enqueued. In eager mode (AppOptions::eager) the task has already run when the call
// returns; countdown and eta are ignored there.
template <typename R, typename... A>
class TaskHandle {
 public:
  // REQUIRES: `producer` is non-null and outlives the handle.
  TaskHandle(Producer* producer, std::string name, TaskOptions opts)
      : producer_(producer), name_(std::move(name)), opts_(std::move(opts)) {}

  // The registered task name.
  const std::string& name() const { return name_; }
  // The options the task was registered with; the defaults of every enqueue.
  const TaskOptions& options() const { return opts_; }

  // Enqueues one call with the task's options and returns its result handle.
  AsyncResult<R> delay(std::type_identity_t<std::decay_t<A>>... args) const {
    return apply(EnqueueOptions{}, std::move(args)...);
  }

  // Enqueues one call with per-call options (queue, priority, countdown or eta, expires, id);
  // a queue or priority `opts` leaves unset comes from the task's options.
  AsyncResult<R> apply(const EnqueueOptions& opts,
                       std::type_identity_t<std::decay_t<A>>... args) const {
    std::vector<std::string> one;
    one.push_back(internal::encode_args(args...));
    std::vector<Enqueued> e = producer_->enqueue_json_calls(name_, std::move(one), opts_, opts);
    return AsyncResult<R>(producer_->result_store(), std::move(e.front().id),
                          &producer_->producer_clock(), e.front().added);
  }

  // Enqueues many calls in one all-or-nothing batch (one store transaction or round trip):
  // far cheaper than a delay() per call for large fan-outs. Returns one AsyncResult per call,
  // in order. `opts` applies to every call; opts.id() must be empty when there is more than
  // one call (InvalidArgument otherwise).
  std::vector<AsyncResult<R>> delay_many(std::span<const std::tuple<std::decay_t<A>...>> calls,
                                         const EnqueueOptions& opts = {}) const {
    std::vector<std::string> encoded;
    encoded.reserve(calls.size());
    for (const auto& c : calls) {
      encoded.push_back(
          std::apply([](const auto&... a) { return internal::encode_args(a...); }, c));
    }
    std::vector<Enqueued> done =
        producer_->enqueue_json_calls(name_, std::move(encoded), opts_, opts);
    std::vector<AsyncResult<R>> out;
    out.reserve(done.size());
    auto store = producer_->result_store();
    for (auto& e : done) {
      out.emplace_back(store, std::move(e.id), &producer_->producer_clock(), e.added);
    }
    return out;
  }

  // A complete signature: this call with every argument, not yet sent (runq/workflow.hpp).
  // In a chain it ignores the previous step's result. Throws nlohmann::json::type_error for
  // a value it cannot encode.
  Signature<R> s(std::type_identity_t<std::decay_t<A>>... args) const {
    return Signature<R>(producer_, signature_data(false, args...), opts_);
  }
  // A partial signature: every argument but the first, which the previous step's result
  // supplies (a chain step, a chord body, a link callback). Wrong types do not compile.
  template <typename... B>
  requires(sizeof...(B) + 1 == sizeof...(A) &&
           internal::ConvertibleToTail<std::tuple<B...>, std::tuple<std::decay_t<A>...>>::value)
      Signature<R, internal::FirstOf<std::decay_t<A>...>> s(const B&... rest)
  const {
    return Signature<R, internal::FirstOf<std::decay_t<A>...>>(
        producer_, signature_data(true, rest...), opts_);
  }
  // An immutable signature: as the complete s(), said explicitly.
  Signature<R> si(std::type_identity_t<std::decay_t<A>>... args) const {
    return Signature<R>(producer_, signature_data(false, args...), opts_);
  }

  // The JSON argument array text of one call, e.g. `[2,3]` (what App::periodic stores for
  // each tick). Throws nlohmann::json::type_error for a value it cannot encode.
  static std::string encode(const std::decay_t<A>&... args) {
    return internal::encode_args(args...);
  }

 private:
  template <typename... B>
  SignatureData signature_data(bool takes_parent, const B&... args) const {
    SignatureData d;
    d.task = name_;
    d.args = nlohmann::json::array();
    (d.args.push_back(nlohmann::json(args)), ...);
    d.takes_parent = takes_parent;
    return d;
  }

  Producer* producer_;
  std::string name_;
  TaskOptions opts_;
};

}  // namespace runq

// Last: the argument binding needs BadArguments, TaskDefinition and TaskHandle complete.
#include "runq/internal/task_binding.hpp"  // IWYU pragma: export
