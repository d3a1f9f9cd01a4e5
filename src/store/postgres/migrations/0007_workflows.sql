-- Workflows (migration 4): dependencies (WAITING tasks and their counters), CANCELED tasks,
-- and settlements' follow-up tasks (Store WorkflowLinks / FollowUps). A WAITING task is a tasks
-- row in state 'waiting' (outside every partial index); wf_waits holds its counter, wf_deps one
-- row per (dependency, waiting task) edge, looked up when the dependency ends, in the same
-- transaction that ends it. A CANCELED task is a results row (state 'canceled') and its reason
-- in wf_canceled. @schema@ is the schema, @channel@ the NOTIFY channel.
CREATE TABLE @schema@.wf_deps (
  dep text NOT NULL,
  waiter text NOT NULL,
  PRIMARY KEY (dep, waiter)
);
CREATE TABLE @schema@.wf_waits (
  id text PRIMARY KEY,
  remaining integer NOT NULL,
  allow_failure boolean NOT NULL
);
CREATE TABLE @schema@.wf_canceled (id text PRIMARY KEY, reason text NOT NULL);

-- The state of p_id as a dependency sees it: its live row's, else its unexpired result's.
CREATE OR REPLACE FUNCTION @schema@.wf_state(p_id text, p_now bigint)
  RETURNS text LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT t.state FROM @schema@.tasks t WHERE t.id = p_id),
                  (SELECT r.state FROM @schema@.results r
                    WHERE r.id = p_id AND r.expires_at > p_now))
$$;

-- Why a task waiting on p_dep (ended p_state) is canceled: the root cause travels down.
CREATE OR REPLACE FUNCTION @schema@.wf_reason(p_dep text, p_state text)
  RETURNS text LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN p_state = 'canceled'
              THEN coalesce((SELECT c.reason FROM @schema@.wf_canceled c WHERE c.id = p_dep), '')
              ELSE 'dependency ' || p_dep || ' ended ' || p_state END
$$;

CREATE OR REPLACE FUNCTION @schema@.wf_mark_canceled(p_id text, p_reason text, p_now bigint)
  RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO @schema@.results AS r (id, state, record, expires_at)
  VALUES (p_id, 'canceled', '', p_now + 86400000)
  ON CONFLICT (id) DO UPDATE SET state = excluded.state, expires_at = excluded.expires_at;
  INSERT INTO @schema@.wf_canceled AS c (id, reason) VALUES (p_id, p_reason)
  ON CONFLICT (id) DO UPDATE SET reason = excluded.reason;
END $$;

-- Task p_id ended in final p_state: counts it for the tasks waiting on it, queueing those it
-- was the last for, cancelling (transitively) those it fails.
CREATE OR REPLACE FUNCTION @schema@.wf_resolve(p_id text, p_state text, p_now bigint)
  RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  todo_ids text[] := ARRAY[p_id];
  todo_states text[] := ARRAY[p_state];
  v_dep text;
  v_state text;
  v_w text;
  v_wait record;
  n integer;
BEGIN
  WHILE coalesce(array_length(todo_ids, 1), 0) > 0 LOOP
    n := array_length(todo_ids, 1);
    v_dep := todo_ids[n];
    v_state := todo_states[n];
    todo_ids := todo_ids[1:n - 1];
    todo_states := todo_states[1:n - 1];
    FOR v_w IN DELETE FROM @schema@.wf_deps d WHERE d.dep = v_dep RETURNING d.waiter LOOP
      SELECT x.remaining, x.allow_failure INTO v_wait FROM @schema@.wf_waits x
       WHERE x.id = v_w FOR UPDATE;
      CONTINUE WHEN NOT FOUND;
      IF v_state = 'success' OR v_wait.allow_failure THEN
        IF v_wait.remaining > 1 THEN
          UPDATE @schema@.wf_waits x SET remaining = x.remaining - 1 WHERE x.id = v_w;
        ELSE
          DELETE FROM @schema@.wf_waits x WHERE x.id = v_w;
          UPDATE @schema@.tasks t
             SET state = CASE WHEN t.eta <= p_now THEN 'pending' ELSE 'scheduled' END
           WHERE t.id = v_w AND t.state = 'waiting';
          PERFORM pg_notify(@channel@, 'w');
        END IF;
      ELSE
        DELETE FROM @schema@.wf_waits x WHERE x.id = v_w;
        DELETE FROM @schema@.tasks t WHERE t.id = v_w;
        PERFORM @schema@.wf_mark_canceled(v_w, @schema@.wf_reason(v_dep, v_state), p_now);
        PERFORM pg_notify(@channel@, '');
        todo_ids := todo_ids || v_w;
        todo_states := todo_states || 'canceled'::text;
      END IF;
    END LOOP;
  END LOOP;
