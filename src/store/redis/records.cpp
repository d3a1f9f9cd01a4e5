#include "store/redis/records.hpp"

#include <nlohmann/json.hpp>

#include "store/redis/replies.hpp"

namespace runq::internal {
namespace {

constexpr char kSep = '\x1f';

// Fills one TaskInfo field from a hash field of P t:<id>.
void apply_task_field(TaskInfo& info, std::string_view field, const redisReply* value,
                      std::string* state) {
  std::string_view text = reply_text(value);
  if (field == "s")
    *state = std::string(text);
  else if (field == "q")
    info.queue = std::string(text);
  else if (field == "p")
    info.priority = static_cast<int>(reply_int_or(value, 0));
  else if (field == "eta")
    info.eta = reply_int_or(value, 0);
  else if (field == "d")
    info.deliveries = static_cast<int>(reply_int_or(value, 0));
  else if (field == "w")
    info.worker_id = std::string(text);
  else if (field == "le")
    info.lease_expires = reply_int_or(value, 0);
  else if (field == "pr")
    info.progress = parse_double_or(text, 0);
  else if (field == "r")
    info.result = std::string(text);
  else if (field == "why")
    info.dead_reason = std::string(text);
  else if (field == "b")
    info.body = std::string(text);
}

std::int64_t parse_int_or(std::string_view s, std::int64_t fallback) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty() ? v : fallback;
}

}  // namespace

Result<TaskInfo> task_from_hash(std::string_view id, const redisReply* pairs,
                                std::string_view key) {
  TaskInfo info;
  info.id = std::string(id);
  std::string state;
  for (std::size_t i = 0; i + 1 < pairs->elements; i += 2) {
    apply_task_field(info, reply_text(pairs->element[i]), pairs->element[i + 1], &state);
  }
  std::optional<TaskState> parsed = parse_task_state(state);
  if (!parsed) {
    return data_loss_error("reading task '" + std::string(id) + "': unknown state '" + state +
                           "' in " + std::string(key));
  }
  info.state = *parsed;
  if (info.state != TaskState::kScheduled && info.state != TaskState::kRetry) info.eta = 0;
  if (info.state != TaskState::kReserved) info.worker_id.clear();
  return info;
}

Result<TaskInfo> task_from_finished(std::string_view id, std::string_view record, Millis now) {
  std::string_view parts[5];
  std::string_view rest = record;
  for (std::string_view& part : parts) {
    std::size_t sep = rest.find(kSep);
    if (sep == std::string_view::npos) {
      return data_loss_error("reading task '" + std::string(id) + "': malformed finished record");
    }
    part = rest.substr(0, sep);
    rest = rest.substr(sep + 1);
  }
  if (parse_int_or(parts[1], INT64_MAX) <= now) {
    return not_found_error("reading task '" + std::string(id) + "': its result expired");
  }
  std::optional<TaskState> state = parse_task_state(parts[0]);
  if (!state) {
    return data_loss_error("reading task '" + std::string(id) + "': unknown state '" +
                           std::string(parts[0]) + "'");
  }
  TaskInfo info;
  info.id = std::string(id);
  info.state = *state;
  info.deliveries = static_cast<int>(parse_int_or(parts[2], 0));
  info.priority = static_cast<int>(parse_int_or(parts[3], 0));
  info.progress = parse_double_or(parts[4], 0);
  info.result = std::string(rest);
  return info;
}

std::string worker_to_json(const WorkerInfo& w) {
  nlohmann::json j = {{"id", w.id},
                      {"host", w.host},
                      {"pid", w.pid},
                      {"queues", w.queues},
                      {"concurrency", w.concurrency},
                      {"running", w.running},
                      {"processed", w.processed},
                      {"failed", w.failed},
                      {"started", w.started},
                      {"last_seen", w.last_seen},
                      {"expires", w.expires}};
  return j.dump();
}

std::optional<WorkerInfo> worker_from_json(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  WorkerInfo w;
  w.id = j.value("id", "");
  w.host = j.value("host", "");
  w.pid = j.value("pid", 0);
  w.queues = j.value("queues", std::vector<std::string>{});
  w.concurrency = j.value("concurrency", 0);
  w.running = j.value("running", 0);
  w.processed = j.value("processed", std::uint64_t{0});
  w.failed = j.value("failed", std::uint64_t{0});
  w.started = j.value("started", Millis{0});
  w.last_seen = j.value("last_seen", Millis{0});
  w.expires = j.value("expires", Millis{0});
  return w;
}

}  // namespace runq::internal
