// runq/task.hpp — typed task handles: what App::task returns.
//
//   auto add = app.task("add", [](int a, int b) { return a + b; });
//   runq::AsyncResult<int> r = add.delay(2, 3);        // add.delay("x") does not compile
//   add.apply(runq::EnqueueOptions{}.countdown(10s).priority(9), 2, 3);
//
// Arguments and return values travel as JSON (nlohmann-json): any type with to_json/from_json
// works. A task body may take `runq::Context&` as its first parameter.
// Thread safety: handles are cheap values; delay/apply may be called from any thread.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "runq/context.hpp"
#include "runq/options.hpp"
#include "runq/result.hpp"

namespace runq {

class App;

// A registered task, type-erased: `invoke` decodes the JSON argument array, runs the body
// and returns the JSON text of its result ("null" for void). It throws BadArguments when the
// arguments do not fit the signature, and lets the body's own exceptions through.
struct TaskDefinition {
  std::string name;
  TaskOptions options;
  int arity = 0;
  std::function<std::string(Context&, const nlohmann::json& args)> invoke;
};

// Thrown by TaskDefinition::invoke for arguments of the wrong arity or JSON type. The task
// ends FAILURE (no retry): running it again cannot help.
class BadArguments : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace internal {

template <typename R, typename... A>
struct Signature {
  using Ret = R;
  using Params = std::tuple<A...>;
};
template <typename F>
struct FnTraits : FnTraits<decltype(&std::decay_t<F>::operator())> {};
template <typename C, typename R, typename... A>
struct FnTraits<R (C::*)(A...) const> : Signature<R, A...> {};
template <typename C, typename R, typename... A>
struct FnTraits<R (C::*)(A...)> : Signature<R, A...> {};
template <typename R, typename... A>
struct FnTraits<R (*)(A...)> : Signature<R, A...> {};
template <typename R, typename... A>
struct FnTraits<R(A...)> : Signature<R, A...> {};

// Splits a parameter list into "takes Context&" and the JSON-carried arguments.
template <typename Params>
struct SplitContext {
  static constexpr bool kHasContext = false;
  using Args = Params;
};
template <typename First, typename... Rest>
requires std::is_same_v<std::remove_cvref_t<First>, Context>
struct SplitContext<std::tuple<First, Rest...>> {
  static constexpr bool kHasContext = true;
  using Args = std::tuple<Rest...>;
};

template <typename T>
std::decay_t<T> bind_arg(const nlohmann::json& args, std::size_t i, const std::string& task) {
  try {
    return args.at(i).get<std::decay_t<T>>();
  } catch (const std::exception& e) {
    throw BadArguments("argument " + std::to_string(i + 1) + " of task '" + task +
                       "': " + e.what() + " (got " + args.at(i).dump().substr(0, 64) + ")");
  }
}

template <typename... A, std::size_t... I>
std::tuple<std::decay_t<A>...> bind_args(const nlohmann::json& args, const std::string& task,
                                         std::index_sequence<I...>) {
  if (!args.is_array() || args.size() != sizeof...(A)) {
    throw BadArguments(
        "task '" + task + "' takes " + std::to_string(sizeof...(A)) + " argument(s), got " +
        (args.is_array() ? std::to_string(args.size()) : std::string("a non-array")));
  }
  return std::tuple<std::decay_t<A>...>{bind_arg<A>(args, I, task)...};
}

template <typename R, typename Call>
std::string run_and_encode(Call&& call) {
  if constexpr (std::is_void_v<R>) {
    call();
    return "null";
  } else {
    return nlohmann::json(call()).dump();
  }
}

template <typename F, typename R, bool kCtx, typename... A>
TaskDefinition make_definition(std::string name, F fn, TaskOptions opts, std::tuple<A...>*) {
  TaskDefinition def;
  def.name = name;
  def.options = std::move(opts);
  def.arity = sizeof...(A);
  def.invoke = [fn = std::move(fn), name](Context& ctx, const nlohmann::json& args) mutable {
    auto bound = bind_args<A...>(args, name, std::index_sequence_for<A...>{});
    return run_and_encode<R>([&]() -> decltype(auto) {
      if constexpr (kCtx) {
        return std::apply([&](auto&... a) -> decltype(auto) { return fn(ctx, std::move(a)...); },
                          bound);
      } else {
        return std::apply([&](auto&... a) -> decltype(auto) { return fn(std::move(a)...); }, bound);
      }
    });
  };
  return def;
}

// Encodes call arguments as the JSON array text a task message carries.
template <typename... A>
std::string encode_args(const A&... args) {
  nlohmann::json arr = nlohmann::json::array();
  (arr.push_back(nlohmann::json(args)), ...);
  return arr.dump();
}

}  // namespace internal

// Enqueues tasks through an App by name with JSON argument text; what typed handles call.
// Each function throws runq::Error (InvalidArgument, ResourceExhausted for oversized
// payloads, Unavailable when the store is down) and enqueues nothing on error.
class Producer {
 public:
  virtual ~Producer() = default;
  virtual std::string enqueue_json(const std::string& name, std::string args_json,
                                   const TaskOptions& task_opts, const EnqueueOptions& opts) = 0;
  // All-or-nothing: either every call is enqueued or none. Returns the ids in order.
  virtual std::vector<std::string> enqueue_json_many(const std::string& name,
                                                     std::vector<std::string> args_json,
                                                     const TaskOptions& task_opts,
                                                     const EnqueueOptions& opts) = 0;
  virtual std::shared_ptr<Store> result_store() = 0;
  virtual const Clock& producer_clock() const = 0;
};

// A typed handle to a registered task. R is the result type, A... the JSON-carried
// parameter types (Context& excluded).
template <typename R, typename... A>
class TaskHandle {
 public:
  TaskHandle(Producer* producer, std::string name, TaskOptions opts)
      : producer_(producer), name_(std::move(name)), opts_(std::move(opts)) {}

