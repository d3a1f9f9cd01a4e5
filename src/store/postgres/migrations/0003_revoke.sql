-- Revoke (migration 3): revoke requests for running tasks, revoke_task(), and reserve and
-- settle taught about them. Also two kinds of notification on the channel: payload 'w' when
-- work may have appeared (enqueue, retry, release), '' when tasks only finished (for waiters
-- on results), so that idle workers wake only for work. @schema@ is the schema, @channel@ the
-- NOTIFY channel.

-- A pending request to revoke a task that was reserved when it was revoked; `record` and `ttl`
-- are the REVOKED result to store if its lease lapses first. Nearly always empty.
CREATE TABLE @schema@.revokes (
  id text PRIMARY KEY,
  terminate boolean NOT NULL,
  record bytea NOT NULL,
  ttl bigint NOT NULL
);

-- Ends task p_id REVOKED: leaves the queue, its result stored (an empty record keeps an
-- earlier attempt's), counted completed.
CREATE OR REPLACE FUNCTION @schema@.end_revoked(p_id text, p_record bytea, p_ttl bigint,
                                                p_now bigint)
  RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM @schema@.tasks t WHERE t.id = p_id;
  DELETE FROM @schema@.revokes r WHERE r.id = p_id;
  IF length(p_record) = 0 THEN
    INSERT INTO @schema@.results AS r (id, state, record, expires_at)
    VALUES (p_id, 'revoked', '', p_now + p_ttl)
    ON CONFLICT (id) DO UPDATE SET state = excluded.state, expires_at = excluded.expires_at;
  ELSE
    INSERT INTO @schema@.results AS r (id, state, record, expires_at)
    VALUES (p_id, 'revoked', p_record, p_now + p_ttl)
    ON CONFLICT (id) DO UPDATE
      SET state = excluded.state, record = excluded.record, expires_at = excluded.expires_at;
  END IF;
  UPDATE @schema@.counters c SET value = c.value + 1 WHERE c.name = 'completed';
END $$;

-- Revokes task p_id (Store::revoke): a queued, scheduled or retrying task ends REVOKED at once
-- ('revoked'); a reserved one gets a request for its holder ('reserved'); a dead or finished
-- one is left alone (its state). NULL when the store does not know the id.
CREATE OR REPLACE FUNCTION @schema@.revoke_task(p_id text, p_terminate boolean, p_record bytea,
                                                p_ttl bigint, p_now bigint)
  RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  st text;
BEGIN
  SELECT t.state INTO st FROM @schema@.tasks t WHERE t.id = p_id FOR UPDATE;
  IF NOT FOUND THEN
    SELECT r.state INTO st FROM @schema@.results r WHERE r.id = p_id AND r.expires_at > p_now;
    IF NOT FOUND OR st NOT IN ('success', 'failure', 'expired', 'revoked', 'dead') THEN
      RETURN NULL;
    END IF;
    RETURN st;
  END IF;
  IF st = 'dead' THEN
    RETURN 'dead';
  END IF;
  IF st = 'reserved' THEN
    INSERT INTO @schema@.revokes AS r (id, terminate, record, ttl)
    VALUES (p_id, p_terminate, p_record, p_ttl)
    ON CONFLICT (id) DO UPDATE
      SET terminate = r.terminate OR excluded.terminate, record = excluded.record,
          ttl = excluded.ttl;
    RETURN 'reserved';
  END IF;
  PERFORM @schema@.end_revoked(p_id, p_record, p_ttl, p_now);
  RETURN 'revoked';
END $$;

CREATE OR REPLACE FUNCTION @schema@.reserve_tasks(
    p_queues text[], p_worker text, p_max integer, p_lease_ms bigint, p_now bigint)
  RETURNS TABLE (id text, queue text, body bytea, token bigint, deliveries integer,
                 priority smallint, seq bigint)
  LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  lapsed record;
  q text;
  taken integer := 0;
  got integer;
BEGIN
  UPDATE @schema@.tasks t SET state = 'pending'
   WHERE t.seq IN (SELECT s.seq FROM @schema@.tasks s
                    WHERE s.state = 'scheduled' AND s.queue = ANY (p_queues) AND s.eta <= p_now
                    FOR UPDATE SKIP LOCKED);
  -- A lapsed lease whose task was revoked meanwhile ends REVOKED instead of going back.
  IF EXISTS (SELECT 1 FROM @schema@.revokes) THEN
    FOR lapsed IN SELECT t.id, r.record, r.ttl
                    FROM @schema@.tasks t JOIN @schema@.revokes r ON r.id = t.id
                   WHERE t.state = 'reserved' AND t.lease_expires <= p_now
                     FOR UPDATE OF t SKIP LOCKED LOOP
      PERFORM @schema@.end_revoked(lapsed.id, lapsed.record, lapsed.ttl, p_now);
    END LOOP;
  END IF;
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
  any_revoke boolean := EXISTS (SELECT 1 FROM @schema@.revokes);
  n_completed bigint := 0;
  n_failed bigint := 0;
  n_duplicates bigint := 0;
  n_work bigint := 0;
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
    IF any_revoke THEN
      DELETE FROM @schema@.revokes r WHERE r.id = p_ids[i];
    END IF;
    IF p_outcomes[i] IN (1, 3) THEN
      n_work := n_work + 1;
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
  PERFORM pg_notify(@channel@, CASE WHEN n_work > 0 THEN 'w' ELSE '' END);
  RETURN applied;
END $$;

CREATE OR REPLACE FUNCTION @schema@.enqueue_tasks(
    p_ids text[], p_queues text[], p_priorities integer[], p_etas bigint[],
    p_max_deliveries integer[], p_bodies bytea[], p_now bigint, p_tasks text[])
  RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    WITH ins AS (
    INSERT INTO @schema@.tasks (id, queue, priority, state, eta, max_deliveries, body)
    SELECT u.id, u.queue, u.priority,
           CASE WHEN u.eta > p_now THEN 'scheduled' ELSE 'pending' END, u.eta, u.maxd, u.body
      FROM unnest(p_ids, p_queues, p_priorities, p_etas, p_max_deliveries, p_bodies)
           WITH ORDINALITY AS u(id, queue, priority, eta, maxd, body, ord)
     WHERE NOT EXISTS (SELECT 1 FROM @schema@.tasks t WHERE t.id = u.id)
       AND NOT EXISTS (SELECT 1 FROM @schema@.results r
                        WHERE r.id = u.id AND r.expires_at > p_now)
     ORDER BY u.ord
    RETURNING id, queue)
    INSERT INTO @schema@.listing AS l (id, enqueued, queue, task)
    SELECT DISTINCT ON (ins.id) ins.id, p_now, ins.queue, coalesce(n.task, '')
      FROM ins LEFT JOIN unnest(p_ids, p_tasks) AS n(id, task) ON n.id = ins.id
    ON CONFLICT (id) DO UPDATE
      SET enqueued = excluded.enqueued, queue = excluded.queue, task = excluded.task;
  EXCEPTION WHEN unique_violation THEN
    WITH ins AS (
    INSERT INTO @schema@.tasks (id, queue, priority, state, eta, max_deliveries, body)
    SELECT u.id, u.queue, u.priority,
           CASE WHEN u.eta > p_now THEN 'scheduled' ELSE 'pending' END, u.eta, u.maxd, u.body
      FROM unnest(p_ids, p_queues, p_priorities, p_etas, p_max_deliveries, p_bodies)
           WITH ORDINALITY AS u(id, queue, priority, eta, maxd, body, ord)
     WHERE NOT EXISTS (SELECT 1 FROM @schema@.results r
                        WHERE r.id = u.id AND r.expires_at > p_now)
     ORDER BY u.ord
    ON CONFLICT (id) DO NOTHING
    RETURNING id, queue)
    INSERT INTO @schema@.listing AS l (id, enqueued, queue, task)
    SELECT DISTINCT ON (ins.id) ins.id, p_now, ins.queue, coalesce(n.task, '')
      FROM ins LEFT JOIN unnest(p_ids, p_tasks) AS n(id, task) ON n.id = ins.id
    ON CONFLICT (id) DO UPDATE
      SET enqueued = excluded.enqueued, queue = excluded.queue, task = excluded.task;
  END;
  PERFORM pg_notify(@channel@, 'w');
END $$;
