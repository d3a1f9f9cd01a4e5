// The subcommands of the command line. cli.cpp parses argv into one of the argument structs
// below and calls its handler; each handler lives in its own <name>_cmd.cpp, calls the core
// (store, worker, scheduler) and renders the answer. Handlers return the process exit code
// and print errors as one line, "runq <cmd>: <message>", on stderr.
//
// Options that take durations or times are kept as text here: the handlers parse them, so a
// bad value is reported by the command that received it.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace runq {
class App;
}

namespace runq::internal {

// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;    // an error, or a task that did not succeed
inline constexpr int kExitUsage = 2;      // bad arguments or options
inline constexpr int kExitNotReady = 3;   // `result`: the task is not final yet
inline constexpr int kExitUnknown = 4;    // `result`: no such task id
inline constexpr int kExitQueueFull = 5;  // `enqueue`: the queue is bounded and full
inline constexpr int kExitSignal = 130;   // a second SIGINT/SIGTERM stopped the process at once

struct WorkerArgs {
  int concurrency = 0;             // 0 = number of CPU cores
  std::string queues = "default";  // comma-separated, in order of preference
  std::string lease = "30s";
  int prefetch = -1;  // -1 = adaptive (WorkerOptions default)
  std::string grace = "30s";
  bool beat = false;
  long long max_tasks = 0;
  std::string report_every = "5s";  // throughput line interval while busy
  std::string pool = "threads";     // threads | processes
  long long max_tasks_per_child = 0;
  std::string max_memory_per_child;  // size, e.g. 512MB; empty = no limit
  bool require_hard_limits = false;
  std::string revoke_grace = "2s";
  std::string autoscale;  // "MAX,MIN"; empty = off
  std::string webhooks;   // comma-separated hosts for runq.webhook; empty = not registered
  std::string webhook_secret_file;  // signs webhook requests with the file's first line
};
int run_worker_cmd(App& app, const WorkerArgs& args);

struct BeatArgs {};
int run_beat_cmd(App& app, const BeatArgs& args);

struct EnqueueArgs {
  std::string name;
  std::string args_json = "[]";
  std::string queue;      // empty = the task's default
  int priority = -1;      // -1 = the task's default
  std::string countdown;  // duration
  std::string eta;        // ISO 8601 time
  std::string expires;    // duration
  std::string id;
  std::optional<std::string> unique_key;  // unique jobs; unset = none
  std::string unique_for;                 // duration
  std::string unique_until;               // "start" or "finish"; empty = the default
};
int run_enqueue_cmd(App& app, const EnqueueArgs& args);

struct ResultArgs {
  std::string id;
  std::string wait;  // duration; empty = do not wait
  bool json = false;
};
int run_result_cmd(App& app, const ResultArgs& args);

struct StatusArgs {
  bool json = false;
  std::string sample = "1s";  // gap between two samples of the completed counter; 0 = none
};
int run_status_cmd(App& app, const StatusArgs& args);

struct DeadListArgs {
  int limit = 50;
  bool json = false;
};
int run_dead_list_cmd(App& app, const DeadListArgs& args);

struct DeadRetryArgs {
  std::vector<std::string> ids;
  bool all = false;
};
int run_dead_retry_cmd(App& app, const DeadRetryArgs& args);
int run_dead_purge_cmd(App& app);

struct RevokeArgs {
  std::string id;
  bool terminate = false;
};
int run_revoke_cmd(App& app, const RevokeArgs& args);

struct PurgeArgs {
  std::string queue;
};
int run_purge_cmd(App& app, const PurgeArgs& args);

struct ScheduleListArgs {
  bool json = false;
};
int run_schedule_list_cmd(App& app, const ScheduleListArgs& args);

struct SchedulePauseArgs {
  std::string name;
  bool paused = true;
};
int run_schedule_pause_cmd(App& app, const SchedulePauseArgs& args);

struct ScheduleNextArgs {
  std::string expression;
  std::string tz = "UTC";
  std::string from;  // ISO 8601; empty = now
  int count = 5;
};
int run_schedule_next_cmd(App& app, const ScheduleNextArgs& args);

struct ServeArgs {
  std::string bind = "127.0.0.1";
  int port = 8910;
  std::string token_file;       // admin token; else RUNQ_API_TOKEN
  std::string read_token_file;  // read-only token; else RUNQ_API_READ_TOKEN
  int threads = 8;
  std::string max_body = "1048576";  // bytes
  std::string tls_cert, tls_key;
  std::vector<std::string> cors_origins;
};
int run_serve_cmd(App& app, const ServeArgs& args);

// `queue pause|resume|limit|list`: flow controls of a queue (queue_cmd.cpp).
struct QueueArgs {
  std::string name;
  long long limit = -1;  // `limit` only; 0 removes the bound
  bool json = false;     // `list` only
};
int run_queue_pause_cmd(App& app, const QueueArgs& args, bool paused);
int run_queue_limit_cmd(App& app, const QueueArgs& args);
int run_queue_list_cmd(App& app, const QueueArgs& args);

// `migrate`: creates or upgrades the store's schema (PostgreSQL: the versioned migrations of
// its schema; other stores create theirs when opened).
struct MigrateArgs {};
int run_migrate_cmd(App& app, const MigrateArgs& args);

}  // namespace runq::internal
