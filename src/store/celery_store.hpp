// The celery+redis:// store: runq workers and producers on Celery's Redis broker layout and
// result backend (docs/celery.md).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runq/status.hpp"
#include "runq/store.hpp"
#include "store/redis_store.hpp"

namespace runq {

struct CeleryStoreOptions {
  // The broker (Celery's queues, kombu's unacked emulation) and the runq store that holds
  // everything else (runq's own queues, heartbeats, schedules) under `broker.key_prefix`.
  RedisStoreOptions broker;
  // The Celery result backend (celery-task-meta-<id>); defaults to the broker's server and db.
  RedisStoreOptions backend;
  // The Celery queues this store serves (URL `queues=a,b`; default "celery"): a worker consumes
  // them besides its own runq queues, and an enqueue to one of them sends a Celery message.
  std::vector<std::string> queues{"celery"};
  // kombu's visibility timeout: an unacked message older than this is given back to its queue
  // (URL `visibility_timeout=DURATION`; default 1h, as kombu's).
  Millis visibility_timeout_ms = 3'600'000;
  // How often a worker scans for such messages (URL `restore_every=DURATION`; default 60 s).
  Millis restore_every_ms = 60'000;
  // Write STARTED when a task is handed to a worker (URL `track_started=1`; Celery's
  // task_track_started).
  bool track_started = false;
  // Publish task events (task-received/started/succeeded/failed...) for `celery events`
  // and Flower (URL `task_events=1`; Celery's `-E`). Worker events are always sent.
  bool task_events = false;
  // Result expiry (Celery's result_expires; URL `result_expires=DURATION`; default 1 day).
  Millis result_expires_ms = 86'400'000;
  // Parameter names per task name, to bind kwargs by name (URL `params.tasks.add=x,y`).
  std::map<std::string, std::vector<std::string>> params;
};

// Parses "celery+redis://[[user]:password@]host[:port][/db][?PARAMS]". PARAMS: those of
// redis:// (prefix, timeout, retry; for the broker), backend=redis://... (percent-encoded
// when it has its own '&'), queues=a,b, visibility_timeout=D, restore_every=D,
// track_started=0|1, result_expires=D, params.<task>=a,b. Errors: InvalidArgument naming what
// is wrong.
Result<CeleryStoreOptions> parse_celery_url(std::string_view url);

Result<std::unique_ptr<Store>> new_celery_store(const CeleryStoreOptions& options);

// Keys the store adds to the broker db, next to kombu's (P = broker.key_prefix):
//   P celery.dead       LIST  messages that could not be run, newest first: JSON
//                             {"reason","queue","at","message"} (message = the element as read)
//   P celery.scheduled  ZSET  messages with a future eta, by eta (ms): JSON [list, message]
std::string celery_dead_key(const CeleryStoreOptions& options);
std::string celery_scheduled_key(const CeleryStoreOptions& options);

}  // namespace runq
