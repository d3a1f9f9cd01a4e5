-- Rate limits and per-key concurrency (NewTask::limits, docs/flow-control.md), as on SQLite
-- and Redis: reserve hands out a limited task only when its rate bucket and its concurrency
-- key allow it, and moves it aside otherwise (SCHEDULED for its rate slot, or parked for a
-- concurrency slot), handing out the tasks behind it.
--
-- task_limits holds the limits of each task that has any (tasks.limited is true for those and
-- NULL for plain tasks, so the triggers below never fire for them). `held` is true while the
-- task holds a slot of conc_key (from its admission by reserve until it leaves RESERVED);
-- `parked` is its place in the line for a slot (0 = not parked). concurrency_slots counts the
-- slots held per key. The triggers free a slot in the same transaction as the change that
-- takes a task out of RESERVED (settle, lapsed lease, revoke, purge), whatever function made
-- it, and bring back the longest-parked task of the key; a deleted task takes its limits
-- with it. Rate buckets (GCRA, as src/store/rate_bucket.hpp) run on the server's clock.
--
-- Every function that changes slots or buckets first takes one transaction-level advisory
-- lock, so that reserves and settles of limited tasks never wait on each other's rows in
-- opposite orders (the cost: those calls run one at a time while any task has limits).
CREATE TABLE @schema@.task_limits (
  id text PRIMARY KEY,
  rate_key text NOT NULL,
  rate_count bigint NOT NULL,
  rate_period bigint NOT NULL,
  conc_key text NOT NULL,
  conc_max integer NOT NULL,
  parked bigint NOT NULL DEFAULT 0,
  held boolean NOT NULL DEFAULT false
);
CREATE INDEX task_limits_parked ON @schema@.task_limits (conc_key, parked) WHERE parked > 0;
CREATE SEQUENCE @schema@.park_order;
CREATE TABLE @schema@.concurrency_slots (
  key text PRIMARY KEY,
  held integer NOT NULL
);
CREATE TABLE @schema@.rate_buckets (
  key text PRIMARY KEY,
  count bigint NOT NULL,
  period bigint NOT NULL,
  tat_us bigint NOT NULL,
  park_next_us bigint NOT NULL,
  window_start bigint NOT NULL,
  window_n bigint NOT NULL,
  previous_n bigint NOT NULL
);
ALTER TABLE @schema@.tasks ADD COLUMN limited boolean;

CREATE OR REPLACE FUNCTION @schema@.limits_lock() RETURNS void LANGUAGE sql AS $$
  SELECT pg_advisory_xact_lock(hashtext(@channel@ || ':limits'))
$$;

-- Records the limits of the tasks just enqueued (in the caller's transaction): each id that
-- exists and has none yet takes its row.
CREATE OR REPLACE FUNCTION @schema@.limits_record(
    p_ids text[], p_rate_keys text[], p_counts bigint[], p_periods bigint[], p_conc_keys text[],
    p_maxes integer[])
  RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO @schema@.task_limits AS l (id, rate_key, rate_count, rate_period, conc_key, conc_max)
  SELECT u.id, u.rk, u.rc, u.rp, u.ck, u.cm
    FROM unnest(p_ids, p_rate_keys, p_counts, p_periods, p_conc_keys, p_maxes)
         AS u(id, rk, rc, rp, ck, cm)
   WHERE EXISTS (SELECT 1 FROM @schema@.tasks t WHERE t.id = u.id AND t.limited IS NULL)
  ON CONFLICT (id) DO NOTHING;
  UPDATE @schema@.tasks t SET limited = true
   WHERE t.id = ANY (p_ids) AND t.limited IS NULL
     AND EXISTS (SELECT 1 FROM @schema@.task_limits l WHERE l.id = t.id);
END $$;

-- A slot of p_key freed: while one is free, the longest-parked task of the key goes back to
-- its queue (a few stale places, of tasks gone meanwhile, are skipped).
CREATE OR REPLACE FUNCTION @schema@.limits_free_slot(p_key text, p_max integer)
  RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  n integer;
  nxt record;
  back bigint;
BEGIN
  UPDATE @schema@.concurrency_slots s SET held = s.held - 1
   WHERE s.key = p_key AND s.held > 0 RETURNING s.held INTO n;
  IF coalesce(n, 0) >= p_max THEN RETURN; END IF;
  FOR nxt IN SELECT l.id FROM @schema@.task_limits l
              WHERE l.conc_key = p_key AND l.parked > 0 ORDER BY l.parked LIMIT 8 LOOP
    -- a parked task another transaction holds (a revoke, a purge) is skipped, never waited on
    back := NULL;
    SELECT t.seq INTO back FROM @schema@.tasks t
     WHERE t.id = nxt.id AND t.state = 'scheduled' AND t.eta >= 4000000000000000000
       FOR UPDATE SKIP LOCKED;
    IF back IS NOT NULL THEN
      UPDATE @schema@.task_limits l SET parked = 0 WHERE l.id = nxt.id;
      UPDATE @schema@.tasks t SET state = 'pending', eta = 0 WHERE t.seq = back;
      PERFORM pg_notify(@channel@, '');
      RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM @schema@.tasks t WHERE t.id = nxt.id) THEN
      UPDATE @schema@.task_limits l SET parked = 0 WHERE l.id = nxt.id;  -- a stale place
    END IF;
  END LOOP;
