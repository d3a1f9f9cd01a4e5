-- extend: moves the lease of each current holder to now + lease_ms.
-- ARGV: prefix, now, lease_ms, then per lease: id, token. Returns one flag (1/0) per lease.
local lease_until = tonumber(ARGV[2]) + tonumber(ARGV[3])
local flags = {}
local queues = {}
for i = 4, #ARGV, 2 do
  local id = ARGV[i]
  local t = read_task(id, 's', 'tok', 'q')
  if t and t[1] == 'reserved' and t[2] == ARGV[i + 1] and t[3] then
    redis.call('HSET', tkey(id), 'le', lease_until)
    redis.pcall('ZADD', lkey(t[3]), lease_until, id)
    queues[t[3]] = true
    flags[#flags + 1] = 1
  else
    flags[#flags + 1] = 0
  end
end
-- A shorter lease than before may end before the queue's timer: keep it a lower bound.
for q in pairs(queues) do redis.call('ZADD', K_TIMERS, 'LT', lease_until, q) end
return flags
