// runq/webhook.hpp — push tasks: a built-in task that POSTs a JSON payload to a URL, with
// retries and backoff, so a queue can deliver to HTTP endpoints (what IronMQ's push queues and
// SQS-to-HTTP bridges do).
//
//   runq::WebhookOptions w;
//   w.allowed_hosts = {"hooks.example.com"};      // nothing is allowed unless listed
//   auto hook = runq::register_webhook_task(app, w);
//   hook.delay("https://hooks.example.com/orders", nlohmann::json{{"order", 42}});
//
// or from any language, over the HTTP API:
//   POST /api/v1/tasks {"name": "runq.webhook", "args": ["https://...", {"order": 42}]}
// or `myapp worker --webhooks hooks.example.com` / `runq worker --webhooks ...`.
//
// The request: POST <url>, `Content-Type: application/json`, the payload as the body, and
// `User-Agent: runq-webhook`, `Idempotency-Key: <task id>` (the same on every attempt, so the
// receiver can drop a repeat), `X-Runq-Task-Id`, `X-Runq-Attempt`, the `headers` of the
// options, and with a `secret`: `X-Runq-Timestamp: <unix seconds>` and
// `X-Runq-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>`.
// Redirects are not followed.
//
// Outcomes:
//   - 2xx: SUCCESS; the result is {"status": <code>, "body": <response body, at most
//     max_response_bytes, cut there>}.
//   - 408, 425, 429, 5xx, a connection error or a timeout: WebhookUnavailable, retried with the
//     task's backoff (default: 8 retries, exponential from 1 s up to 10 min, full jitter). A
//     `Retry-After: <seconds>` on 429 or 503 is honoured (capped at 1 hour) while retries
//     are left.
//   - any other status (3xx, 4xx), a URL that is not http(s)://host[:port][/path], or a host
//     not in `allowed_hosts`: WebhookError, FAILURE at once (sending again cannot help).
//   - arguments that are not [url string, JSON payload]: BadArguments, FAILURE at once.
//
// Security: a webhook worker makes requests to whatever URL a message names, so the hosts are
// an allow list, empty by default (every delivery fails until hosts are listed); "*" allows
// any host, "*.example.com" any subdomain of example.com. The check is on the host name as
// written in the URL; it does not stop a listed name from resolving to an internal address.
//
// Thread safety: register before the App's workers start (like App::task).
#pragma once

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "runq/options.hpp"
#include "runq/task.hpp"

namespace runq {

class App;

// The registered name of the task.
inline constexpr std::string_view kWebhookTask = "runq.webhook";

// A delivery that cannot succeed by sending it again: not retried.
class WebhookError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A delivery that may succeed later (the endpoint is down, busy or slow): retried.
class WebhookUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct WebhookOptions {
  // Host names deliveries may go to (case-insensitive): exact names, "*.example.com" for
  // subdomains, "*" for any. Empty: none.
  std::vector<std::string> allowed_hosts;
  // Connecting, and each read and write, give up after this long [10 s].
  std::chrono::milliseconds timeout{10'000};
  // Of the response body, at most this many bytes are kept in the result [64 KiB].
  std::size_t max_response_bytes = 64 * 1024;
  // Extra request headers (e.g. an Authorization for the receiver).
  std::vector<std::pair<std::string, std::string>> headers;
  // With a secret, each request is signed (X-Runq-Signature, above).
  std::string secret;
  // The task's options. The default retries WebhookUnavailable only, 8 times.
  TaskOptions task = TaskOptions{}.max_retries(8).retry_on<WebhookUnavailable>();
};

using WebhookTask = TaskHandle<nlohmann::json, std::string, nlohmann::json>;

// Registers kWebhookTask on `app` and returns its handle. Throws what App::task throws (e.g.
// the name is already registered).
WebhookTask register_webhook_task(App& app, WebhookOptions options = {});

}  // namespace runq
