// The Lua code of the redis:// store (src/store/redis/*.lua, embedded at build time), loaded
// as one Redis function library, and the retry policy around calls.
#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <string>
#include <string_view>

#include "runq/clock.hpp"
#include "runq_embedded_redis_scripts.hpp"

namespace runq::internal {

// The functions of the library: each *.lua file but common.lua, workflow_lib.lua and
// flow_lib.lua (the shared prelude) is the body of one.
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
  kListTasks,
  kRevoke,
  kRevokeRequests,
  kQueueControl,
  kEnqueueUnique,
  kCount
};

inline constexpr std::string_view kScriptBodies[] = {
    embedded::redis_scripts_enqueue,         embedded::redis_scripts_reserve,
    embedded::redis_scripts_settle,          embedded::redis_scripts_extend,
    embedded::redis_scripts_progress,        embedded::redis_scripts_wait_peek,
    embedded::redis_scripts_wait_task,       embedded::redis_scripts_stats,
    embedded::redis_scripts_list_dead,       embedded::redis_scripts_retry_dead,
    embedded::redis_scripts_purge_dead,      embedded::redis_scripts_purge_queue,
    embedded::redis_scripts_cleanup,         embedded::redis_scripts_claim_tick,
    embedded::redis_scripts_schedules,       embedded::redis_scripts_workers,
    embedded::redis_scripts_list_tasks,      embedded::redis_scripts_revoke,
    embedded::redis_scripts_revoke_requests, embedded::redis_scripts_queue_control,
    embedded::redis_scripts_enqueue_unique,
};
static_assert(std::size(kScriptBodies) == static_cast<std::size_t>(Script::kCount));
inline constexpr std::string_view kScriptNames[] = {
    "enqueue",         "reserve",       "settle",         "extend",     "progress",   "wait_peek",
    "wait_task",       "stats",         "list_dead",      "retry_dead", "purge_dead", "purge_queue",
    "cleanup",         "claim_tick",    "schedules",      "workers",    "list_tasks", "revoke",
    "revoke_requests", "queue_control", "enqueue_unique",
};
static_assert(std::size(kScriptNames) == static_cast<std::size_t>(Script::kCount));

// The Redis function library (FUNCTION LOAD; Redis 7): common.lua runs once when the library
// loads, and each script body becomes one function that starts with enter(ARGV). Compared
// with EVALSHA of common.lua + body, a call no longer rebuilds the shared helpers, which was
// most of the cost of a small call. The name carries a hash of the code, so different runq
// versions can share a server, each calling its own functions.
struct FunctionLibrary {
  std::string name;    // "runq_" + 16 hex digits
  std::string source;  // "#!lua name=..." + code, whole-line comments removed
  std::string function(Script s) const {
    return name + "_" + std::string(kScriptNames[static_cast<int>(s)]);
  }
};
// Built once per process.
const FunctionLibrary& function_library();

// A reply saying the function (so the library) is not loaded: after FUNCTION FLUSH, or a
// restart of a server that does not persist its data.
bool is_function_missing(const redisReply* r);

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