  const std::string& name() const { return name_; }
  const TaskOptions& options() const { return opts_; }

  // Enqueues one call with the task's default options.
  AsyncResult<R> delay(std::type_identity_t<std::decay_t<A>>... args) const {
    return apply(EnqueueOptions{}, std::move(args)...);
  }

  // Enqueues one call with per-call options (queue, priority, countdown/eta, expires, id).
  AsyncResult<R> apply(const EnqueueOptions& opts,
                       std::type_identity_t<std::decay_t<A>>... args) const {
    std::string id = producer_->enqueue_json(name_, internal::encode_args(args...), opts_, opts);
    return AsyncResult<R>(producer_->result_store(), std::move(id), &producer_->producer_clock());
  }

  // Enqueues many calls in one all-or-nothing batch (one store transaction / round trip).
  std::vector<AsyncResult<R>> delay_many(std::span<const std::tuple<std::decay_t<A>...>> calls,
                                         const EnqueueOptions& opts = {}) const {
    std::vector<std::string> encoded;
    encoded.reserve(calls.size());
    for (const auto& c : calls) {
      encoded.push_back(
          std::apply([](const auto&... a) { return internal::encode_args(a...); }, c));
    }
    std::vector<std::string> ids =
        producer_->enqueue_json_many(name_, std::move(encoded), opts_, opts);
    std::vector<AsyncResult<R>> out;
    out.reserve(ids.size());
    auto store = producer_->result_store();
    for (auto& id : ids) out.emplace_back(store, std::move(id), &producer_->producer_clock());
    return out;
  }

  // The JSON argument array text of a call (used by App::periodic).
  static std::string encode(const std::decay_t<A>&... args) {
    return internal::encode_args(args...);
  }

 private:
  Producer* producer_;
  std::string name_;
  TaskOptions opts_;
};

namespace internal {
template <typename R, typename Args>
struct HandleFor;
template <typename R, typename... A>
struct HandleFor<R, std::tuple<A...>> {
  using type = TaskHandle<R, std::decay_t<A>...>;
};
}  // namespace internal

}  // namespace runq
