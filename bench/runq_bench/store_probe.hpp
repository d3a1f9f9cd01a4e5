// What the store under test costs outside runq's processes: redis-server's memory and CPU
// (INFO, over a separate connection) or the SQLite database file's size on disk.
// Best effort: fields stay 0 when the store cannot be probed.
#pragma once

#include <cstdint>
#include <string>

namespace runq::bench {

struct StoreSample {
  std::string kind;            // "redis", "sqlite" or "other"
  std::string version;         // redis_version
  std::int64_t memory_kb = 0;  // redis used_memory, or the SQLite file + WAL size
  std::int64_t rss_kb = 0;     // redis used_memory_rss
  std::int64_t peak_kb = 0;    // redis used_memory_peak
  double cpu_s = 0;            // redis used_cpu_user + used_cpu_sys since it started
};

StoreSample sample_store(const std::string& url);

}  // namespace runq::bench
