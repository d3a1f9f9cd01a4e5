// The push task (runq/webhook.hpp): one POST per attempt with cpp-httplib's client, the
// status mapped to success, a retry or a final failure.
#include "runq/webhook.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <optional>
#include <string>

#include <httplib.h>

#include "runq/app.hpp"
#include "runq/context.hpp"

namespace runq {
namespace {

struct Target {
  std::string scheme_host_port;  // "https://example.com:8443", for httplib::Client
  std::string host;              // lowercase, without brackets
  std::string path;              // "/hooks?x=1", at least "/"
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// http(s)://host[:port][/path][?query]; userinfo and fragments are refused.
Target parse_target(const std::string& url) {
  const auto bad = [&](std::string_view why) {
    return WebhookError("webhook URL '" + url + "': " + std::string(why) +
                        " (expected http(s)://host[:port]/path)");
  };
  const std::size_t colon = url.find("://");
  if (colon == std::string::npos) throw bad("no scheme");
  const std::string scheme = lower(url.substr(0, colon));
  if (scheme != "http" && scheme != "https") throw bad("scheme '" + scheme + "' is not http(s)");
  const std::size_t start = colon + 3;
  const std::size_t slash = url.find_first_of("/?#", start);
  const std::string authority =
      url.substr(start, slash == std::string::npos ? slash : slash - start);
  if (authority.find('@') != std::string::npos) throw bad("credentials in the URL");
  if (slash != std::string::npos && url.find('#', slash) != std::string::npos) {
    throw bad("a fragment");
  }
  std::string host = authority;
  std::string port;
  if (authority.starts_with("[")) {  // [::1]:8080
    const std::size_t close = authority.find(']');
    if (close == std::string::npos) throw bad("unclosed '['");
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') throw bad("junk after ']'");
      port = authority.substr(close + 2);
    }
  } else if (const std::size_t c = authority.rfind(':'); c != std::string::npos) {
    host = authority.substr(0, c);
    port = authority.substr(c + 1);
  }
  if (host.empty()) throw bad("no host");
  for (unsigned char ch : host) {
    if (!std::isalnum(ch) && ch != '.' && ch != '-' && ch != '_' && ch != ':') {
      throw bad("invalid host");
    }
  }
  if (!port.empty()) {
    int n = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (ec != std::errc() || end != port.data() + port.size() || n < 1 || n > 65535) {
      throw bad("invalid port '" + port + "'");
    }
  }
  Target t;
  t.host = lower(host);
  t.scheme_host_port = scheme + "://" + authority;
  t.path = slash == std::string::npos ? "/" : url.substr(slash);
  if (t.path.starts_with("?")) t.path = "/" + t.path;
  return t;
}

bool host_allowed(const std::string& host, const std::vector<std::string>& allowed) {
  for (const std::string& a : allowed) {
    const std::string rule = lower(a);
    if (rule == "*" || rule == host) return true;
    if (rule.starts_with("*.") && host.size() > rule.size() - 1 && host.ends_with(rule.substr(1))) {
      return true;
    }
  }
  return false;
}

std::string hex_hmac_sha256(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

bool retryable_status(int status) {
  return status == 408 || status == 425 || status == 429 || status >= 500;
}

// Retry-After in seconds (the HTTP-date form is ignored: the backoff applies), capped at 1 h.
std::optional<std::chrono::seconds> retry_after(const httplib::Response& res) {
  if (!res.has_header("Retry-After")) return std::nullopt;
  const std::string v = res.get_header_value("Retry-After");
  long long s = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), s);
  if (ec != std::errc() || end != v.data() + v.size() || s < 0) return std::nullopt;
  return std::chrono::seconds(std::min<long long>(s, 3600));
}

// `text` with invalid UTF-8 (a binary body, or one cut inside a character) replaced by U+FFFD,
// so that it can travel in a JSON result record.
std::string valid_utf8(const std::string& text) {
  return nlohmann::json::parse(
             nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
      .get<std::string>();
}

std::string snippet(const std::string& body) {
  std::string s = valid_utf8(body.substr(0, 200));
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s.empty() ? "" : ": " + s + (body.size() > 200 ? "..." : "");
}

nlohmann::json deliver(const WebhookOptions& o, Context& ctx, const std::string& url,
                       const nlohmann::json& payload) {
  const Target target = parse_target(url);
  if (!host_allowed(target.host, o.allowed_hosts)) {
    throw WebhookError("webhook host '" + target.host +
                       "' is not allowed: list it in WebhookOptions::allowed_hosts or "
                       "--webhooks (allowed now: " +
                       (o.allowed_hosts.empty() ? std::string("none") : [&] {
                         std::string all;
                         for (const auto& h : o.allowed_hosts) all += (all.empty() ? "" : ",") + h;
                         return all;
                       }()) +
                       ")");
  }
  const std::string body = payload.dump();
  httplib::Headers headers{{"User-Agent", "runq-webhook"},
                           {"Idempotency-Key", ctx.id()},
                           {"X-Runq-Task-Id", ctx.id()},
                           {"X-Runq-Attempt", std::to_string(ctx.attempt())}};
  for (const auto& [k, v] : o.headers) headers.emplace(k, v);
  if (!o.secret.empty()) {
    const std::string ts = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count());
    headers.emplace("X-Runq-Timestamp", ts);
    headers.emplace("X-Runq-Signature", "sha256=" + hex_hmac_sha256(o.secret, ts + "." + body));
  }

  httplib::Client client(target.scheme_host_port);
  if (!client.is_valid()) throw WebhookError("webhook URL '" + url + "': cannot be used");
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(o.timeout);
  const auto usecs = std::chrono::duration_cast<std::chrono::microseconds>(o.timeout - secs);
  client.set_connection_timeout(secs.count(), usecs.count());
  client.set_read_timeout(secs.count(), usecs.count());
  client.set_write_timeout(secs.count(), usecs.count());
  client.set_follow_location(false);
  client.set_keep_alive(false);

  httplib::Result res = client.Post(target.path.c_str(), headers, body, "application/json");
  if (!res) {
    throw WebhookUnavailable("webhook POST " + url + " failed: " + httplib::to_string(res.error()));
  }
  const int status = res->status;
  if (status >= 200 && status < 300) {
    return nlohmann::json{{"status", status},
                          {"body", valid_utf8(res->body.substr(0, o.max_response_bytes))}};
  }
  const std::string what =
      "webhook POST " + url + " answered " + std::to_string(status) + snippet(res->body);
  if (!retryable_status(status)) throw WebhookError(what);
  if (auto after = retry_after(*res);
      after && (status == 429 || status == 503) && ctx.attempt() <= ctx.max_retries()) {
    ctx.retry(*after);
  }
  throw WebhookUnavailable(what);
}

}  // namespace

WebhookTask register_webhook_task(App& app, WebhookOptions options) {
  TaskOptions task_options = options.task;
  return app.task(
      std::string(kWebhookTask),
      [o = std::move(options)](Context& ctx, std::string url, nlohmann::json payload) {
        return deliver(o, ctx, url, payload);
      },
      std::move(task_options));
}

}  // namespace runq
