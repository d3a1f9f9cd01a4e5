-- Unique jobs (Store::enqueue_unique).
--
-- unique_keys holds each key taken by a task: its holder and, when the key has a time bound,
-- when it lapses (0 = none). tasks.unique_key names the key a task took (NULL for the plain
-- tasks, so the column costs them nothing); the triggers below give the key up in the same
-- transaction as the change that ends the task: its row deleted (ack, revoke, purge) or
-- dead-lettered, or, for a key taken until start, handed out. So no existing function changes
-- here. A key that lapsed is taken over by the next enqueue that asks for it.
CREATE TABLE @schema@.unique_keys (
  key text PRIMARY KEY,
  id text NOT NULL,
  expires bigint NOT NULL,
  until_start boolean NOT NULL
);
ALTER TABLE @schema@.tasks ADD COLUMN unique_key text;

CREATE OR REPLACE FUNCTION @schema@.release_unique_key() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    DELETE FROM @schema@.unique_keys u WHERE u.key = OLD.unique_key AND u.id = OLD.id;
  ELSIF NEW.state = 'dead' THEN
    DELETE FROM @schema@.unique_keys u WHERE u.key = OLD.unique_key AND u.id = OLD.id;
  ELSIF NEW.state = 'reserved' THEN
    DELETE FROM @schema@.unique_keys u
     WHERE u.key = OLD.unique_key AND u.id = OLD.id AND u.until_start;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER tasks_unique_deleted AFTER DELETE ON @schema@.tasks
  FOR EACH ROW WHEN (OLD.unique_key IS NOT NULL)
  EXECUTE FUNCTION @schema@.release_unique_key();
CREATE TRIGGER tasks_unique_ended AFTER UPDATE OF state ON @schema@.tasks
  FOR EACH ROW WHEN (OLD.unique_key IS NOT NULL AND NEW.state IN ('dead', 'reserved'))
  EXECUTE FUNCTION @schema@.release_unique_key();

-- enqueue_tasks with unique keys (p_keys[i] '' = none; p_until_start[i] 0 or 1), one task at a time in order.
-- Returns one text per task: the id holding its key when it was not added for that reason,
-- else '' (added, or its id exists). Taking a key is one INSERT ... ON CONFLICT: a producer
-- racing for the same key waits for the other's transaction, then sees its holder.
CREATE OR REPLACE FUNCTION @schema@.enqueue_unique_tasks(
    p_ids text[], p_queues text[], p_priorities integer[], p_etas bigint[],
    p_max_deliveries integer[], p_bodies bytea[], p_now bigint, p_tasks text[],
    p_keys text[], p_for_ms bigint[], p_until_start integer[])
  RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
  n integer := coalesce(array_length(p_ids, 1), 0);
  held text[] := array_fill(''::text, ARRAY[n]);
  holder text;
  got integer;
BEGIN
  FOR i IN 1 .. n LOOP
    IF p_keys[i] <> '' THEN
      holder := NULL;
      INSERT INTO @schema@.unique_keys AS u (key, id, expires, until_start)
      VALUES (p_keys[i], p_ids[i],
              CASE WHEN p_for_ms[i] > 0 THEN p_now + p_for_ms[i] ELSE 0 END,
              p_until_start[i] <> 0)
      ON CONFLICT (key) DO UPDATE
        SET id = excluded.id, expires = excluded.expires, until_start = excluded.until_start
        WHERE u.id = excluded.id OR (u.expires <> 0 AND u.expires <= p_now)
      RETURNING u.id INTO holder;
      IF holder IS NULL THEN  -- held by another task: the conflicting row is locked now
        SELECT u.id INTO holder FROM @schema@.unique_keys u WHERE u.key = p_keys[i];
        held[i] := holder;
        CONTINUE;
      END IF;
    END IF;
    INSERT INTO @schema@.tasks (id, queue, priority, state, eta, max_deliveries, body, unique_key)
    SELECT p_ids[i], p_queues[i], p_priorities[i],
           CASE WHEN p_etas[i] > p_now THEN 'scheduled' ELSE 'pending' END, p_etas[i],
           p_max_deliveries[i], p_bodies[i], nullif(p_keys[i], '')
     WHERE NOT EXISTS (SELECT 1 FROM @schema@.results r
                        WHERE r.id = p_ids[i] AND r.expires_at > p_now)
    ON CONFLICT (id) DO NOTHING;
    GET DIAGNOSTICS got = ROW_COUNT;
    IF got = 1 THEN
      INSERT INTO @schema@.listing AS l (id, enqueued, queue, task)
      VALUES (p_ids[i], p_now, p_queues[i], coalesce(p_tasks[i], ''))
      ON CONFLICT (id) DO UPDATE
        SET enqueued = excluded.enqueued, queue = excluded.queue, task = excluded.task;
    ELSIF p_keys[i] <> '' THEN
      -- the id exists: the key stays only with a live task of that id that took it
      DELETE FROM @schema@.unique_keys u
       WHERE u.key = p_keys[i] AND u.id = p_ids[i]
         AND NOT EXISTS (SELECT 1 FROM @schema@.tasks t
                          WHERE t.id = p_ids[i] AND t.unique_key = p_keys[i]);
    END IF;
  END LOOP;
  PERFORM pg_notify(@channel@, '');
  RETURN held;
END $$;
