// The HTTP API's request handlers (src/http/*_routes.cpp), called through the route table the
// server serves, on an App with an in-process store. The input picks a route and gives its
// path parameters, query and body:
//
//   byte 0         route index (modulo the number of routes)
//   line 1         path parameters, `name=value&...` (a missing or empty one is "x")
//   line 2         query, `name=value&...`
//   the rest       body
//
// Every answer is a status in 200..599 with a JSON body (the stream of /api/v1/events is not
// run); an error is the documented shape {"error": {"code": "...", "message": "..."}} and never
// a 500: bad input is the caller's fault, never the server's. `wait` is dropped from the query
// (a long poll would stall the fuzzer; durations have their own target).
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_target.hpp"
#include "http/routes.hpp"
#include "runq/app.hpp"

namespace {

std::map<std::string, std::string> parse_pairs(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    std::size_t amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text.remove_prefix(amp == std::string_view::npos ? text.size() : amp + 1);
    std::size_t eq = pair.find('=');
    std::string key(pair.substr(0, eq));
    std::string value(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    out.emplace(std::move(key), std::move(value));
  }
  return out;
}

std::string_view next_line(std::string_view& text) {
  std::size_t nl = text.find('\n');
  std::string_view line = text.substr(0, nl);
  text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  return line;
}

}  // namespace

RUNQ_FUZZ_TARGET(http) {
  if (size == 0) return 0;
  runq::AppOptions options;
  options.store_url = "memory:";
  runq::App app(options);
  runq::internal::ApiContext ctx{app, runq::ServeOptions{}};
  const std::vector<runq::internal::Route> routes = runq::internal::all_routes(ctx);
  const runq::internal::Route& route = routes[data[0] % routes.size()];

  std::string_view rest = runq::fuzz::as_text(data + 1, size - 1);
  runq::internal::HttpRequest req;
  req.method = route.method;
  req.path = route.pattern;
  req.params = parse_pairs(next_line(rest));
  // The server always fills every {name} of the pattern with a non-empty segment.
  for (std::size_t open = route.pattern.find('{'); open != std::string::npos;
       open = route.pattern.find('{', open + 1)) {
    std::size_t close = route.pattern.find('}', open);
    std::string& value = req.params[route.pattern.substr(open + 1, close - open - 1)];
    if (value.empty() || value.find('/') != std::string::npos) value = "x";
  }
  req.query = parse_pairs(next_line(rest));
  req.query.erase("wait");
  req.body = std::string(rest);
  req.scope = runq::internal::Scope::kAdmin;

  runq::internal::HttpResponse res = route.handler(req);
  RUNQ_FUZZ_CHECK(res.status >= 200 && res.status <= 599);
  RUNQ_FUZZ_CHECK(res.status != 500);
  if (res.stream) return 0;
  if (res.content_type.starts_with("application/json")) {
    nlohmann::json body = nlohmann::json::parse(res.body, nullptr, /*allow_exceptions=*/false);
    RUNQ_FUZZ_CHECK(!body.is_discarded());
    if (res.status >= 400) {
      RUNQ_FUZZ_CHECK(body.is_object() && body.contains("error"));
      const nlohmann::json& e = body["error"];
      RUNQ_FUZZ_CHECK(e.is_object() && e.contains("code") && e["code"].is_string());
      RUNQ_FUZZ_CHECK(e.contains("message") && e["message"].is_string());
    }
  }
  return 0;
}
