-- Flow control: queue pause and length limits.
--
-- queue_controls holds the queues that have a control set; a row back at its defaults is
-- deleted. A paused queue is left out of the queue list that reserve_tasks and the work
-- check receive (postgres_store.cpp), so no existing function changes here.
CREATE TABLE @schema@.queue_controls (
  queue text PRIMARY KEY,
  paused boolean NOT NULL DEFAULT false,
  max_length bigint NOT NULL DEFAULT 0
);

-- Called in the FROM clause of the statement that calls enqueue_tasks, so it runs first and
-- its error aborts the whole enqueue. The control row of each bounded queue of the batch is
-- locked (FOR UPDATE), which serialises enqueues to that queue until they commit; each count
-- then takes a fresh snapshot (READ COMMITTED, volatile function) that sees the enqueues that
-- went before. Queues without a bound cost one index probe.
CREATE OR REPLACE FUNCTION @schema@.check_queue_room(p_queues text[])
  RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  c record;
  adding bigint;
  queued bigint;
BEGIN
  FOR c IN SELECT q.queue, q.max_length FROM @schema@.queue_controls q
            WHERE q.max_length > 0 AND q.queue = ANY (p_queues)
            ORDER BY q.queue FOR UPDATE LOOP
    SELECT count(*) INTO adding FROM unnest(p_queues) AS u(queue) WHERE u.queue = c.queue;
    SELECT (SELECT count(*) FROM (SELECT 1 FROM @schema@.tasks t
                                   WHERE t.queue = c.queue AND t.state = 'pending'
                                   LIMIT c.max_length) AS p)
         + (SELECT count(*) FROM (SELECT 1 FROM @schema@.tasks t
                                   WHERE t.queue = c.queue AND t.state = 'scheduled'
                                   LIMIT c.max_length) AS s)
      INTO queued;
    IF queued + adding > c.max_length THEN
      RAISE EXCEPTION 'enqueueing tasks: queue ''%'' is full (% tasks)', c.queue, c.max_length
        USING ERRCODE = 'RQ001';
    END IF;
  END LOOP;
  RETURN true;
END $$;
