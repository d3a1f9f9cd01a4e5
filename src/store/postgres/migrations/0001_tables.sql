-- runq's tables (migration 1). @schema@ is replaced by the store's schema (default runq).
--
-- tasks is the hot table: queued, scheduled, reserved and dead tasks only. A finished task's
-- row is deleted and its outcome kept in results, so the table stays as small as the backlog.
-- Each partial index holds the rows of one state, so a row costs index writes only for the
-- state it is in; the ready index ends with seq, which gives FIFO order within a priority.
CREATE TABLE @schema@.tasks (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL UNIQUE,
  queue text NOT NULL,
  priority smallint NOT NULL,
  state text NOT NULL,
  eta bigint NOT NULL,
  retry boolean NOT NULL DEFAULT false,
  token bigint NOT NULL DEFAULT 0,
  deliveries integer NOT NULL DEFAULT 0,
  max_deliveries integer NOT NULL,
  worker_id text NOT NULL DEFAULT '',
  lease_expires bigint NOT NULL DEFAULT 0,
  progress double precision NOT NULL DEFAULT 0,
  body bytea NOT NULL,
  dead_reason text NOT NULL DEFAULT '',
  died_at bigint NOT NULL DEFAULT 0
);
CREATE INDEX tasks_ready ON @schema@.tasks (queue, priority DESC, seq) WHERE state = 'pending';
CREATE INDEX tasks_scheduled ON @schema@.tasks (queue, eta) WHERE state = 'scheduled';
CREATE INDEX tasks_leased ON @schema@.tasks (lease_expires) WHERE state = 'reserved';
CREATE INDEX tasks_dead ON @schema@.tasks (died_at, seq) WHERE state = 'dead';
-- Every row of tasks is short-lived: vacuum it after 1% of it changed, not the default 20%.
ALTER TABLE @schema@.tasks SET (autovacuum_vacuum_scale_factor = 0.01,
                                autovacuum_vacuum_insert_scale_factor = 0.01,
                                autovacuum_analyze_scale_factor = 0.02);

-- Fencing tokens: larger than every token handed out before, for any task.
CREATE SEQUENCE @schema@.tokens AS bigint CACHE 1;

CREATE TABLE @schema@.results (
  id text PRIMARY KEY,
  state text NOT NULL,
  record bytea NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX results_expiry ON @schema@.results (expires_at);

CREATE TABLE @schema@.counters (name text PRIMARY KEY, value bigint NOT NULL);
INSERT INTO @schema@.counters (name, value)
  VALUES ('completed', 0), ('failed', 0), ('duplicates', 0);

CREATE TABLE @schema@.workers (
  id text PRIMARY KEY,
  host text NOT NULL,
  pid integer NOT NULL,
  queues text NOT NULL,
  concurrency integer NOT NULL,
  running integer NOT NULL,
  processed bigint NOT NULL,
  failed bigint NOT NULL,
  started bigint NOT NULL,
  last_seen bigint NOT NULL,
  expires bigint NOT NULL
);

CREATE TABLE @schema@.schedules (
  name text PRIMARY KEY,
  last_tick bigint NOT NULL,
  paused boolean NOT NULL,
  info text NOT NULL
);
