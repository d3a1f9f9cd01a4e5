#include "store_probe.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <string_view>

#ifdef RUNQ_BENCH_WITH_REDIS
#include <hiredis/hiredis.h>
#endif

namespace runq::bench {
namespace {

std::int64_t file_kb(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? std::int64_t(st.st_size) / 1024 : 0;
}

StoreSample sample_sqlite(std::string path) {
  if (path.starts_with("//")) path = path.substr(2);
  StoreSample s;
  s.kind = "sqlite";
  s.memory_kb = file_kb(path) + file_kb(path + "-wal");
  return s;
}

#ifdef RUNQ_BENCH_WITH_REDIS
// "used_memory:123\r\n" -> 123 (0 when absent).
double info_field(std::string_view info, std::string_view key) {
  std::string needle = "\n" + std::string(key) + ":";
  std::size_t pos = info.find(needle);
  if (pos == std::string_view::npos) return 0;
  return std::strtod(std::string(info.substr(pos + needle.size(), 32)).c_str(), nullptr);
}

std::string info_text(std::string_view info, std::string_view key) {
  std::string needle = "\n" + std::string(key) + ":";
  std::size_t pos = info.find(needle);
  if (pos == std::string_view::npos) return {};
  std::size_t start = pos + needle.size();
  return std::string(info.substr(start, info.find('\r', start) - start));
}

// redis://[:password@]host[:port][/db]
StoreSample sample_redis(std::string_view rest) {
  StoreSample s;
  s.kind = "redis";
  std::string password;
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    std::string_view cred = rest.substr(0, at);
    password =
        std::string(cred.substr(cred.find(':') == std::string_view::npos ? 0 : cred.find(':') + 1));
    rest = rest.substr(at + 1);
  }
  std::string_view hostport = rest.substr(0, rest.find('/'));
  std::string host(hostport.substr(0, hostport.find(':')));
  int port = 6379;
  if (auto colon = hostport.find(':'); colon != std::string_view::npos) {
    port = std::atoi(std::string(hostport.substr(colon + 1)).c_str());
  }
  timeval tv{2, 0};
  redisContext* c = redisConnectWithTimeout(host.empty() ? "127.0.0.1" : host.c_str(), port, tv);
  if (c == nullptr || c->err) {
    if (c) redisFree(c);
    return s;
  }
  if (!password.empty()) freeReplyObject(redisCommand(c, "AUTH %s", password.c_str()));
  auto* r = static_cast<redisReply*>(redisCommand(c, "INFO"));
  if (r && r->type == REDIS_REPLY_STRING) {
    std::string_view info(r->str, r->len);
    s.version = info_text(info, "redis_version");
    s.memory_kb = std::int64_t(info_field(info, "used_memory") / 1024);
    s.rss_kb = std::int64_t(info_field(info, "used_memory_rss") / 1024);
    s.peak_kb = std::int64_t(info_field(info, "used_memory_peak") / 1024);
    s.cpu_s = info_field(info, "used_cpu_user") + info_field(info, "used_cpu_sys");
  }
  if (r) freeReplyObject(r);
  redisFree(c);
  return s;
}
#endif

}  // namespace

StoreSample sample_store(const std::string& url) {
  if (url.starts_with("sqlite:")) return sample_sqlite(url.substr(7));
#ifdef RUNQ_BENCH_WITH_REDIS
  if (url.starts_with("redis://")) return sample_redis(std::string_view(url).substr(8));
#endif
  StoreSample s;
  s.kind = "other";
  return s;
}

}  // namespace runq::bench
