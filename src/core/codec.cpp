// JSON codec of task messages and result records. Encoding is hand-written because `args`
// and `value` are already JSON text and are embedded verbatim (no re-parse on the hot path);
// decoding uses nlohmann-json, after the scanner of message_scan.cpp on the worker's path.
#include <cstdint>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "core/message.hpp"
#include "core/message_scan.hpp"

namespace runq::internal {
namespace {

using nlohmann::json;

void append_escaped(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// Appends `"key":` preceded by a comma unless it is the first field.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) { out_ += '{'; }
  void str(std::string_view key, std::string_view v) { append_escaped(field(key), v); }
  void raw(std::string_view key, std::string_view json_text) { field(key) += json_text; }
  void num(std::string_view key, long long v) { field(key) += std::to_string(v); }
  void boolean(std::string_view key, bool v) { field(key) += v ? "true" : "false"; }
  void close() { out_ += '}'; }

 private:
  std::string& field(std::string_view key) {
    if (!first_) out_ += ',';
    first_ = false;
    append_escaped(out_, key);
    out_ += ':';
    return out_;
  }
  std::string& out_;
  bool first_ = true;
};

}  // namespace

std::string encode_errors(const std::vector<ErrorRecord>& errors) {
  std::string out = "[";
  for (std::size_t i = 0; i < errors.size(); ++i) {
    if (i) out += ',';
    ObjectWriter w(out);
    w.num("attempt", errors[i].attempt);
    w.str("type", errors[i].type);
    w.str("message", errors[i].message);
    w.num("at", errors[i].at);
    w.close();
  }
  out += ']';
  return out;
}

std::string encode_message(const TaskMessage& m) {
  std::string out;
  out.reserve(160 + m.id.size() + m.name.size() + m.args.size());
  ObjectWriter w(out);
  w.str("id", m.id);
  w.str("task", m.name);
  w.raw("args", m.args.empty() ? std::string_view("[]") : std::string_view(m.args));
  w.str("queue", m.queue);
  w.num("priority", m.priority);
  w.num("created", m.created);
  if (m.eta) w.num("eta", m.eta);
  if (m.expires) w.num("expires", m.expires);
  w.num("attempt", m.attempt);
  if (m.max_retries >= 0) w.num("max_retries", m.max_retries);
  if (m.ignore_result) w.boolean("ignore_result", true);
  w.num("result_ttl", m.result_ttl);
  if (!m.schedule.empty()) w.str("schedule", m.schedule);
  if (m.time_limit > 0) w.num("time_limit", m.time_limit);
  if (m.soft_time_limit > 0) w.num("soft_time_limit", m.soft_time_limit);
  if (m.crashes > 0) w.num("crashes", m.crashes);
  if (!m.errors.empty()) w.raw("errors", encode_errors(m.errors));
  if (!m.workflow.empty()) w.raw("workflow", m.workflow);
  w.close();
  return out;
}

std::string encode_result(const ResultRecord& r) {
  std::string out;
  out.reserve(160 + r.value.size() + r.error.size());
  ObjectWriter w(out);
  w.str("id", r.id);
  w.str("task", r.task);
  if (!r.queue.empty()) w.str("queue", r.queue);
  w.str("state", task_state_name(r.state));
  if (!r.value.empty()) w.raw("value", r.value);
  if (!r.error.empty() || !r.error_type.empty()) {
    w.str("error_type", r.error_type);
    w.str("error", r.error);
  }
  if (!r.errors.empty()) w.raw("errors", encode_errors(r.errors));
  if (!r.workflow.empty()) w.raw("workflow", r.workflow);
  w.num("attempts", r.attempts);
  w.num("enqueued", r.enqueued);
  w.num("started", r.started);
  w.num("finished", r.finished);
  if (r.next_run) w.num("next_run", r.next_run);
  w.str("worker", r.worker);
  w.close();
  return out;
}

namespace {

// Whether the number `v` fits the integer type T. nlohmann's get<T>() converts a float out of
// T's range with undefined behaviour and wraps a large integer, so those are checked first.
template <typename T>
bool fits(const json& v) {
  using Limits = std::numeric_limits<T>;
  if (v.is_number_float()) {
    // -min is 2^(bits-1), exact as a double; NaN fails both comparisons.
    const double d = v.get<double>();
    return d >= static_cast<double>(Limits::min()) && d < -static_cast<double>(Limits::min());
  }
  if (v.is_number_unsigned()) {
    return v.get<std::uint64_t>() <= static_cast<std::uint64_t>(Limits::max());
  }
  const std::int64_t i = v.get<std::int64_t>();
  return i >= Limits::min() && i <= Limits::max();
}

template <typename T>
T get_or(const json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    if (it->is_number() && !fits<T>(*it)) {
      throw std::out_of_range(std::string("field '") + key + "' is out of range");
    }
  }
  return it->get<T>();
}

std::vector<ErrorRecord> decode_errors(const json& j) {
  std::vector<ErrorRecord> out;
  auto it = j.find("errors");
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& e : *it) {
    out.push_back({get_or<int>(e, "attempt", 0), get_or<std::string>(e, "type", ""),
                   get_or<std::string>(e, "message", ""), get_or<Millis>(e, "at", 0)});
  }
  return out;
}

}  // namespace