END $$;

-- The first dependency in p_deps the store does not hold, or NULL.
CREATE OR REPLACE FUNCTION @schema@.wf_missing(p_deps text[], p_now bigint)
  RETURNS text LANGUAGE sql STABLE AS $$
  SELECT d FROM unnest(p_deps) WITH ORDINALITY AS u(d, ord)
   WHERE @schema@.wf_state(d, p_now) IS NULL ORDER BY ord LIMIT 1
$$;

-- Adds one linked task (dependencies, or added canceled) unless its id is taken.
CREATE OR REPLACE FUNCTION @schema@.wf_add(
    p_id text, p_queue text, p_priority integer, p_eta bigint, p_maxd integer, p_body bytea,
    p_task text, p_deps text[], p_allow boolean, p_canceled text, p_now bigint)
  RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_cancel text := coalesce(p_canceled, '');
  v_open text[] := ARRAY[]::text[];
  d text;
  st text;
BEGIN
  IF @schema@.wf_state(p_id, p_now) IS NOT NULL THEN
    RETURN;
  END IF;
  IF v_cancel = '' THEN
    FOR d IN SELECT DISTINCT x FROM unnest(p_deps) AS x LOOP
      st := @schema@.wf_state(d, p_now);
      IF st IS NULL THEN
        RAISE EXCEPTION 'enqueueing task ''%'': dependency ''%'' does not exist', p_id, d
          USING ERRCODE = '22023';
      ELSIF st NOT IN ('success', 'failure', 'expired', 'revoked', 'dead', 'canceled') THEN
        v_open := v_open || d;
      ELSIF st <> 'success' AND NOT p_allow THEN
        v_cancel := @schema@.wf_reason(d, st);
        EXIT;
      END IF;
    END LOOP;
  END IF;
  INSERT INTO @schema@.listing AS l (id, enqueued, queue, task)
  VALUES (p_id, p_now, p_queue, coalesce(p_task, ''))
  ON CONFLICT (id) DO UPDATE
    SET enqueued = excluded.enqueued, queue = excluded.queue, task = excluded.task;
  IF v_cancel <> '' THEN
    PERFORM @schema@.wf_mark_canceled(p_id, v_cancel, p_now);
    PERFORM pg_notify(@channel@, '');
    RETURN;
  END IF;
  INSERT INTO @schema@.tasks (id, queue, priority, state, eta, max_deliveries, body)
  VALUES (p_id, p_queue, p_priority,
          CASE WHEN array_length(v_open, 1) > 0 THEN 'waiting'
               WHEN p_eta > p_now THEN 'scheduled' ELSE 'pending' END,
          p_eta, p_maxd, p_body);
  IF array_length(v_open, 1) > 0 THEN
    INSERT INTO @schema@.wf_deps (dep, waiter) SELECT x, p_id FROM unnest(v_open) AS x
    ON CONFLICT DO NOTHING;
    INSERT INTO @schema@.wf_waits (id, remaining, allow_failure)
    VALUES (p_id, array_length(v_open, 1), p_allow);
  ELSE
    PERFORM pg_notify(@channel@, 'w');
  END IF;
END $$;

-- Adds linked tasks in order (the arrays are parallel; p_deps holds each task's dependencies
-- joined by \x1f; p_allow 't' or 'f').
CREATE OR REPLACE FUNCTION @schema@.wf_add_all(
    p_ids text[], p_queues text[], p_priorities integer[], p_etas bigint[], p_maxd integer[],
    p_bodies bytea[], p_tasks text[], p_deps text[], p_allow text[], p_canceled text[],
    p_now bigint)
  RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
    PERFORM @schema@.wf_add(p_ids[i], p_queues[i], p_priorities[i], p_etas[i], p_maxd[i],
                            p_bodies[i], p_tasks[i],
                            CASE WHEN p_deps[i] = '' THEN ARRAY[]::text[]
                                 ELSE string_to_array(p_deps[i], E'\x1f') END,
                            p_allow[i] = 't', p_canceled[i], p_now);
  END LOOP;
