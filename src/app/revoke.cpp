// App::revoke: builds the REVOKED result record and asks the store to revoke the task.
#include "core/message.hpp"
#include "runq/app.hpp"
#include "runq/error.hpp"

namespace runq {

Result<TaskState> App::revoke(std::string_view id, const RevokeOptions& options) {
  std::shared_ptr<Store> s;
  try {
    s = store();
  } catch (const Error& e) {
    return e.status();
  }
  const Millis now = clock().now_ms();
  // The task's name and result ttl come from its message, when the store still has it.
  internal::ResultRecord rec;
  rec.id = std::string(id);
  rec.state = TaskState::kRevoked;
  rec.error_type = "runq::Revoked";
  rec.error = options.terminate ? "revoked (terminate)" : "revoked";
  rec.finished = now;
  Revocation r;
  r.id = std::string(id);
  r.terminate = options.terminate;
  if (Result<TaskInfo> info = s->get_task(id, now); info.ok() && !info->body.empty()) {
    if (Result<internal::TaskMessage> msg = internal::decode_message(info->body); msg.ok()) {
      rec.task = msg->name;
      rec.queue = msg->queue;
      rec.enqueued = msg->created;
      rec.attempts = msg->attempt;
      rec.errors = msg->errors;
      r.result_ttl = msg->result_ttl;
    }
  }
  r.result = internal::encode_result(rec);
  return s->revoke(r, now);
}

}  // namespace runq
