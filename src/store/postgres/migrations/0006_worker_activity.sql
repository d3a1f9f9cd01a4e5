-- Worker activity (migration 6): WorkerInfo::activity, the JSON a worker reports with each
-- heartbeat (its running tasks, per-task-name counters and per-minute histograms).
ALTER TABLE @schema@.workers ADD COLUMN IF NOT EXISTS activity text NOT NULL DEFAULT '';
