#include "http/json_io.hpp"

#include <cmath>

#include "core/duration.hpp"

namespace runq::internal {

HttpResponse json_response(int status, const nlohmann::json& value) {
  HttpResponse r;
  r.status = status;
  // Replace, never throw, on invalid UTF-8 that a task stored (its args or error text).
  r.body = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

HttpResponse error_response(int status, std::string_view code, std::string_view message) {
  return json_response(status, {{"error", {{"code", code}, {"message", message}}}});
}

HttpResponse status_response(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
      return error_response(400, "invalid_argument", s.message());
    case StatusCode::kNotFound:
      return error_response(404, "not_found", s.message());
    case StatusCode::kAlreadyExists:
      return error_response(409, "already_exists", s.message());
    case StatusCode::kFailedPrecondition:
      return error_response(409, "failed_precondition", s.message());
    case StatusCode::kTooLarge:
      return error_response(413, "too_large", s.message());
    case StatusCode::kResourceExhausted: {
      HttpResponse r = error_response(429, "resource_exhausted", s.message());
      r.headers.emplace_back("Retry-After", std::to_string(kRetryAfterFullSeconds));
      return r;
    }
    case StatusCode::kUnavailable:
      return error_response(503, "store_unavailable", s.message());
    case StatusCode::kDeadlineExceeded:
      return error_response(504, "deadline_exceeded", s.message());
    default:
      return error_response(500, "internal", s.message());
  }
}

Result<nlohmann::json> parse_object(std::string_view body) {
  if (body.empty()) return invalid_argument_error("the request body is empty: send a JSON object");
  try {
    nlohmann::json j = nlohmann::json::parse(body);
    if (!j.is_object()) {
      return invalid_argument_error(std::string("the request body must be a JSON object, not ") +
                                    j.type_name());
    }
    return j;
  } catch (const nlohmann::json::exception& e) {
    // The parser's message names the byte offset and, for bad UTF-8, the offending bytes.
    return invalid_argument_error(std::string("the request body is not valid JSON: ") + e.what());
  }
}

Status check_fields(const nlohmann::json& object, std::initializer_list<std::string_view> allowed,
                    std::string_view what) {
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (!known) {
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return invalid_argument_error(std::string(what) + ": unknown field '" + key +
                                    "' (known: " + list + ")");
    }
  }
  return Status();
}

Result<Millis> parse_time_field(const nlohmann::json& v, std::string_view field) {
  if (v.is_number_integer() && v.get<long long>() >= 0 && v.get<long long>() < kTimeCeiling) {
    return Millis(v.get<long long>());
  }
  if (v.is_string()) {
    Result<Millis> t = parse_iso_time(v.get<std::string>());
    if (t.ok()) return t;
    return t.status().with_context(std::string(field));
  }
  return invalid_argument_error(std::string(field) + ": expected an ISO 8601 time such as " +
                                "\"2026-01-01T08:00:00Z\" or ms since the Unix epoch, got " +
                                v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Result<Millis> parse_duration_field(const nlohmann::json& v, std::string_view field) {
  if (v.is_number() && std::isfinite(v.get<double>()) && v.get<double>() >= 0 &&
      v.get<double>() < 1e9) {
    return Millis(std::llround(v.get<double>() * 1000));
  }
  if (v.is_string()) {
    Result<Millis> d = parse_duration(v.get<std::string>());
    if (!d.ok()) return d.status().with_context(std::string(field));
    return d;
  }
  return invalid_argument_error(std::string(field) +
                                ": expected seconds (a number >= 0) or a duration such as "
                                "\"10s\", got " +
                                v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

nlohmann::json iso_time_json(Millis t) {
  if (t <= 0) return nullptr;
  return format_time(t);
}

namespace {

nlohmann::json value_json(const std::string& text) {
  if (text.empty()) return nullptr;
  nlohmann::json v = nlohmann::json::parse(text, nullptr, false);
  return v.is_discarded() ? nlohmann::json(text) : v;
}

}  // namespace

nlohmann::json task_json(const TaskStatus& st) {
  nlohmann::json errors = nlohmann::json::array();
  for (const AttemptError& e : st.errors) {
    errors.push_back({{"attempt", e.attempt},
                      {"type", e.type},
                      {"message", e.message},
                      {"at", iso_time_json(e.at)}});
  }
  return {{"id", st.id},
          {"task", st.task},
          {"state", task_state_name(st.state)},
          {"final", is_final(st.state)},
          {"result", value_json(st.value)},
          {"error_type", st.error_type},
          {"error", st.error},
          {"errors", errors},
          {"attempts", st.attempts},
          {"progress", st.progress},
          {"queue", st.queue},
          {"worker", st.worker},
          {"enqueued", iso_time_json(st.enqueued)},
          {"started", iso_time_json(st.started)},
          {"finished", iso_time_json(st.finished)},
          {"next_run", iso_time_json(st.next_run)},
          {"dead_reason", st.dead_reason},
          {"args", value_json(st.args)}};
}

}  // namespace runq::internal