END $$;

-- reserve_tasks, and the dependents of tasks it dead-letters (lapsed leases) resolved.
CREATE OR REPLACE FUNCTION @schema@.wf_reserve_tasks(
    p_queues text[], p_worker text, p_max integer, p_lease_ms bigint, p_now bigint)
  RETURNS TABLE (id text, queue text, body bytea, token bigint, deliveries integer,
                 priority smallint, seq bigint)
  LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  dying text[];
  d text;
BEGIN
  IF EXISTS (SELECT 1 FROM @schema@.wf_waits) THEN
    dying := ARRAY(SELECT t.id FROM @schema@.tasks t
                    WHERE t.state = 'reserved' AND t.lease_expires <= p_now
                      AND t.deliveries >= t.max_deliveries
                      AND t.id IN (SELECT x.dep FROM @schema@.wf_deps x));
  END IF;
  RETURN QUERY SELECT * FROM @schema@.reserve_tasks(p_queues, p_worker, p_max, p_lease_ms, p_now);
  IF dying IS NOT NULL THEN
    FOREACH d IN ARRAY dying LOOP
      IF (SELECT t.state FROM @schema@.tasks t WHERE t.id = d) = 'dead' THEN
        PERFORM @schema@.wf_resolve(d, 'dead', p_now);
      END IF;
    END LOOP;
  END IF;
END $$;

-- settle_tasks, then for the settlements applied: their dependents resolved and their
-- follow-ups added (p_fu_owner: the 1-based settlement each follow-up belongs to).
CREATE OR REPLACE FUNCTION @schema@.wf_settle_tasks(
    p_ids text[], p_tokens bigint[], p_outcomes integer[], p_states text[],
    p_results bytea[], p_ttls bigint[], p_retry_at bigint[], p_bodies bytea[],
    p_reasons text[], p_now bigint,
    p_fu_owner integer[], p_fu_ids text[], p_fu_queues text[], p_fu_priorities integer[],
    p_fu_etas bigint[], p_fu_maxd integer[], p_fu_bodies bytea[], p_fu_tasks text[],
    p_fu_deps text[], p_fu_allow text[], p_fu_canceled text[])
  RETURNS boolean[] LANGUAGE plpgsql AS $$
DECLARE
  applied boolean[];
  i integer;
BEGIN
  applied := @schema@.settle_tasks(p_ids, p_tokens, p_outcomes, p_states, p_results, p_ttls,
                                   p_retry_at, p_bodies, p_reasons, p_now);
  IF EXISTS (SELECT 1 FROM @schema@.wf_waits) THEN
    FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
      IF applied[i] AND p_outcomes[i] IN (0, 2) THEN
        PERFORM @schema@.wf_resolve(p_ids[i],
                                    CASE WHEN p_outcomes[i] = 2 THEN 'dead' ELSE p_states[i] END,
                                    p_now);
      END IF;
    END LOOP;
  END IF;
  FOR i IN 1 .. coalesce(array_length(p_fu_ids, 1), 0) LOOP
    IF applied[p_fu_owner[i]] THEN
      PERFORM @schema@.wf_add(p_fu_ids[i], p_fu_queues[i], p_fu_priorities[i], p_fu_etas[i],
                              p_fu_maxd[i], p_fu_bodies[i], p_fu_tasks[i],
                              CASE WHEN p_fu_deps[i] = '' THEN ARRAY[]::text[]
                                   ELSE string_to_array(p_fu_deps[i], E'\x1f') END,
                              p_fu_allow[i] = 't', p_fu_canceled[i], p_now);
    END IF;
  END LOOP;
  RETURN applied;
END $$;

-- end_revoked (migration 3) also resolves the revoked task's dependents.
CREATE OR REPLACE FUNCTION @schema@.end_revoked(p_id text, p_record bytea, p_ttl bigint,
                                                p_now bigint)
  RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM @schema@.tasks t WHERE t.id = p_id;
  DELETE FROM @schema@.revokes r WHERE r.id = p_id;
  DELETE FROM @schema@.wf_waits x WHERE x.id = p_id;
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
  PERFORM @schema@.wf_resolve(p_id, 'revoked', p_now);
END $$;
