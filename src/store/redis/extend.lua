-- extend: moves the lease of each current holder to now + lease_ms.
-- ARGV: prefix, now, lease_ms, then per lease: id, token. Returns one flag (1/0) per lease.
local lease_until = tonumber(ARGV[2]) + tonumber(ARGV[3])
local flags = {}
local queues = {}  -- queue -> (lease_until, id) pairs
local writes = new_writes()
local ids = {}
for i = 4, #ARGV, 2 do ids[#ids + 1] = ARGV[i] end
local records = hmget(K_TASKS, ids)
local current = {}  -- id -> its record as extended earlier in this batch
for n, id in ipairs(ids) do
  local t = current[id] or parse(records[n])
  if t and t.s == 'reserved' and t.tok == ARGV[3 + 2 * n] and t.q ~= '' then
    t.le = lease_until
    current[id] = t
    writes:put(id, t)
    local list = queues[t.q]
    if not list then list = {}; queues[t.q] = list end
    list[#list + 1] = lease_until
    list[#list + 1] = id
    flags[n] = 1
  else
    flags[n] = 0
  end
end
writes:flush()
-- A shorter lease than before may end before the queue's timer: keep it a lower bound.
for q, list in pairs(queues) do
  if ensure_type(lkey(q), 'zset') then zadd_all(lkey(q), list) end
  redis.call('ZADD', K_TIMERS, 'LT', lease_until, q)
end
return flags
