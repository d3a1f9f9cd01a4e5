// runq/internal/task_traits.hpp — compile-time helpers behind App::task and TaskHandle: the
// signature of a task body, whether it takes a runq::Context&, and the JSON text of a call's
// arguments.
//
// Not part of runq's public API: names in runq::internal may change in any release. Include
// runq/task.hpp (or runq/runq.hpp) instead of this header.
//
// Thread safety: types and stateless function templates only.
#pragma once

#include <string>
#include <tuple>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "runq/context.hpp"

namespace runq::internal {

// The return type and the parameter types, as declared, of a callable.
template <typename R, typename... A>
struct Signature {
  using Ret = R;
  using Params = std::tuple<A...>;
};

// Signature of a task body: a lambda or function object with exactly one non-template
// operator() (const or mutable), a function pointer, or a function type. Generic lambdas
// (`auto` parameters), overloaded call operators and noexcept bodies have no single
// signature and do not compile here.
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

// Splits a parameter list into "takes Context& first" (kHasContext) and the parameters that
// travel as JSON (Args). Only the FIRST parameter may be the Context; a Context anywhere else
// is treated as a JSON argument and does not compile.
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

// The first type of a pack (void when empty).
template <typename... A>
struct First {
  using type = void;
};
template <typename A0, typename... A>
struct First<A0, A...> {
  using type = A0;
};
template <typename... A>
using FirstOf = typename First<A...>::type;

// Whether the arguments B... convert implicitly to the parameters after the first, P1...
template <typename Bs, typename Ps>
struct ConvertibleToTail : std::false_type {};
template <typename... B, typename P0, typename... P>
requires(sizeof...(B) ==
         sizeof...(P)) struct ConvertibleToTail<std::tuple<B...>, std::tuple<P0, P...>>
    : std::bool_constant<(std::is_convertible_v<const B&, P> && ...)> {
};

// The JSON array text a task message carries for one call, e.g. `[2,"x"]`. Each argument is
// converted with nlohmann-json's to_json (ADL); a type without one does not compile.
template <typename... A>
std::string encode_args(const A&... args) {
  nlohmann::json arr = nlohmann::json::array();
  (arr.push_back(nlohmann::json(args)), ...);
  return arr.dump();
}

}  // namespace runq::internal
