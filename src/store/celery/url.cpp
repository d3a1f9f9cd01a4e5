// parse_celery_url: "celery+redis://host:port/db?backend=redis://...&queues=a,b&...".
#include <string>

#include "core/duration.hpp"
#include "store/celery_store.hpp"

namespace runq {
namespace {

Status url_error(std::string_view why) {
  return invalid_argument_error("parsing celery URL: " + std::string(why));
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  while (!s.empty()) {
    std::size_t at = s.find(sep);
    if (at != 0) out.emplace_back(s.substr(0, at));
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

Result<CeleryStoreOptions> parse_celery_url(std::string_view url) {
  std::string_view rest = url;
  if (rest.starts_with("celery+redis://")) {
    rest.remove_prefix(15);
  } else if (rest.starts_with("celery://")) {
    rest.remove_prefix(9);
  } else {
    return url_error("it must start with celery+redis:// (or celery://)");
  }
  std::string_view query;
  if (std::size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  CeleryStoreOptions opts;
  std::string redis_query;
  std::string backend_url;
  for (const std::string& kv : split(query, '&')) {
    std::size_t eq = kv.find('=');
    std::string k = kv.substr(0, eq);
    std::string v = eq == std::string::npos ? std::string() : kv.substr(eq + 1);
    auto duration = [&](Millis* out) -> Status {
      Result<Millis> d = internal::parse_duration(v);
      if (!d.ok()) return url_error(k + ": " + d.status().message());
      *out = *d;
      return ok_status();
    };
    if (k == "backend") {
      backend_url = percent_decode(v);
    } else if (k == "queues") {
      opts.queues = split(v, ',');
      if (opts.queues.empty()) return url_error("queues must name at least one queue");
    } else if (k == "visibility_timeout") {
      RUNQ_RETURN_IF_ERROR(duration(&opts.visibility_timeout_ms));
      if (opts.visibility_timeout_ms < 1000) {
        return url_error("visibility_timeout must be at least 1s");
      }
    } else if (k == "restore_every") {
      RUNQ_RETURN_IF_ERROR(duration(&opts.restore_every_ms));
    } else if (k == "result_expires") {
      RUNQ_RETURN_IF_ERROR(duration(&opts.result_expires_ms));
    } else if (k == "track_started") {
      if (v != "0" && v != "1" && v != "true" && v != "false") {
        return url_error("track_started must be 0 or 1");
      }
      opts.track_started = v == "1" || v == "true";
    } else if (k == "task_events") {
      if (v != "0" && v != "1" && v != "true" && v != "false") {
        return url_error("task_events must be 0 or 1");
      }
      opts.task_events = v == "1" || v == "true";
    } else if (k.starts_with("params.")) {
      opts.params[k.substr(7)] = split(v, ',');
    } else {
      if (!redis_query.empty()) redis_query += '&';
      redis_query += kv;
    }
  }
  std::string broker_url = "redis://" + std::string(rest);
  if (!redis_query.empty()) broker_url += "?" + redis_query;
  Result<RedisStoreOptions> broker = parse_redis_url(broker_url);
  if (!broker.ok()) {
    return url_error(broker.status().message() +
                     " (celery parameters: backend, queues, visibility_timeout, restore_every, "
                     "track_started, task_events, result_expires, params.<task>)");
  }
  opts.broker = *broker;
  if (backend_url.empty()) {
    opts.backend = opts.broker;
  } else {
    Result<RedisStoreOptions> backend = parse_redis_url(backend_url);
    if (!backend.ok()) return url_error("backend: " + backend.status().message());
    opts.backend = *backend;
  }
  return opts;
}

}  // namespace runq