Result<TaskMessage> decode_message(std::string_view body) { return decode_message(body, nullptr); }

Result<TaskMessage> decode_message(std::string_view body, json* args_out) {
  if (args_out) {  // the worker's path: most messages are in the subset the scanner reads
    TaskMessage m;
    json args;
    if (scan_message(body, &m, &args)) {
      *args_out = std::move(args);
      return m;
    }
  }
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return data_loss_error("decoding task message: not valid JSON (" + std::to_string(body.size()) +
                           " bytes; truncated or corrupted?)");
  }
  if (!j.is_object()) return data_loss_error("decoding task message: not a JSON object");
  auto id = j.find("id");
  auto name = j.find("task");
  auto args = j.find("args");
  if (id == j.end() || !id->is_string())
    return data_loss_error("decoding task message: missing string field 'id'");
  if (name == j.end() || !name->is_string())
    return data_loss_error("decoding task message: missing string field 'task'");
  if (args == j.end() || !args->is_array())
    return data_loss_error("decoding task message: field 'args' must be a JSON array");
  try {
    TaskMessage m;
    m.id = id->get<std::string>();
    m.name = name->get<std::string>();
    if (args_out) {
      *args_out = std::move(*args);
      m.args.clear();
    } else {
      m.args = args->dump();
    }
    m.queue = get_or<std::string>(j, "queue", std::string(kDefaultQueue));
    m.priority = get_or<int>(j, "priority", kDefaultPriority);
    m.created = get_or<Millis>(j, "created", 0);
    m.eta = get_or<Millis>(j, "eta", 0);
    m.expires = get_or<Millis>(j, "expires", 0);
    m.attempt = get_or<int>(j, "attempt", 1);
    m.max_retries = get_or<int>(j, "max_retries", -1);
    m.ignore_result = get_or<bool>(j, "ignore_result", false);
    m.result_ttl = get_or<Millis>(j, "result_ttl", 86'400'000);
    m.schedule = get_or<std::string>(j, "schedule", "");
    m.time_limit = get_or<Millis>(j, "time_limit", 0);
    m.soft_time_limit = get_or<Millis>(j, "soft_time_limit", 0);
    m.crashes = get_or<int>(j, "crashes", 0);
    m.errors = decode_errors(j);
    if (auto wf = j.find("workflow"); wf != j.end()) {
      if (!wf->is_object())
        return data_loss_error("decoding task message: field 'workflow' must be an object");
      m.workflow = wf->dump();
    }
    return m;
  } catch (const json::exception& e) {
    return data_loss_error(std::string("decoding task message: ") + e.what());
  } catch (const std::out_of_range& e) {
    return data_loss_error(std::string("decoding task message: ") + e.what());
  }
}

Result<ResultRecord> decode_result(std::string_view text) {
  ResultRecord r;
  if (scan_result(text, &r)) return r;  // most records: no JSON document built
  return decode_result_dom(text);
}

Result<ResultRecord> decode_result_dom(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return data_loss_error("decoding result record: not a JSON object");
  try {
    ResultRecord r;
    r.id = get_or<std::string>(j, "id", "");
    r.task = get_or<std::string>(j, "task", "");
    r.queue = get_or<std::string>(j, "queue", "");
    auto state = parse_task_state(get_or<std::string>(j, "state", ""));
    if (!state) return data_loss_error("decoding result record: unknown state");
    r.state = *state;
    if (auto v = j.find("value"); v != j.end()) r.value = v->dump();
    r.error_type = get_or<std::string>(j, "error_type", "");
    r.error = get_or<std::string>(j, "error", "");
    r.errors = decode_errors(j);
    r.attempts = get_or<int>(j, "attempts", 0);
    r.enqueued = get_or<Millis>(j, "enqueued", 0);
    r.started = get_or<Millis>(j, "started", 0);
    r.finished = get_or<Millis>(j, "finished", 0);
    r.next_run = get_or<Millis>(j, "next_run", 0);
    r.worker = get_or<std::string>(j, "worker", "");
    if (auto wf = j.find("workflow"); wf != j.end() && wf->is_object()) r.workflow = wf->dump();
    return r;
  } catch (const json::exception& e) {
    return data_loss_error(std::string("decoding result record: ") + e.what());
  } catch (const std::out_of_range& e) {
    return data_loss_error(std::string("decoding result record: ") + e.what());
  }
}

}  // namespace runq::internal
