-- stats: ARGV: prefix, now. Read-only.
-- Returns {queue rows (queue, pending, scheduled, running, dead)..., counters, worker infos}.
local now = tonumber(ARGV[2])
local function card(key)
  local n = redis.pcall('ZCARD', key)
  if type(n) == 'number' then return n end
  return 0
end
local rows = {}
for _, q in ipairs(redis.call('SMEMBERS', K_QUEUES)) do
  local pending = 0
  for _, key in ipairs(ready_keys(q)) do
    local n = redis.pcall('LLEN', key)
    if type(n) == 'number' then pending = pending + n end
  end
  local sched, running = card(skey(q)), card(lkey(q))
  local dead = tonumber(redis.call('HGET', K_DEADN, q)) or 0
  if pending + sched + running + dead > 0 then
    for _, v in ipairs({q, pending, sched, running, dead}) do rows[#rows + 1] = v end
  end
end
local counters = redis.call('HMGET', K_STATS, 'completed', 'failed', 'duplicates')
local workers = {}
local ids = redis.call('ZRANGEBYSCORE', P .. 'workers', '(' .. now, '+inf')
if #ids > 0 then workers = redis.call('HMGET', P .. 'workers:info', unpack(ids)) end
return {rows, counters, workers}
