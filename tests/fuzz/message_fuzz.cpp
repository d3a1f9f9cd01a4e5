// The task message decoder: the worker's scanner (core/message_scan.cpp) and the general
// decoder agree on every input, and a message that decodes re-encodes to the same message.
#include <nlohmann/json.hpp>

#include "core/message.hpp"
#include "fuzz/fuzz_target.hpp"

namespace {

using runq::internal::TaskMessage;

// Every field but `args`, which the callers compare as parsed JSON. encode_message leaves
// out a negative max_retries (it means "the task's option"), so all negatives are alike.
bool same_fields(const TaskMessage& a, const TaskMessage& b) {
  return a.id == b.id && a.name == b.name && a.queue == b.queue && a.priority == b.priority &&
         a.created == b.created && a.eta == b.eta && a.expires == b.expires &&
         a.attempt == b.attempt && std::max(a.max_retries, -1) == std::max(b.max_retries, -1) &&
         a.ignore_result == b.ignore_result && a.result_ttl == b.result_ttl &&
         a.schedule == b.schedule && a.errors == b.errors;
}

}  // namespace

RUNQ_FUZZ_TARGET(message) {
  const std::string_view body = runq::fuzz::as_text(data, size);
  nlohmann::json fast_args;
  runq::Result<TaskMessage> fast = runq::internal::decode_message(body, &fast_args);
  runq::Result<TaskMessage> general = runq::internal::decode_message(body);
  RUNQ_FUZZ_CHECK(fast.ok() == general.ok());
  if (!general.ok()) {
    RUNQ_FUZZ_CHECK(runq::is_data_loss(general.status()));
    RUNQ_FUZZ_CHECK(runq::is_data_loss(fast.status()));
    return 0;
  }
  RUNQ_FUZZ_CHECK(same_fields(*fast, *general));
  RUNQ_FUZZ_CHECK(fast_args == nlohmann::json::parse(general->args));

  runq::Result<TaskMessage> again =
      runq::internal::decode_message(runq::internal::encode_message(*general));
  RUNQ_FUZZ_CHECK(again.ok());
  RUNQ_FUZZ_CHECK(same_fields(*again, *general));
  RUNQ_FUZZ_CHECK(again->args == general->args);
  return 0;
}
