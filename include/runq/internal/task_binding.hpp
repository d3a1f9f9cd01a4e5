// runq/internal/task_binding.hpp — how App::task turns a typed task body into a type-erased
// TaskDefinition: decoding the JSON argument array into the body's parameter types, running
// the body, and encoding its return value; and the TaskHandle type App::task returns.
//
// Not part of runq's public API: names in runq::internal may change in any release. Include
// runq/task.hpp (or runq/runq.hpp) instead of this header; runq/task.hpp includes it last,
// because everything here needs TaskDefinition, BadArguments and TaskHandle complete.
//
// Thread safety: stateless function templates. A TaskDefinition::invoke built here holds a
// copy of the body and may be called concurrently exactly when the body itself may be.
#pragma once

#include <cstddef>
#include <exception>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

#include "runq/context.hpp"
#include "runq/options.hpp"
#include "runq/task.hpp"

namespace runq::internal {

// Argument `i` (0-based) of `args` as T. Throws BadArguments naming the task, the 1-based
// argument position, nlohmann-json's reason and the first 64 characters of the JSON value.
// REQUIRES: i < args.size().
template <typename T>
std::decay_t<T> bind_arg(const nlohmann::json& args, std::size_t i, const std::string& task) {
  try {
    return args.at(i).get<std::decay_t<T>>();
  } catch (const std::exception& e) {
    throw BadArguments("argument " + std::to_string(i + 1) + " of task '" + task +
                       "': " + e.what() + " (got " + args.at(i).dump().substr(0, 64) + ")");
  }
}

// Every argument of `args` as the decayed types A..., in order. Throws BadArguments when
// `args` is not an array of exactly sizeof...(A) elements, or when an element does not
// convert (see bind_arg).
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

// Runs `call` and returns the JSON text of its result: "null" when R is void, else the
// to_json encoding of the returned value. Exceptions of `call` propagate unchanged.
template <typename R, typename Call>
std::string run_and_encode(Call&& call) {
  if constexpr (std::is_void_v<R>) {
    call();
    return "null";
  } else {
    return nlohmann::json(call()).dump();
  }
}

// The TaskDefinition of body `fn` registered as `name`. R is the body's return type, kCtx
// whether its first parameter is Context&, and A... (deduced from the null tuple pointer) the
// parameters that travel as JSON. The returned `invoke` binds the arguments (BadArguments on
// a mismatch), calls `fn` (with the Context first when kCtx) and encodes the result.
template <typename F, typename R, bool kCtx, typename... A>
TaskDefinition make_definition(std::string name, F fn, TaskOptions opts, std::tuple<A...>*) {
  TaskDefinition def;
  def.name = name;
  def.options = std::move(opts);
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

// The handle type App::task returns for a body returning R with JSON parameters Args (a
// std::tuple): TaskHandle<R, decayed parameter types...>, so `const std::string&` and
// `std::string` parameters give the same handle.
template <typename R, typename Args>
struct HandleFor;
template <typename R, typename... A>
struct HandleFor<R, std::tuple<A...>> {
  using type = TaskHandle<R, std::decay_t<A>...>;
};

}  // namespace runq::internal
