// The command-line grammar: every subcommand, its options, and which handler it calls. The
// handlers (<name>_cmd.cpp) do the work; this is the only file that includes CLI11.
#include "cli/cli.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/cli_support.hpp"
#include "cli/commands.hpp"
#include "runq/app.hpp"
#include "runq/error.hpp"
#include "store/backend.hpp"

namespace runq::internal {
namespace {

// All parsed values; the handler of the chosen subcommand reads its part.
struct Args {
  std::string store;
  WorkerArgs worker;
  BeatArgs beat;
  EnqueueArgs enqueue;
  ResultArgs result;
  StatusArgs status;
  DeadListArgs dead_list;
  DeadRetryArgs dead_retry;
  PurgeArgs purge;
  RevokeArgs revoke;
  ScheduleListArgs schedule_list;
  SchedulePauseArgs schedule_pause, schedule_resume;
  ScheduleNextArgs schedule_next;
  ServeArgs serve;
  MigrateArgs migrate;
  QueueArgs queue;
};

struct Command {
  CLI::App* sub;
  std::function<int(App&)> run;
};

CLI::App* add_command(CLI::App& parent, const char* name, const char* help) {
  CLI::App* sub = parent.add_subcommand(name, help);
  sub->fallthrough();  // `--store` may also follow the subcommand
  return sub;
}

void add_worker(CLI::App& cli, Args& a, std::vector<Command>& table) {
  CLI::App* c = add_command(cli, "worker", "Run the registered tasks (until SIGINT/SIGTERM)");
  WorkerArgs& w = a.worker;
  c->add_option("-c,--concurrency", w.concurrency, "Executor threads [one per CPU core]");
  c->add_option("-q,--queues", w.queues, "Queues to consume, in order of preference [default]");
  c->add_option("--lease", w.lease, "Lease per delivery, renewed while a task runs [30s]");
  c->add_option("--prefetch", w.prefetch, "Tasks reserved beyond those running [adaptive]");
  c->add_option("--grace", w.grace, "How long running tasks may finish after SIGTERM [30s]");
  c->add_flag("--beat", w.beat, "Also run the periodic scheduler in this process");
  c->add_option("--max-tasks", w.max_tasks, "Stop after this many tasks [0 = never]");
  c->add_option("--pool", w.pool,
                "Where tasks run: threads, or processes (crash containment, hard time "
                "limits) [threads]")
      ->check(CLI::IsMember({"threads", "processes"}));
  c->add_option("--max-tasks-per-child", w.max_tasks_per_child,
                "--pool processes: replace a child after this many tasks [0 = never]");
  c->add_option("--max-memory-per-child", w.max_memory_per_child,
                "--pool processes: replace a child whose memory exceeds this after a task, "
                "e.g. 512MB [no limit]");
  c->add_flag("--require-hard-limits", w.require_hard_limits,
              "--pool threads: fail tasks with a hard time limit instead of warning");
  c->add_option("--revoke-grace", w.revoke_grace,
                "revoke --terminate: kill a running child after this long [2s]");
  c->add_option("--autoscale", w.autoscale,
                "MAX,MIN threads (or children with --pool processes), grown while all are "
                "busy and tasks wait, shrunk when idle [off]");
  c->add_option("--report-every", w.report_every,
                "Throughput line interval while busy; 0 = off [5s]");
  c->add_option("--webhooks", w.webhooks,
                "Also run runq.webhook push tasks, POSTing only to these hosts (comma-separated; "
                "*.example.com for subdomains, * for any) [off]");
  c->add_option("--webhook-secret-file", w.webhook_secret_file,
                "Sign webhook requests (X-Runq-Signature) with the secret in this file");
  table.push_back({c, [&a](App& app) { return run_worker_cmd(app, a.worker); }});
}

void add_beat(CLI::App& cli, Args& a, std::vector<Command>& table) {
  CLI::App* c = add_command(cli, "beat", "Run only the periodic scheduler (until SIGINT/SIGTERM)");
  table.push_back({c, [&a](App& app) { return run_beat_cmd(app, a.beat); }});
}

void add_enqueue(CLI::App& cli, Args& a, std::vector<Command>& table) {
  CLI::App* c = add_command(cli, "enqueue", "Enqueue a task by name; prints its id");
  EnqueueArgs& e = a.enqueue;
  c->add_option("name", e.name, "Task name")->required();
  c->add_option("--args", e.args_json,
                "Arguments as a JSON array, e.g. '[2, 3]'; @FILE reads them from a file, - "
                "from stdin [[]]");
  c->add_option("--queue", e.queue, "Queue [the task's default]");
  c->add_option("--priority", e.priority, "Priority 0 (lowest) to 9")->check(CLI::Range(0, 9));
  c->add_option("--countdown", e.countdown, "Run no earlier than this from now, e.g. 10s");
  c->add_option("--eta", e.eta, "Run no earlier than this ISO 8601 time");
  c->add_option("--expires", e.expires, "End EXPIRED if not started within this, e.g. 5m");
  c->add_option("--id", e.id, "Task id [random]; enqueue is idempotent per id");
  c->add_option("--unique-key", e.unique_key,
                "Add nothing while a task with this key is queued or running; prints that "
                "task's id instead (and a note on stderr)");
  c->add_option("--unique-for", e.unique_for,
                "Give the unique key up at the latest this long after the enqueue, e.g. 10m");
  c->add_option("--unique-until", e.unique_until,
                "Hold the unique key until the task starts or finishes [finish]")
      ->check(CLI::IsMember({"start", "finish"}));
  table.push_back({c, [&a](App& app) { return run_enqueue_cmd(app, a.enqueue); }});
}

void add_result(CLI::App& cli, Args& a, std::vector<Command>& table) {
  CLI::App* c = add_command(cli, "result", "Show a task's state and result; exit 0 on SUCCESS");
  c->add_option("id", a.result.id, "Task id")->required();
  c->add_option("--wait", a.result.wait, "Wait up to this long for a final state, e.g. 10s");
  c->add_flag("--json", a.result.json, "One JSON object");
  table.push_back({c, [&a](App& app) { return run_result_cmd(app, a.result); }});
}

void add_status(CLI::App& cli, Args& a, std::vector<Command>& table) {
  CLI::App* c = add_command(cli, "status", "Queues, live workers, throughput, schedules");
  c->add_flag("--json", a.status.json, "One JSON object");
  c->add_option("--sample", a.status.sample, "Measure throughput over this long; 0 = skip [1s]");
  table.push_back({c, [&a](App& app) { return run_status_cmd(app, a.status); }});
}

void add_dead(CLI::App& cli, Args& a, std::vector<Command>& table) {
  CLI::App* dead = add_command(cli, "dead", "The dead-letter list");
  dead->require_subcommand(1);
  CLI::App* list = add_command(*dead, "list", "List dead tasks, oldest first");
  list->add_option("--limit", a.dead_list.limit, "At most this many [50]");
  list->add_flag("--json", a.dead_list.json, "A JSON array");
  table.push_back({list, [&a](App& app) { return run_dead_list_cmd(app, a.dead_list); }});
  CLI::App* retry = add_command(*dead, "retry", "Requeue dead tasks");
  retry->add_option("ids", a.dead_retry.ids, "Ids of dead tasks");
  retry->add_flag("--all", a.dead_retry.all, "Requeue every dead task");
  table.push_back({retry, [&a](App& app) { return run_dead_retry_cmd(app, a.dead_retry); }});
  CLI::App* purge = add_command(*dead, "purge", "Delete every dead task");
  table.push_back({purge, [](App& app) { return run_dead_purge_cmd(app); }});
}

void add_queue(CLI::App& cli, Args& a, std::vector<Command>& table) {
  CLI::App* queue = add_command(cli, "queue", "Flow controls of a queue: pause, resume, limit");
  queue->require_subcommand(1);
  CLI::App* pause = add_command(*queue, "pause", "Workers stop taking tasks from the queue");
  pause->add_option("name", a.queue.name, "Queue name")->required();
  table.push_back({pause, [&a](App& app) { return run_queue_pause_cmd(app, a.queue, true); }});
  CLI::App* resume = add_command(*queue, "resume", "Workers take tasks from the queue again");
  resume->add_option("name", a.queue.name, "Queue name")->required();
  table.push_back({resume, [&a](App& app) { return run_queue_pause_cmd(app, a.queue, false); }});
  CLI::App* limit = add_command(*queue, "limit", "Bound the queue's waiting tasks; 0 = no bound");
  limit->add_option("name", a.queue.name, "Queue name")->required();
  limit->add_option("max", a.queue.limit, "Most pending + scheduled tasks; 0 removes it")
      ->required();
  table.push_back({limit, [&a](App& app) { return run_queue_limit_cmd(app, a.queue); }});
  CLI::App* list = add_command(*queue, "list", "Queues that are paused or bounded");
  list->add_flag("--json", a.queue.json, "A JSON array");
  table.push_back({list, [&a](App& app) { return run_queue_list_cmd(app, a.queue); }});
}

void add_revoke(CLI::App& cli, Args& a, std::vector<Command>& table) {
  CLI::App* c = add_command(cli, "revoke", "Revoke a task: it never runs (or, --terminate, stops)");
  c->add_option("id", a.revoke.id, "Task id")->required();
  c->add_flag("--terminate", a.revoke.terminate, "Also stop it if it is running");
  table.push_back({c, [&a](App& app) { return run_revoke_cmd(app, a.revoke); }});
}

void add_purge(CLI::App& cli, Args& a, std::vector<Command>& table) {
  CLI::App* c = add_command(cli, "purge", "Delete the pending and scheduled tasks of a queue");
  c->add_option("queue", a.purge.queue, "Queue name")->required();
  table.push_back({c, [&a](App& app) { return run_purge_cmd(app, a.purge); }});
}

void add_serve(CLI::App& cli, Args& a, std::vector<Command>& table) {
  CLI::App* c = add_command(cli, "serve", "Serve the HTTP API and /metrics (until SIGINT/SIGTERM)");
  ServeArgs& s = a.serve;
  c->add_option("--bind", s.bind, "Address to listen on; not loopback needs a token [127.0.0.1]");
  c->add_option("--port", s.port, "TCP port; 0 = any free one [8910]")->check(CLI::Range(0, 65535));
  c->add_option("--token-file", s.token_file, "File holding the admin token [RUNQ_API_TOKEN]");
  c->add_option("--read-token-file", s.read_token_file,
                "File holding the read-only token [RUNQ_API_READ_TOKEN]");
  c->add_option("--threads", s.threads, "Request-serving threads [8]")->check(CLI::Range(1, 1024));
  c->add_option("--max-body", s.max_body, "Largest request body in bytes [1048576]");
  c->add_option("--tls-cert", s.tls_cert, "PEM certificate: serve HTTPS (with --tls-key)");
  c->add_option("--tls-key", s.tls_key, "PEM private key of --tls-cert");
  c->add_option("--cors-origin", s.cors_origins, "Allow this browser origin (CORS); repeatable");
  table.push_back({c, [&a](App& app) { return run_serve_cmd(app, a.serve); }});
}

void add_migrate(CLI::App& cli, Args& a, std::vector<Command>& table) {
  CLI::App* c = add_command(cli, "migrate", "Create or upgrade the store's schema (PostgreSQL)");
  table.push_back({c, [&a](App& app) { return run_migrate_cmd(app, a.migrate); }});
}

void add_schedule(CLI::App& cli, Args& a, std::vector<Command>& table) {
  CLI::App* sched = add_command(cli, "schedule", "Periodic schedules");
  sched->require_subcommand(1);
  CLI::App* list = add_command(*sched, "list", "Every schedule: next run, last run and outcome");
  list->add_flag("--json", a.schedule_list.json, "A JSON array");
  table.push_back({list, [&a](App& app) { return run_schedule_list_cmd(app, a.schedule_list); }});
  CLI::App* pause = add_command(*sched, "pause", "Stop firing a schedule until resumed");
  pause->add_option("name", a.schedule_pause.name, "Schedule name")->required();
  table.push_back(
      {pause, [&a](App& app) { return run_schedule_pause_cmd(app, a.schedule_pause); }});
  CLI::App* resume = add_command(*sched, "resume", "Fire a paused schedule again");
  resume->add_option("name", a.schedule_resume.name, "Schedule name")->required();
  a.schedule_resume.paused = false;
  table.push_back(
      {resume, [&a](App& app) { return run_schedule_pause_cmd(app, a.schedule_resume); }});
  CLI::App* next = add_command(*sched, "next", "Print the next fire times of an expression");
  ScheduleNextArgs& n = a.schedule_next;
  next->add_option("expression", n.expression, "Cron expression or '@every 10m'")->required();
  next->add_option("--tz", n.tz, "IANA time zone [UTC]");
  next->add_option("--from", n.from, "Start after this ISO 8601 time [now]");
  next->add_option("-n,--count", n.count, "How many [5]");
  table.push_back({next, [&a](App& app) { return run_schedule_next_cmd(app, a.schedule_next); }});
}

// The subcommand path named in argv ("worker", "dead list"), for error lines.
std::string command_name(int argc, char** argv, const CLI::App& cli) {
  std::string name;
  const CLI::App* level = &cli;
  for (int i = 1; i < argc && level; ++i) {
    const CLI::App* sub = nullptr;
    for (const CLI::App* s : level->get_subcommands([](const CLI::App*) { return true; })) {
      if (s->get_name() == argv[i]) sub = s;
    }
    if (!sub) continue;
    name += (name.empty() ? "" : " ") + sub->get_name();
    level = sub;
  }
  return name;
}

// The first word that is not an option (or the value of --store): the command.
std::string first_word(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view w = argv[i];
    if (w == "--store") {
      ++i;
    } else if (!w.starts_with("-")) {
      return std::string(w);
    }
  }
  return {};
}

int parse_and_run(App& app, int argc, char** argv) {
  const char* slash = argc > 0 ? std::strrchr(argv[0], '/') : nullptr;
  CLI::App cli{
      "runq: a distributed task queue. Store: --store URL, else $RUNQ_STORE, else "
      "sqlite:runq.db",
      slash ? slash + 1 : (argc > 0 ? argv[0] : "runq")};
  cli.require_subcommand(1);
  Args a;
  CLI::Option* store = cli.add_option("--store", a.store, "Store URL: " + store_url_forms());
  std::vector<Command> table;
  add_worker(cli, a, table);
  add_beat(cli, a, table);
  add_enqueue(cli, a, table);
  add_result(cli, a, table);
  add_status(cli, a, table);
  add_dead(cli, a, table);
  add_purge(cli, a, table);
  add_revoke(cli, a, table);
  add_queue(cli, a, table);
  add_schedule(cli, a, table);
  add_serve(cli, a, table);
  add_migrate(cli, a, table);
  std::string word = first_word(argc, argv);
  auto all = [](const CLI::App*) { return true; };
  auto subs = cli.get_subcommands(all);
  bool known = std::any_of(subs.begin(), subs.end(),
                           [&](const CLI::App* s) { return s->get_name() == word; });
  if (!word.empty() && !known) {
    return fail("", "unknown command '" + word + "' (see --help)", kExitUsage);
  }
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return cli.exit(e);  // --help
    std::string cmd = command_name(argc, argv, cli);
    return fail(cmd.empty() ? "" : cmd, std::string(e.what()) + " (see --help)", kExitUsage);
  }
  if (store->count() > 0) app.set_store_url(a.store);
  for (const Command& c : table) {
    if (c.sub->parsed()) return c.run(app);
  }
  return fail("", "no command given (see --help)", kExitUsage);
}

}  // namespace

int run_cli(App& app, int argc, char** argv) {
  // Nothing escapes as an exception: every failure is one line on stderr and an exit code.
  try {
    return parse_and_run(app, argc, argv);
  } catch (const Error& e) {
    return fail("", e.status());
  } catch (const std::exception& e) {
    return fail("", std::string("unexpected error: ") + e.what(), kExitFailure);
  } catch (...) {
    return fail("", "unexpected error", kExitFailure);
  }
}

}  // namespace runq::internal
