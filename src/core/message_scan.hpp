// Fast paths for decoding a task message and a result record. The worker's for a message: a scanner
// of the top-level fields that hands only `args` to the JSON parser. It accepts a strict subset of
// JSON messages (what encode_message writes: ASCII strings without escapes, integers, each known
// field at most once, no `errors`) and returns false for anything else, which decode_message then
// decodes with the general parser. So both paths give the same result for every input.
#pragma once

#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "core/message.hpp"

namespace runq::internal {

// Fills *m and *args (the argument array) and returns true, or returns false (leaving *m and
// *args unspecified) when the message is not in the subset described above. With `args` null
// the argument array is skipped, not parsed (its brackets must still balance).
bool scan_message(std::string_view body, TaskMessage* m, nlohmann::json* args);

// The same for a result record (what encode_result writes: each known field at most once, no
// `errors`, strings without escapes; `value` and `workflow` any JSON, printed as the general
// decoder prints them). Fills *r and returns true, or returns false for anything else, which
// decode_result then decodes with the general parser: both paths agree on every input.
bool scan_result(std::string_view text, ResultRecord* r);

}  // namespace runq::internal