END $$;

-- A limited task left RESERVED (or the table): its slot frees.
CREATE OR REPLACE FUNCTION @schema@.limits_left() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  k text;
  m integer;
  was_held boolean;
BEGIN
  PERFORM @schema@.limits_lock();
  IF TG_OP = 'DELETE' THEN
    DELETE FROM @schema@.task_limits l WHERE l.id = OLD.id
    RETURNING l.conc_key, l.conc_max, l.held INTO k, m, was_held;
  ELSE
    UPDATE @schema@.task_limits l SET held = false WHERE l.id = OLD.id AND l.held
    RETURNING l.conc_key, l.conc_max, true INTO k, m, was_held;
  END IF;
  IF was_held AND k <> '' THEN PERFORM @schema@.limits_free_slot(k, m); END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER tasks_limits_deleted AFTER DELETE ON @schema@.tasks
  FOR EACH ROW WHEN (OLD.limited)
  EXECUTE FUNCTION @schema@.limits_left();
CREATE TRIGGER tasks_limits_left AFTER UPDATE OF state ON @schema@.tasks
  FOR EACH ROW WHEN (OLD.limited AND OLD.state = 'reserved' AND NEW.state <> 'reserved')
  EXECUTE FUNCTION @schema@.limits_left();

-- Whether the pending task (p_seq, p_id) may be handed out now under its limits. If so, it
-- takes its rate token and its slot; if not, it is moved aside: parked (the key is full; no
-- token taken) or SCHEDULED until its place in the line of its rate bucket.
CREATE OR REPLACE FUNCTION @schema@.limits_admit(
    p_seq bigint, p_id text, p_rk text, p_rc bigint, p_rp bigint, p_ck text, p_cm integer,
    p_now bigint)
  RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  n integer;
  b record;
  now_us bigint;
  now_ms bigint;
  step bigint;
  burst bigint;
  tat bigint;
  slot bigint;
  ws bigint;
  wn bigint;
  pn bigint;
BEGIN
  IF p_ck <> '' THEN
    SELECT s.held INTO n FROM @schema@.concurrency_slots s WHERE s.key = p_ck;
    IF coalesce(n, 0) >= p_cm THEN
      UPDATE @schema@.tasks t SET state = 'scheduled', eta = 4000000000000000000
       WHERE t.seq = p_seq;
      UPDATE @schema@.task_limits l SET parked = nextval('@schema@.park_order')
       WHERE l.id = p_id;
      RETURN false;
    END IF;
  END IF;
  IF p_rk <> '' THEN
    now_us := floor(extract(epoch FROM clock_timestamp()) * 1000000)::bigint;
    step := greatest(1, p_rp * 1000 / greatest(1, p_rc));
    burst := least(greatest(p_rp * 1000 - step, 0), 25000);
    INSERT INTO @schema@.rate_buckets AS r
           (key, count, period, tat_us, park_next_us, window_start, window_n, previous_n)
    VALUES (p_rk, p_rc, p_rp, 0, 0, 0, 0, 0) ON CONFLICT (key) DO NOTHING;
    SELECT r.tat_us, r.park_next_us, r.window_start, r.window_n, r.previous_n INTO b
      FROM @schema@.rate_buckets r WHERE r.key = p_rk;
    tat := greatest(b.tat_us, now_us);
    IF tat - now_us > burst THEN
      slot := greatest(b.park_next_us, tat - burst);
      UPDATE @schema@.rate_buckets r SET park_next_us = slot + step, count = p_rc, period = p_rp
       WHERE r.key = p_rk;
      UPDATE @schema@.tasks t
         SET state = 'scheduled',
             eta = p_now + greatest(1, ((slot - now_us + 999) / 1000))
       WHERE t.seq = p_seq;
      RETURN false;
    END IF;
    now_ms := now_us / 1000;
    ws := b.window_start;
    wn := b.window_n;
    pn := b.previous_n;
    IF now_ms >= ws + p_rp THEN
      pn := CASE WHEN now_ms < ws + 2 * p_rp THEN wn ELSE 0 END;
      ws := now_ms;
      wn := 0;
    END IF;
    UPDATE @schema@.rate_buckets r
       SET tat_us = tat + step, count = p_rc, period = p_rp, window_start = ws,
           window_n = wn + 1, previous_n = pn
     WHERE r.key = p_rk;
  END IF;
  IF p_ck <> '' THEN
    INSERT INTO @schema@.concurrency_slots AS s (key, held) VALUES (p_ck, 1)
    ON CONFLICT (key) DO UPDATE SET held = s.held + 1;
    UPDATE @schema@.task_limits l SET held = true WHERE l.id = p_id;
  END IF;
  RETURN true;
