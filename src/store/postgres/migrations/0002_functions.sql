-- runq's functions (migration 2): the batched calls of the store, one round trip each, and
-- the public enqueue() for transactional enqueue from any language. @schema@ is the schema,
-- @channel@ the LISTEN/NOTIFY channel (a string literal) that wakes idle workers.

-- Adds tasks (arrays of one element per task, in order); ids already present as a task or as
-- an unexpired result are skipped. Wakes waiting workers when the transaction commits.
-- The fast path inserts without ON CONFLICT (speculative insertion costs about half again per
-- row); a duplicate id (in the batch, or enqueued concurrently) makes it fall back to the
-- ON CONFLICT insert, inside a savepoint so the first attempt leaves nothing behind.
CREATE OR REPLACE FUNCTION @schema@.enqueue_tasks(
    p_ids text[], p_queues text[], p_priorities integer[], p_etas bigint[],
    p_max_deliveries integer[], p_bodies bytea[], p_now bigint)
  RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    INSERT INTO @schema@.tasks (id, queue, priority, state, eta, max_deliveries, body)
    SELECT u.id, u.queue, u.priority,
           CASE WHEN u.eta > p_now THEN 'scheduled' ELSE 'pending' END, u.eta, u.maxd, u.body
      FROM unnest(p_ids, p_queues, p_priorities, p_etas, p_max_deliveries, p_bodies)
           WITH ORDINALITY AS u(id, queue, priority, eta, maxd, body, ord)
     WHERE NOT EXISTS (SELECT 1 FROM @schema@.tasks t WHERE t.id = u.id)
       AND NOT EXISTS (SELECT 1 FROM @schema@.results r
                        WHERE r.id = u.id AND r.expires_at > p_now)
     ORDER BY u.ord;
  EXCEPTION WHEN unique_violation THEN
    INSERT INTO @schema@.tasks (id, queue, priority, state, eta, max_deliveries, body)
    SELECT u.id, u.queue, u.priority,
           CASE WHEN u.eta > p_now THEN 'scheduled' ELSE 'pending' END, u.eta, u.maxd, u.body
      FROM unnest(p_ids, p_queues, p_priorities, p_etas, p_max_deliveries, p_bodies)
           WITH ORDINALITY AS u(id, queue, priority, eta, maxd, body, ord)
     WHERE NOT EXISTS (SELECT 1 FROM @schema@.results r
                        WHERE r.id = u.id AND r.expires_at > p_now)
     ORDER BY u.ord
    ON CONFLICT (id) DO NOTHING;
  END;
  PERFORM pg_notify(@channel@, '');
END $$;

-- Makes due scheduled tasks pending, returns lapsed leases to their queues (or dead-letters
-- them past max_deliveries), then hands out up to p_max pending tasks, queue by queue in the
-- order given, each under a new lease and fencing token. Rows another transaction holds are
-- skipped (SKIP LOCKED), so concurrent workers never wait on each other.
CREATE OR REPLACE FUNCTION @schema@.reserve_tasks(
    p_queues text[], p_worker text, p_max integer, p_lease_ms bigint, p_now bigint)
  RETURNS TABLE (id text, queue text, body bytea, token bigint, deliveries integer,
                 priority smallint, seq bigint)
  LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  q text;
  taken integer := 0;
  got integer;
BEGIN
  UPDATE @schema@.tasks t SET state = 'pending'
   WHERE t.seq IN (SELECT s.seq FROM @schema@.tasks s
                    WHERE s.state = 'scheduled' AND s.queue = ANY (p_queues) AND s.eta <= p_now
                    FOR UPDATE SKIP LOCKED);
  UPDATE @schema@.tasks t
     SET state = 'dead', died_at = p_now,
         dead_reason = 'lease lapsed ' || t.deliveries || ' times; last worker ' ||
                       t.worker_id || ' stopped heartbeating'
   WHERE t.seq IN (SELECT s.seq FROM @schema@.tasks s
                    WHERE s.state = 'reserved' AND s.lease_expires <= p_now
                      AND s.deliveries >= s.max_deliveries
                    FOR UPDATE SKIP LOCKED);
  UPDATE @schema@.tasks t SET state = 'pending'
   WHERE t.seq IN (SELECT s.seq FROM @schema@.tasks s
                    WHERE s.state = 'reserved' AND s.lease_expires <= p_now
                    FOR UPDATE SKIP LOCKED);
  FOREACH q IN ARRAY p_queues LOOP
    EXIT WHEN taken >= p_max;
    RETURN QUERY
      WITH picked AS (
        SELECT s.seq FROM @schema@.tasks s
         WHERE s.queue = q AND s.state = 'pending'
         ORDER BY s.priority DESC, s.seq
         LIMIT p_max - taken
         FOR UPDATE SKIP LOCKED)
      UPDATE @schema@.tasks t
         SET state = 'reserved', token = nextval('@schema@.tokens'),
             deliveries = t.deliveries + 1, worker_id = p_worker,
             lease_expires = p_now + p_lease_ms, progress = 0
        FROM picked
       WHERE t.seq = picked.seq
      RETURNING t.id, t.queue, t.body, t.token, t.deliveries, t.priority, t.seq;
    GET DIAGNOSTICS got = ROW_COUNT;
    taken := taken + got;
  END LOOP;
