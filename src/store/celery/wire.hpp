// Celery protocol v2 on the Redis transport (kombu), as the celery+redis:// store reads and
// writes it: the list element ("envelope"), the result-backend meta, and the small codecs they
// need (base64, ISO-8601 times, uuid4). docs/celery.md describes the mapping to runq.
//
// Thread safety: plain values and pure functions (uuid4() uses a thread-local generator).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runq/clock.hpp"
#include "runq/status.hpp"
#include "runq/store.hpp"

namespace runq::internal::celery {

// kombu's separator of priority list names ("celery\x06\x163").
inline constexpr std::string_view kPrioritySep = "\x06\x16";

// The Redis list that holds messages of `queue` with Celery priority `priority` (0..9, clamped):
// the bare name for 0-2, then "<queue>\x06\x163", "...6", "...9". Consumers pop them in that
// order, so on Redis a lower Celery priority runs first.
std::string priority_list(std::string_view queue, int priority);
// The four lists of `queues`, in the order kombu's BRPOP names them (priority dominates).
std::vector<std::string> consume_order(const std::vector<std::string>& queues);

// One Celery task message, decoded from a list element.
struct Message {
  std::string raw;            // the list element as read
  std::string delivery_tag;   // properties.delivery_tag
  std::string exchange;       // properties.delivery_info.exchange
  std::string routing_key;    // properties.delivery_info.routing_key (the queue)
  std::string id;             // headers.id
  std::string task;           // headers.task
  std::string args = "[]";    // JSON array text
  std::string kwargs = "{}";  // JSON object text
  std::string embed = "{}";   // JSON object text: callbacks, errbacks, chain, chord
  Millis eta = 0;             // 0 = none
  Millis expires = 0;         // 0 = none
  int retries = 0;
  int priority = 0;            // properties.priority (Celery's: 0 runs first)
  Millis time_limit = 0;       // headers.timelimit[0], ms; 0 = none
  Millis soft_time_limit = 0;  // headers.timelimit[1]
  bool ignore_result = false;
  bool redelivered = false;
  std::string group;     // headers.group
  int group_index = -1;  // headers.group_index; -1 = none
  std::string root_id;
  std::string parent_id;
};

// Decodes a list element. Errors: DataLoss with a reason a user can act on ("envelope is not
// JSON: ...", "headers.id is missing", "body is not valid base64", "content-type
// 'application/x-python-serialize' is not accepted (only application/json)", "headers.eta
// 'tomorrow' is not an ISO-8601 time", ...). A protocol-1 style body (a JSON object with
// "args"/"kwargs") is accepted, as Celery accepts it.
Result<Message> decode_message(std::string_view raw);

// The runq task arguments of `m`: its positional args followed by the values of its kwargs in
// the order the sender wrote them, or by name when `names` (the task's parameter names, in
// order) is not empty. Errors: InvalidArgument for a kwarg that names no parameter, or one
// given both by position and by name.
Result<std::string> bind_arguments(const Message& m, const std::vector<std::string>& names);

// What a producer sends: the fields of a new message.
struct Outgoing {
  std::string id;
  std::string task;
  std::string args = "[]";    // JSON array text
  std::string kwargs = "{}";  // JSON object text
  std::string embed;          // JSON object text; empty = all four null
  std::string queue = "celery";
  int priority = 0;  // Celery's 0..9
  Millis eta = 0;
  Millis expires = 0;
  int retries = 0;
  Millis time_limit = 0;
  Millis soft_time_limit = 0;
  bool ignore_result = false;
  std::string group;
  int group_index = -1;
  std::string root_id;    // empty = id
  std::string parent_id;  // empty = null
  std::string origin;     // "<pid>@<host>"
};
// A full protocol-v2 envelope, as Celery 5.2 writes it (base64 body, fresh delivery_tag).
std::string encode_message(const Outgoing& m);
// The same message sent again as Celery's Task.retry() sends it: retries + 1, eta, parent_id =
// its own id, a fresh delivery_tag, no redelivered flags.
std::string retry_message(const Message& m, Millis eta);

// Canvas: the messages a finished task sends on (Celery's link, link_error, chain and chord).
struct FollowUp {
  std::string list;     // where to LPUSH it
  std::string element;  // the envelope
  std::string id;       // its task id
};
// After a success with return value `value_json`: each link callback, and the next step of
// the chain (its id is also the task's `children`), with the value prepended to their args
// unless they are immutable. Signatures that cannot be read are skipped and named in
// `*errors`.
std::vector<FollowUp> on_success(const Message& m, std::string_view value_json,
                                 std::vector<std::string>* errors);
// After a failure: each link_error callback, called with the task id prepended, as Celery
// calls old-style errbacks.
std::vector<FollowUp> on_failure(const Message& m, std::vector<std::string>* errors);
// The chord body of a chord header task (embed.chord), or empty.
std::string chord_body(const Message& m);
// The chord body sent with `results_json` (a JSON array, in group_index order) prepended.
std::optional<FollowUp> chord_message(const Message& m, std::string_view body_json,
                                      std::string_view results_json);

// The result-backend meta of one task.
struct Meta {
  std::string status;       // "SUCCESS", "FAILURE", "RETRY", "REVOKED", "STARTED"
  std::string result_json;  // JSON text: the value, or an exception dict from exception_json
  std::string traceback;    // empty = null
  std::string children_json = "[]";
  Millis date_done = 0;  // 0 = null (not ready)
  std::string group_id;
  std::string parent_id;
  std::string task_id;
};
// The value of celery-task-meta-<id>, keys in Celery's order.
std::string encode_meta(const Meta& m);
// {"exc_type": type, "exc_message": [message], "exc_module": module}.
std::string exception_json(std::string_view type, std::string_view message,
                           std::string_view module);
// A stored meta read back: status, result JSON text, exception type and message.
struct MetaView {
  std::string status;
  std::string result_json;
  std::string exc_type;
  std::string exc_message;
};
Result<MetaView> decode_meta(std::string_view text);

// Base64 (RFC 4648, with padding). decode: nullopt for anything else.
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);
// "2026-11-29T16:40:29.504876+00:00" (or "Z", or no offset = UTC) -> ms since the epoch.
std::optional<Millis> parse_iso_time(std::string_view text);
// ms since the epoch -> "2026-11-29T16:40:29.504000+00:00" (with_offset) or naive
// "2026-11-29T16:40:29.504000" (Celery's date_done).
std::string format_iso_time(Millis ms, bool with_offset);
// A random RFC 4122 version-4 uuid, lowercase.
std::string uuid4();

}  // namespace runq::internal::celery
