#include "store/redis/records.hpp"

#include <nlohmann/json.hpp>
#include <span>

#include "store/redis/replies.hpp"

namespace runq::internal {
namespace {

constexpr char kSep = '\x1f';

std::int64_t parse_int_or(std::string_view s, std::int64_t fallback) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty() ? v : fallback;
}

// Splits `record` at its first separators into `parts`; the rest stays in *rest.
bool split_fields(std::string_view record, std::span<std::string_view> parts,
                  std::string_view* rest) {
  for (std::string_view& part : parts) {
    std::size_t sep = record.find(kSep);
    if (sep == std::string_view::npos) return false;
    part = record.substr(0, sep);
    record = record.substr(sep + 1);
  }
  *rest = record;
  return true;
}

}  // namespace

Result<TaskInfo> task_from_record(std::string_view id, const LiveRecord& r) {
  const std::string what = "reading task '" + std::string(id) + "'";
  // state, deliveries, token, lease expiry, priority, max, eta, progress, #queue
  std::string_view f[9];
  std::string_view rest;
  std::int64_t queue_len = -1;
  if (split_fields(r.record, f, &rest)) queue_len = parse_int_or(f[8], -1);
  if (queue_len < 0 || static_cast<std::size_t>(queue_len) > rest.size()) {
    return data_loss_error(what + ": malformed record in " + std::string(r.key));
  }
  std::optional<TaskState> state = parse_task_state(f[0]);
  if (!state) {
    return data_loss_error(what + ": unknown state '" + std::string(f[0]) + "' in " +
                           std::string(r.key));
  }
  TaskInfo info;
  info.id = std::string(id);
  info.state = *state;
  info.deliveries = static_cast<int>(parse_int_or(f[1], 0));
  info.lease_expires = parse_int_or(f[3], 0);
  info.priority = static_cast<int>(parse_int_or(f[4], 0));
  if (info.state == TaskState::kScheduled || info.state == TaskState::kRetry)
    info.eta = parse_int_or(f[6], 0);
  info.progress = parse_double_or(f[7], 0);
  info.queue = std::string(rest.substr(0, static_cast<std::size_t>(queue_len)));
  if (info.state == TaskState::kReserved)
    info.worker_id = std::string(rest.substr(static_cast<std::size_t>(queue_len)));
  info.result = std::string(r.result);
  info.dead_reason = std::string(r.reason);
  info.body = std::string(r.body);
  return info;
}

Result<TaskInfo> task_from_finished(std::string_view id, std::string_view record, Millis now) {
  std::string_view parts[5];
  std::string_view rest;
  if (!split_fields(record, parts, &rest)) {
    return data_loss_error("reading task '" + std::string(id) + "': malformed finished record");
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
                      {"expires", w.expires},
                      {"activity", w.activity}};
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
  w.activity = j.value("activity", "");
  return w;
}

}  // namespace runq::internal