END $$;

-- Moves the leases (p_ids[i], p_tokens[i]) that are still held to p_until; returns the
-- positions (1-based) of those moved. Locks rows in id order, as settle_tasks does.
CREATE OR REPLACE FUNCTION @schema@.extend_leases(p_ids text[], p_tokens bigint[], p_until bigint)
  RETURNS SETOF integer LANGUAGE sql AS $$
  WITH held AS (
    SELECT t.seq, u.ord
      FROM unnest(p_ids, p_tokens) WITH ORDINALITY AS u(id, token, ord)
      JOIN @schema@.tasks t ON t.id = u.id AND t.token = u.token AND t.state = 'reserved'
     ORDER BY t.id
       FOR UPDATE OF t),
  moved AS (
    UPDATE @schema@.tasks t SET lease_expires = p_until FROM held WHERE t.seq = held.seq
    RETURNING held.ord)
  SELECT ord::integer FROM moved
$$;

-- Applies a batch of settlements (arrays of one element per settlement). p_outcomes: 0 ack,
-- 1 retry, 2 dead letter, 3 release. Each applies only when (id, token) holds the lease;
-- returns one flag per settlement (false = stale holder, counted as a duplicate).
CREATE OR REPLACE FUNCTION @schema@.settle_tasks(
    p_ids text[], p_tokens bigint[], p_outcomes integer[], p_states text[],
    p_results bytea[], p_ttls bigint[], p_retry_at bigint[], p_bodies bytea[],
    p_reasons text[], p_now bigint)
  RETURNS boolean[] LANGUAGE plpgsql AS $$
DECLARE
  n integer := coalesce(array_length(p_ids, 1), 0);
  applied boolean[] := array_fill(false, ARRAY[n]);
  i integer;
  ok boolean;
  n_completed bigint := 0;
  n_failed bigint := 0;
  n_duplicates bigint := 0;
BEGIN
  -- Rows are locked in id order, as extend_leases does, so that concurrent calls never wait
  -- on each other in a cycle.
  FOR i IN SELECT u.ord FROM unnest(p_ids) WITH ORDINALITY AS u(id, ord) ORDER BY u.id, u.ord LOOP
    IF p_outcomes[i] = 0 THEN
      DELETE FROM @schema@.tasks t
       WHERE t.id = p_ids[i] AND t.state = 'reserved' AND t.token = p_tokens[i];
    ELSIF p_outcomes[i] = 1 THEN
      UPDATE @schema@.tasks t
         SET state = 'scheduled', retry = true, eta = p_retry_at[i],
             body = coalesce(p_bodies[i], t.body), deliveries = 0, progress = 0
       WHERE t.id = p_ids[i] AND t.state = 'reserved' AND t.token = p_tokens[i];
    ELSIF p_outcomes[i] = 2 THEN
      UPDATE @schema@.tasks t
         SET state = 'dead', dead_reason = p_reasons[i], died_at = p_now
       WHERE t.id = p_ids[i] AND t.state = 'reserved' AND t.token = p_tokens[i];
    ELSE
      UPDATE @schema@.tasks t
         SET state = 'pending', deliveries = greatest(t.deliveries - 1, 0), progress = 0
       WHERE t.id = p_ids[i] AND t.state = 'reserved' AND t.token = p_tokens[i];
    END IF;
    ok := FOUND;
    applied[i] := ok;
    IF NOT ok THEN
      n_duplicates := n_duplicates + 1;
      CONTINUE;
    END IF;
    IF p_outcomes[i] = 0 THEN
      n_completed := n_completed + 1;
      IF p_states[i] = 'failure' THEN n_failed := n_failed + 1; END IF;
    END IF;
    IF p_results[i] IS NOT NULL THEN
      INSERT INTO @schema@.results AS r (id, state, record, expires_at)
      VALUES (p_ids[i], p_states[i], p_results[i], p_now + p_ttls[i])
      ON CONFLICT (id) DO UPDATE
        SET state = excluded.state, record = excluded.record, expires_at = excluded.expires_at;
    ELSIF p_outcomes[i] = 0 THEN
      -- The finished task's state is kept for its TTL even without a result value (an ack
      -- without a result keeps an earlier attempt's record).
      INSERT INTO @schema@.results AS r (id, state, record, expires_at)
      VALUES (p_ids[i], p_states[i], '', p_now + p_ttls[i])
      ON CONFLICT (id) DO UPDATE SET state = excluded.state, expires_at = excluded.expires_at;
    END IF;
  END LOOP;
  IF n_completed + n_duplicates > 0 THEN
    UPDATE @schema@.counters c SET value = c.value + CASE c.name
        WHEN 'completed' THEN n_completed WHEN 'failed' THEN n_failed ELSE n_duplicates END
     WHERE c.name IN ('completed', 'failed', 'duplicates');
  END IF;
  PERFORM pg_notify(@channel@, '');
  RETURN applied;
