#include "store/celery/control.hpp"

#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "store/celery/wire.hpp"

namespace runq::internal::celery {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr Millis kPollMs = 200;  // how often the thread checks for stop

// obj[key] when it is a string (or a bool for bool_at), else the default: a request of any
// shape never throws here.
std::string string_at(const json& obj, const char* key) {
  auto it = obj.is_object() ? obj.find(key) : obj.end();
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}
bool bool_at(const json& obj, const char* key) {
  auto it = obj.is_object() ? obj.find(key) : obj.end();
  return it != obj.end() && it->is_boolean() && it->get<bool>();
}

std::string text_of(const redisReply* r) {
  return r != nullptr && r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len)
                                                       : std::string();
}

}  // namespace

std::string event_channel(int db, std::string_view routing_key) {
  return "/" + std::to_string(db) + ".celeryev/" + std::string(routing_key);
}

std::string event_message(std::string_view routing_key, std::string_view body_json,
                          std::string_view hostname) {
  ordered_json env = {
      {"body", base64_encode(body_json)},
      {"content-encoding", "utf-8"},
      {"content-type", "application/json"},
      {"headers", {{"hostname", std::string(hostname)}}},
      {"properties",
       {{"delivery_mode", 1},
        {"delivery_info", {{"exchange", "celeryev"}, {"routing_key", std::string(routing_key)}}},
        {"priority", 0},
        {"body_encoding", "base64"},
        {"delivery_tag", uuid4()}}},
  };
  return env.dump();
}

Control::Control(RedisEndpoint endpoint, std::string hostname, Hooks hooks)
    : endpoint_(std::move(endpoint)), hostname_(std::move(hostname)), hooks_(std::move(hooks)) {
  thread_ = std::thread([this] { run(); });
}

Control::~Control() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void Control::run() {
  const std::string channel = "/" + std::to_string(endpoint_.db) + ".celery.pidbox";
  while (!stop_) {
    Result<std::unique_ptr<RedisConnection>> sub = RedisConnection::open(endpoint_);
    Result<std::unique_ptr<RedisConnection>> out = RedisConnection::open(endpoint_);
    if (!sub.ok() || !out.ok() ||
        !(*sub)->send(RedisArgs{"SUBSCRIBE", channel}, "subscribing").ok()) {
      for (int i = 0; i < 5 && !stop_; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));  // server down: back off
      }
      continue;
    }
    while (!stop_ && (*sub)->usable()) {
      if (!(*sub)->wait_readable(kPollMs)) continue;
      Result<Reply> msg = (*sub)->read_reply("reading the celery pidbox");
      if (!msg.ok()) break;
      const redisReply* r = msg->get();
      if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 && text_of(r->element[0]) == "message") {
        handle(**out, text_of(r->element[2]));
      }
    }
  }
}

void Control::handle(RedisConnection& out, std::string_view raw) {
  json env = json::parse(raw, nullptr, false);
  if (env.is_discarded() || !env.is_object() || !env.contains("body")) return;
  std::string body = env["body"].is_string() ? env["body"].get<std::string>() : "";
  if (env.contains("properties") && string_at(env["properties"], "body_encoding") == "base64") {
    std::optional<std::string> decoded = base64_decode(body);
    if (!decoded) return;
    body = *decoded;
  }
  json req = json::parse(body, nullptr, false);
  if (req.is_discarded() || !req.is_object()) return;
  if (req.contains("destination") && req["destination"].is_array()) {
    bool mine = false;
    for (const json& d : req["destination"]) mine = mine || (d.is_string() && d == hostname_);
    if (!mine) return;
  }
  std::string method = string_at(req, "method");
  json args =
      req.contains("arguments") && req["arguments"].is_object() ? req["arguments"] : json::object();
  json reply;
  if (method == "ping") {
    reply = {{"ok", "pong"}};
  } else if (method == "active") {
    reply = json::parse(hooks_.active ? hooks_.active() : "[]", nullptr, false);
  } else if (method == "revoke") {
    std::vector<std::string> ids;
    if (args.contains("task_id") && args["task_id"].is_string()) {
      ids.push_back(args["task_id"]);
    } else if (args.contains("task_id") && args["task_id"].is_array()) {
      for (const json& id : args["task_id"]) {
        if (id.is_string()) ids.push_back(id);
      }
    }
    bool terminate = bool_at(args, "terminate");
    std::string joined;
    for (const std::string& id : ids) {
      if (hooks_.revoke) hooks_.revoke(id, terminate);
      joined += (joined.empty() ? "" : ", ") + id;
    }
    reply = {{"ok", "tasks " + joined + " flagged as revoked"}};
  } else {
    return;  // hello, heartbeat broadcasts and the rest need no answer from us
  }
  if (!req.contains("reply_to") || !req["reply_to"].is_object()) return;
  std::string key = string_at(req["reply_to"], "routing_key");
  if (key.empty()) return;
  ordered_json answer = {{hostname_, reply}};
  ordered_json renv = {
      {"body", base64_encode(answer.dump())},
      {"content-encoding", "utf-8"},
      {"content-type", "application/json"},
      {"headers", {{"ticket", string_at(req, "ticket")}, {"clock", 1}}},
      {"properties",
       {{"delivery_mode", 1},
        {"delivery_info", {{"exchange", "reply.celery.pidbox"}, {"routing_key", key}}},
        {"priority", 0},
        {"body_encoding", "base64"},
        {"delivery_tag", uuid4()}}},
  };
  std::string list = key + ".reply.celery.pidbox";
  std::string element = renv.dump();
  (void)out.call(RedisArgs{"LPUSH", list, element}, "answering the celery pidbox");
}

}  // namespace runq::internal::celery
