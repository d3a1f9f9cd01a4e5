// JSON in and out for the HTTP handlers: the error shape every route answers with
// (`{"error": {"code": "...", "message": "..."}}`), the mapping of runq::Status codes to HTTP
// statuses, strict request parsing, times, and the JSON form of a task.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "http/routes.hpp"
#include "runq/result.hpp"
#include "runq/status.hpp"

namespace runq::internal {

// `value` as the body, with `status`.
HttpResponse json_response(int status, const nlohmann::json& value);
// The error shape: {"error": {"code": code, "message": message}}.
HttpResponse error_response(int status, std::string_view code, std::string_view message);
// How long a client is asked to wait (Retry-After, seconds) when there is no room: a bounded
// queue drains at thousands of tasks a second, so a second is long enough to find room again
// and short enough not to leave a worker idle.
inline constexpr int kRetryAfterFullSeconds = 1;
// The same when the store is out of space (a full disk, Redis at maxmemory): that takes an
// operator or a cleanup, so clients are asked to come back much later.
inline constexpr int kRetryAfterStoreFullSeconds = 30;

// A runq::Status as an error response: InvalidArgument 400, NotFound 404, AlreadyExists and
// FailedPrecondition 409, TooLarge 413, ResourceExhausted 429 "resource_exhausted" with
// Retry-After (the enqueue routes say more: queue_full or store_full), Unavailable 503,
// DeadlineExceeded 504, anything else 500. REQUIRES: !status.ok().
HttpResponse status_response(const Status& status);

// The request body as a JSON object. Errors: InvalidArgument for an empty body, malformed JSON
// (with the parser's position), invalid UTF-8, or a value that is not an object.
Result<nlohmann::json> parse_object(std::string_view body);
// InvalidArgument naming the first key of `object` that is not in `allowed`.
Status check_fields(const nlohmann::json& object, std::initializer_list<std::string_view> allowed,
                    std::string_view what);

// A time given as an ISO 8601 string ("2026-01-01T00:00:00Z", "...+02:00", fractions allowed)
// or as a number of ms since the Unix epoch. Errors: InvalidArgument naming `field`.
Result<Millis> parse_time_field(const nlohmann::json& value, std::string_view field);
// A duration given as a number of seconds (fractions allowed) or a string ("250ms", "10s",
// "1h30m"). Errors: InvalidArgument naming `field`, also for a negative value.
Result<Millis> parse_duration_field(const nlohmann::json& value, std::string_view field);
// ISO 8601 UTC with milliseconds for a time, null for 0.
nlohmann::json iso_time_json(Millis t);

// A task's status as the API returns it (docs/http-api.md, "Task").
nlohmann::json task_json(const TaskStatus& status);

}  // namespace runq::internal