END $$;

-- Transactional enqueue for applications in any language: call it inside your own
-- transaction, and the task becomes visible to workers exactly when that transaction commits
-- (never if it rolls back). Returns the task id. `args` is the JSON array of the task's
-- arguments; countdown_ms delays it; expires_ms (> 0) makes it expire that long after now;
-- an id already known to the store makes the call do nothing (and return that id).
CREATE OR REPLACE FUNCTION @schema@.enqueue(
    task text, args jsonb DEFAULT '[]', queue text DEFAULT 'default', priority integer DEFAULT 0,
    countdown_ms bigint DEFAULT 0, id text DEFAULT NULL, expires_ms bigint DEFAULT 0,
    max_deliveries integer DEFAULT 5)
  RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  alphabet constant text := '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  now_ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
  eta bigint := now_ms + greatest(coalesce(countdown_ms, 0), 0);
  task_id text := id;
  t bigint;
  message jsonb;
BEGIN
  IF task IS NULL OR task = '' THEN
    RAISE EXCEPTION 'runq enqueue: the task name is empty' USING ERRCODE = '22023';
  END IF;
  IF args IS NULL OR jsonb_typeof(args) <> 'array' THEN
    RAISE EXCEPTION 'runq enqueue of %: args must be a JSON array, not %', task,
      coalesce(jsonb_typeof(args), 'NULL') USING ERRCODE = '22023';
  END IF;
  IF queue IS NULL OR queue = '' THEN
    RAISE EXCEPTION 'runq enqueue of %: the queue name is empty', task USING ERRCODE = '22023';
  END IF;
  IF priority IS NULL OR priority < 0 OR priority > 9 THEN
    RAISE EXCEPTION 'runq enqueue of %: priority % is outside 0..9', task, priority
      USING ERRCODE = '22023';
  END IF;
  IF max_deliveries IS NULL OR max_deliveries < 1 THEN
    RAISE EXCEPTION 'runq enqueue of %: max_deliveries must be at least 1', task
      USING ERRCODE = '22023';
  END IF;
  IF task_id IS NULL THEN
    -- 26 characters as runq's own ids: 10 of millisecond time, 16 random (Crockford base32).
    task_id := '';
    t := now_ms;
    FOR i IN 1 .. 10 LOOP
      task_id := substr(alphabet, (t % 32)::integer + 1, 1) || task_id;
      t := t / 32;
    END LOOP;
    FOR i IN 1 .. 16 LOOP
      task_id := task_id || substr(alphabet, floor(random() * 32)::integer + 1, 1);
    END LOOP;
  ELSIF task_id = '' THEN
    RAISE EXCEPTION 'runq enqueue of %: the id is empty', task USING ERRCODE = '22023';
  END IF;
  message := jsonb_strip_nulls(jsonb_build_object(
    'id', task_id, 'task', task, 'args', args, 'queue', queue, 'priority', priority,
    'created', now_ms, 'eta', CASE WHEN eta > now_ms THEN eta END,
    'expires', CASE WHEN expires_ms > 0 THEN now_ms + expires_ms END, 'attempt', 1));
  PERFORM @schema@.enqueue_tasks(ARRAY[task_id], ARRAY[queue], ARRAY[priority], ARRAY[eta],
                                 ARRAY[max_deliveries], ARRAY[convert_to(message::text, 'UTF8')],
                                 now_ms);
  RETURN task_id;
END $$;