END $$;

-- wf_reserve_tasks with limits: while any task has limits, the housekeeping runs first (a
-- reserve of none), then the pending tasks of each queue are walked in hand-out order, each
-- limited one admitted or moved aside (at most 1,000 moved per call), and exactly those
-- counted are handed out. Without limits it is wf_reserve_tasks.
CREATE OR REPLACE FUNCTION @schema@.limits_reserve_tasks(
    p_queues text[], p_worker text, p_max integer, p_lease_ms bigint, p_now bigint)
  RETURNS TABLE (id text, queue text, body bytea, token bigint, deliveries integer,
                 priority smallint, seq bigint)
  LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  q text;
  c record;
  picked bigint[] := ARRAY[]::bigint[];
  aside integer := 0;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM @schema@.task_limits) THEN
    RETURN QUERY SELECT * FROM @schema@.wf_reserve_tasks(p_queues, p_worker, p_max, p_lease_ms,
                                                         p_now);
    RETURN;
  END IF;
  PERFORM @schema@.limits_lock();
  PERFORM * FROM @schema@.wf_reserve_tasks(p_queues, p_worker, 0, p_lease_ms, p_now);
  FOREACH q IN ARRAY p_queues LOOP
    EXIT WHEN cardinality(picked) >= p_max OR aside >= 1000;
    FOR c IN SELECT s.seq, s.id, l.rate_key, l.rate_count, l.rate_period, l.conc_key,
                    l.conc_max
               FROM @schema@.tasks s LEFT JOIN @schema@.task_limits l ON l.id = s.id
              WHERE s.queue = q AND s.state = 'pending'
              ORDER BY s.priority DESC, s.seq
                FOR UPDATE OF s SKIP LOCKED LOOP
      EXIT WHEN cardinality(picked) >= p_max OR aside >= 1000;
      IF c.rate_key IS NULL OR
         @schema@.limits_admit(c.seq, c.id, c.rate_key, c.rate_count, c.rate_period,
                               c.conc_key, c.conc_max, p_now) THEN
        picked := picked || c.seq;
      ELSE
        aside := aside + 1;
      END IF;
    END LOOP;
  END LOOP;
  RETURN QUERY
    WITH chosen AS (SELECT unnest(picked) AS s)
    UPDATE @schema@.tasks t
       SET state = 'reserved', token = nextval('@schema@.tokens'),
           deliveries = t.deliveries + 1, worker_id = p_worker,
           lease_expires = p_now + p_lease_ms, progress = 0
      FROM chosen
     WHERE t.seq = chosen.s
    RETURNING t.id, t.queue, t.body, t.token, t.deliveries, t.priority, t.seq;
END $$;

-- The rate buckets in use, with their state at the server's now (Store::rate_limits).
CREATE OR REPLACE FUNCTION @schema@.limits_rate_state()
  RETURNS TABLE (key text, count bigint, period bigint, started bigint, next_free_ms bigint)
  LANGUAGE sql AS $$
  SELECT r.key, r.count, r.period,
         CASE WHEN n.ms >= r.window_start + 2 * r.period THEN 0
              WHEN n.ms >= r.window_start + r.period THEN r.window_n
              ELSE r.previous_n END,
         greatest(0, (r.tat_us - least(greatest(r.period * 1000 -
                                                greatest(1, r.period * 1000 / greatest(1, r.count)),
                                                0), 25000) - n.us + 999) / 1000)
    FROM @schema@.rate_buckets r,
         (SELECT floor(extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS us,
                 floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms) n
   ORDER BY r.key
$$;
