#include "store/celery/wire.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>

#include <nlohmann/json.hpp>

#include "core/duration.hpp"

namespace runq::internal::celery {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

Status bad(std::string why) { return data_loss_error("decoding celery message: " + why); }

std::string string_or_empty(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Seconds (int, float or null) -> ms; 0 for null or anything else.
Millis seconds_ms(const json& v) {
  if (!v.is_number()) return 0;
  double s = v.get<double>();
  return std::isfinite(s) && s > 0 ? static_cast<Millis>(s * 1000.0) : 0;
}

Result<Millis> header_time(const json& headers, const char* key) {
  auto it = headers.find(key);
  if (it == headers.end() || it->is_null()) return Millis{0};
  if (!it->is_string()) return bad(std::string("headers.") + key + " is not a string");
  std::optional<Millis> t = parse_iso_time(it->get<std::string>());
  if (!t) {
    return bad(std::string("headers.") + key + " '" + it->get<std::string>() +
               "' is not an ISO-8601 time");
  }
  return *t;
}

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

std::string priority_list(std::string_view queue, int priority) {
  priority = std::clamp(priority, 0, 9);
  int step = priority >= 9 ? 9 : priority >= 6 ? 6 : priority >= 3 ? 3 : 0;
  std::string out(queue);
  if (step > 0) {
    out += kPrioritySep;
    out += static_cast<char>('0' + step);
  }
  return out;
}

std::vector<std::string> consume_order(const std::vector<std::string>& queues) {
  std::vector<std::string> out;
  for (int step : {0, 3, 6, 9}) {
    for (const std::string& q : queues) out.push_back(priority_list(q, step));
  }
  return out;
}

Result<Message> decode_message(std::string_view raw) {
  json env = json::parse(raw, nullptr, false);
  if (env.is_discarded()) return bad("envelope is not JSON");
  if (!env.is_object()) return bad("envelope is not a JSON object");
  Message m;
  m.raw = std::string(raw);
  auto props = env.find("properties");
  if (props == env.end() || !props->is_object()) return bad("properties is missing");
  m.delivery_tag = string_or_empty(*props, "delivery_tag");
  if (m.delivery_tag.empty()) return bad("properties.delivery_tag is missing");
  auto info = props->find("delivery_info");
  if (info == props->end() || !info->is_object()) return bad("properties.delivery_info is missing");
  m.exchange = string_or_empty(*info, "exchange");
  m.routing_key = string_or_empty(*info, "routing_key");
  if (auto r = info->find("redelivered"); r != info->end() && r->is_boolean()) {
    m.redelivered = r->get<bool>();
  }
  if (auto p = props->find("priority"); p != props->end() && p->is_number_integer()) {
    m.priority = static_cast<int>(std::clamp<std::int64_t>(p->get<std::int64_t>(), 0, 9));
  }
  auto headers = env.find("headers");
  if (headers == env.end() || !headers->is_object()) return bad("headers are missing");
  m.task = string_or_empty(*headers, "task");
  if (m.task.empty()) return bad("headers.task is missing (not a Celery task message)");
  m.id = string_or_empty(*headers, "id");
  if (m.id.empty()) return bad("headers.id is missing");
  std::string type = string_or_empty(env, "content-type");
  if (!type.empty() && type != "application/json") {
    return bad("content-type '" + type + "' is not accepted (only application/json)");
  }
  RUNQ_ASSIGN_OR_RETURN(m.eta, header_time(*headers, "eta"));
  RUNQ_ASSIGN_OR_RETURN(m.expires, header_time(*headers, "expires"));
  if (auto r = headers->find("retries"); r != headers->end() && r->is_number_integer()) {
    m.retries = static_cast<int>(std::clamp<std::int64_t>(r->get<std::int64_t>(), 0, 1'000'000));
  }
  if (auto tl = headers->find("timelimit"); tl != headers->end() && tl->is_array()) {
    if (tl->size() > 0) m.time_limit = seconds_ms((*tl)[0]);
    if (tl->size() > 1) m.soft_time_limit = seconds_ms((*tl)[1]);
  }
  if (auto ir = headers->find("ignore_result"); ir != headers->end() && ir->is_boolean()) {
    m.ignore_result = ir->get<bool>();
  }
  if (auto gi = headers->find("group_index"); gi != headers->end() && gi->is_number_integer()) {
    m.group_index =
        static_cast<int>(std::clamp<std::int64_t>(gi->get<std::int64_t>(), -1, 1'000'000'000));
  }
  m.group = string_or_empty(*headers, "group");
  m.root_id = string_or_empty(*headers, "root_id");
  m.parent_id = string_or_empty(*headers, "parent_id");

  auto body_it = env.find("body");
  if (body_it == env.end() || !body_it->is_string()) return bad("body is missing");
  std::string body = body_it->get<std::string>();
  if (string_or_empty(*props, "body_encoding") == "base64") {
    std::optional<std::string> decoded = base64_decode(body);
    if (!decoded) return bad("body is not valid base64");
    body = std::move(*decoded);
  }
  json b = json::parse(body, nullptr, false);
  if (b.is_discarded()) return bad("body is not JSON");
  if (b.is_array()) {
    if (b.size() < 2 || !b[0].is_array() || !b[1].is_object()) {
      return bad("body is not [args, kwargs, embed]");
    }
    m.args = b[0].dump();
    m.kwargs = b[1].dump();
    if (b.size() > 2 && b[2].is_object()) m.embed = b[2].dump();
  } else if (b.is_object()) {  // protocol-1 style body, as Celery accepts it
    auto a = b.find("args");
    auto k = b.find("kwargs");
    if (a != b.end() && a->is_array()) m.args = a->dump();
    if (k != b.end() && k->is_object()) m.kwargs = k->dump();
  } else {
    return bad("body is not [args, kwargs, embed]");
  }
  return m;
}

Result<std::string> bind_arguments(const Message& m, const std::vector<std::string>& names) {
  json args = json::parse(m.args);
  // ordered_json keeps the kwargs in the order the sender wrote them.
  ordered_json kwargs = ordered_json::parse(m.kwargs);
  if (kwargs.empty()) return m.args;
  if (names.empty()) {
    for (auto& [key, value] : kwargs.items()) args.push_back(json::parse(value.dump()));
    return args.dump();
  }
  std::vector<std::optional<json>> slots(std::max(names.size(), args.size()));
  for (std::size_t i = 0; i < args.size(); ++i) slots[i] = args[i];
  for (auto& [key, value] : kwargs.items()) {
    auto it = std::find(names.begin(), names.end(), key);
    if (it == names.end()) {
      return invalid_argument_error("binding arguments of " + m.task + ": unexpected keyword '" +
                                    key + "'");
    }
    std::size_t i = static_cast<std::size_t>(it - names.begin());
    if (slots[i]) {
      return invalid_argument_error("binding arguments of " + m.task + ": '" + key +
                                    "' given by position and by keyword");
    }
    slots[i] = json::parse(value.dump());
  }
  json out = json::array();
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (!slots[i]) {
      // Missing parameters stop the list; the task's own argument check reports them.
      break;
    }
    out.push_back(*slots[i]);
  }
  return out.dump();
}

std::string encode_message(const Outgoing& m) {
  ordered_json embed = m.embed.empty() ? ordered_json{{"callbacks", nullptr},
                                                      {"errbacks", nullptr},
                                                      {"chain", nullptr},
                                                      {"chord", nullptr}}
                                       : ordered_json::parse(m.embed);
  ordered_json body = ordered_json::array(
      {ordered_json::parse(m.args), ordered_json::parse(m.kwargs), std::move(embed)});
  auto null_or = [](const std::string& s) -> ordered_json {
    return s.empty() ? ordered_json(nullptr) : ordered_json(s);
  };
  auto time_or_null = [](Millis t) -> ordered_json {
    return t > 0 ? ordered_json(format_iso_time(t, true)) : ordered_json(nullptr);
  };
  auto limit = [](Millis ms) -> ordered_json {
    return ms > 0 ? ordered_json(static_cast<double>(ms) / 1000.0) : ordered_json(nullptr);
  };
  ordered_json headers = {
      {"lang", "py"},
      {"task", m.task},
      {"id", m.id},
      {"shadow", nullptr},
      {"eta", time_or_null(m.eta)},
      {"expires", time_or_null(m.expires)},
      {"group", null_or(m.group)},
      {"group_index", m.group_index >= 0 ? ordered_json(m.group_index) : ordered_json(nullptr)},
      {"retries", m.retries},
      {"timelimit", ordered_json::array({limit(m.time_limit), limit(m.soft_time_limit)})},
      {"root_id", m.root_id.empty() ? m.id : m.root_id},
      {"parent_id", null_or(m.parent_id)},
      {"argsrepr", m.args},
      {"kwargsrepr", m.kwargs},
      {"origin", m.origin.empty() ? std::to_string(::getpid()) + "@runq" : m.origin},
      {"ignore_result", m.ignore_result},
  };
  ordered_json env = {
      {"body", base64_encode(body.dump(-1, ' ', false, json::error_handler_t::replace))},
      {"content-encoding", "utf-8"},
      {"content-type", "application/json"},
      {"headers", std::move(headers)},
      {"properties",
       {{"correlation_id", m.id},
        {"reply_to", uuid4()},
        {"delivery_mode", 2},
        {"delivery_info", {{"exchange", ""}, {"routing_key", m.queue}}},
        {"priority", std::clamp(m.priority, 0, 9)},
        {"body_encoding", "base64"},
        {"delivery_tag", uuid4()}}},
  };
  return env.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string retry_message(const Message& m, Millis eta) {
  ordered_json env = ordered_json::parse(m.raw);
  ordered_json& h = env["headers"];
  h["retries"] = m.retries + 1;
  h["eta"] = format_iso_time(eta, true);
  h["parent_id"] = m.id;
  h.erase("redelivered");
  ordered_json& p = env["properties"];
  p["delivery_tag"] = uuid4();
  if (p.contains("delivery_info") && p["delivery_info"].is_object()) {
    p["delivery_info"].erase("redelivered");
  }
  return env.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

// One signature ({"task","args","kwargs","options","immutable",...}) as a message, with
// `prepend` (a JSON value; discarded = none) put before its args.
std::optional<FollowUp> signature_message(const json& sig, const json& prepend, const Message& m,
                                          const json& chain_rest) {
  if (!sig.is_object() || !sig.contains("task") || !sig["task"].is_string()) return std::nullopt;
  json args = sig.contains("args") && sig["args"].is_array() ? sig["args"] : json::array();
  json kwargs =
      sig.contains("kwargs") && sig["kwargs"].is_object() ? sig["kwargs"] : json::object();
  json options =
      sig.contains("options") && sig["options"].is_object() ? sig["options"] : json::object();
  auto im = sig.find("immutable");
  bool immutable = im != sig.end() && im->is_boolean() && im->get<bool>();
  if (!prepend.is_discarded() && !immutable) args.insert(args.begin(), prepend);
  Outgoing out;
  out.id = options.contains("task_id") && options["task_id"].is_string()
               ? options["task_id"].get<std::string>()
               : uuid4();
  out.task = sig["task"].get<std::string>();
  out.args = args.dump();
  out.kwargs = kwargs.dump();
  out.queue = options.contains("queue") && options["queue"].is_string()
                  ? options["queue"].get<std::string>()
                  : m.routing_key;
  out.priority = options.contains("priority") && options["priority"].is_number_integer()
                     ? static_cast<int>(
                           std::clamp<std::int64_t>(options["priority"].get<std::int64_t>(), 0, 9))
                     : 0;
  out.root_id = m.root_id.empty() ? m.id : m.root_id;
  out.parent_id = m.id;
  if (options.contains("group_id") && options["group_id"].is_string()) {
    out.group = options["group_id"].get<std::string>();
  }
  json embed = {
      {"callbacks", options.contains("link") ? options["link"] : json(nullptr)},
      {"errbacks", options.contains("link_error") ? options["link_error"] : json(nullptr)},
      {"chain", chain_rest},
      {"chord", options.contains("chord") ? options["chord"] : json(nullptr)}};
  if (embed["callbacks"].is_object()) embed["callbacks"] = json::array({embed["callbacks"]});
  if (embed["errbacks"].is_object()) embed["errbacks"] = json::array({embed["errbacks"]});
  out.embed = embed.dump();
  return FollowUp{priority_list(out.queue, out.priority), encode_message(out), out.id};
}

json embed_of(const Message& m) {
  json e = json::parse(m.embed, nullptr, false);
  return e.is_object() ? e : json::object();
}

}  // namespace

std::vector<FollowUp> on_success(const Message& m, std::string_view value_json,
                                 std::vector<std::string>* errors) {
  std::vector<FollowUp> out;
  json embed = embed_of(m);
  json value = json::parse(value_json.empty() ? "null" : value_json, nullptr, false);
  if (value.is_discarded()) value = nullptr;
  if (embed.contains("callbacks") && embed["callbacks"].is_array()) {
    for (const json& sig : embed["callbacks"]) {
      auto f = signature_message(sig, value, m, nullptr);
      if (f) {
        out.push_back(std::move(*f));
      } else {
        errors->push_back("unreadable link callback of " + m.id);
      }
    }
  }
  if (embed.contains("chain") && embed["chain"].is_array() && !embed["chain"].empty()) {
    json rest = embed["chain"];
    json next = rest.back();
    rest.erase(rest.size() - 1);
    auto f = signature_message(next, value, m, rest);
    if (f) {
      out.push_back(std::move(*f));
    } else {
      errors->push_back("unreadable chain step after " + m.id);
    }
  }
  return out;
}

std::vector<FollowUp> on_failure(const Message& m, std::vector<std::string>* errors) {
  std::vector<FollowUp> out;
  json embed = embed_of(m);
  if (embed.contains("errbacks") && embed["errbacks"].is_array()) {
    for (const json& sig : embed["errbacks"]) {
      auto f = signature_message(sig, json(m.id), m, nullptr);
      if (f) {
        out.push_back(std::move(*f));
      } else {
        errors->push_back("unreadable link_error callback of " + m.id);
      }
    }
  }
  return out;
}

std::string chord_body(const Message& m) {
  json embed = embed_of(m);
  return embed.contains("chord") && embed["chord"].is_object() ? embed["chord"].dump() : "";
}

std::optional<FollowUp> chord_message(const Message& m, std::string_view body_json,
                                      std::string_view results_json) {
  json body = json::parse(body_json, nullptr, false);
  json results = json::parse(results_json, nullptr, false);
  if (body.is_discarded() || results.is_discarded()) return std::nullopt;
  return signature_message(body, results, m, nullptr);
}

std::string encode_meta(const Meta& m) {
  ordered_json out;
  out["status"] = m.status;
  out["result"] = m.result_json.empty() ? ordered_json(nullptr)
                                        : ordered_json::parse(m.result_json, nullptr, false);
  if (out["result"].is_discarded()) out["result"] = m.result_json;
  out["traceback"] = m.traceback.empty() ? ordered_json(nullptr) : ordered_json(m.traceback);
  out["children"] = ordered_json::parse(m.children_json);
  out["date_done"] =
      m.date_done > 0 ? ordered_json(format_iso_time(m.date_done, false)) : ordered_json(nullptr);
  if (!m.group_id.empty()) out["group_id"] = m.group_id;
  if (!m.parent_id.empty()) out["parent_id"] = m.parent_id;
  out["task_id"] = m.task_id;
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string exception_json(std::string_view type, std::string_view message,
                           std::string_view module) {
  ordered_json out = {{"exc_type", std::string(type)},
                      {"exc_message", ordered_json::array({std::string(message)})},
                      {"exc_module", std::string(module)}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<MetaView> decode_meta(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return data_loss_error("decoding celery result: not JSON");
  MetaView v;
  v.status = string_or_empty(j, "status");
  if (auto r = j.find("result"); r != j.end()) {
    v.result_json = r->dump();
    if (r->is_object()) {
      v.exc_type = string_or_empty(*r, "exc_type");
      auto msg = r->find("exc_message");
      if (msg != r->end()) {
        if (msg->is_array() && msg->size() == 1 && (*msg)[0].is_string()) {
          v.exc_message = (*msg)[0].get<std::string>();
        } else if (msg->is_string()) {
          v.exc_message = msg->get<std::string>();
        } else {
          v.exc_message = msg->dump();
        }
      }
    }
  }
  return v;
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::array<int, 256> value;
  value.fill(-1);
  for (int i = 0; i < 64; ++i) value[static_cast<unsigned char>(kAlphabet[i])] = i;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    int pad = 0;
    unsigned v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      char c = text[i + k];
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        ++pad;
        v <<= 6;
        continue;
      }
      int d = value[static_cast<unsigned char>(c)];
      if (d < 0 || pad > 0) return std::nullopt;
      v = (v << 6) | static_cast<unsigned>(d);
    }
    out += static_cast<char>((v >> 16) & 255);
    if (pad < 2) out += static_cast<char>((v >> 8) & 255);
    if (pad < 1) out += static_cast<char>(v & 255);
  }
  return out;
}

std::optional<Millis> parse_iso_time(std::string_view s) {
  Result<Millis> t = internal::parse_iso_time(s);
  if (!t.ok()) return std::nullopt;
  return *t;
}

std::string format_iso_time(Millis ms, bool with_offset) {
  using namespace std::chrono;
  sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(ms)));
  year_month_day ymd(day);
  Millis rest = ms - duration_cast<milliseconds>(day.time_since_epoch()).count();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%03lld000%s",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<long long>(rest / 3'600'000),
                static_cast<long long>(rest / 60'000 % 60),
                static_cast<long long>(rest / 1000 % 60), static_cast<long long>(rest % 1000),
                with_offset ? "+00:00" : "");
  return buf;
}

std::string uuid4() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  std::uint64_t a = gen(), b = gen();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char buf[40];
  std::snprintf(
      buf, sizeof buf, "%08llx-%04llx-%04llx-%04llx-%012llx",
      static_cast<unsigned long long>(a >> 32), static_cast<unsigned long long>((a >> 16) & 0xffff),
      static_cast<unsigned long long>(a & 0xffff), static_cast<unsigned long long>(b >> 48),
      static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

}  // namespace runq::internal::celery
