// The Lua scripts of the redis:// store (src/store/redis/*.lua, embedded at build time), and
// the retry policy around them.
#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <string_view>

#include "runq/clock.hpp"
#include "runq_embedded_redis_scripts.hpp"

namespace runq::internal {

// Every script is sent as common.lua followed by its own body.
enum class Script {
  kEnqueue,
  kReserve,
  kSettle,
  kExtend,
  kProgress,
  kWaitPeek,
  kWaitTask,
  kStats,
  kListDead,
  kRetryDead,
  kPurgeDead,
  kPurgeQueue,
  kCleanup,
  kClaimTick,
  kSchedules,
  kWorkers,
  kCount
};

inline constexpr std::string_view kScriptBodies[] = {
    embedded::redis_scripts_enqueue,    embedded::redis_scripts_reserve,
    embedded::redis_scripts_settle,     embedded::redis_scripts_extend,
    embedded::redis_scripts_progress,   embedded::redis_scripts_wait_peek,
    embedded::redis_scripts_wait_task,  embedded::redis_scripts_stats,
    embedded::redis_scripts_list_dead,  embedded::redis_scripts_retry_dead,
    embedded::redis_scripts_purge_dead, embedded::redis_scripts_purge_queue,
    embedded::redis_scripts_cleanup,    embedded::redis_scripts_claim_tick,
    embedded::redis_scripts_schedules,  embedded::redis_scripts_workers,
};
static_assert(std::size(kScriptBodies) == static_cast<std::size_t>(Script::kCount));

// Pauses between attempts while block-and-retry allows; false = give up now.
class Backoff {
 public:
  Backoff(bool enabled, Millis retry_for_ms)
      : enabled_(enabled),
        give_up_(std::chrono::steady_clock::now() + std::chrono::milliseconds(retry_for_ms)) {}
  // Sleeps before the next attempt: 10 ms, doubling up to 500 ms.
  bool wait();

 private:
  bool enabled_;
  std::chrono::steady_clock::time_point give_up_;
  std::chrono::milliseconds delay_{10};
};

// Error replies after which the command did nothing and may simply be sent again (the server
// is loading its data, busy with a script, ...).
bool refused_for_now(const redisReply* r);

}  // namespace runq::internal
