-- cleanup: removes dead letters older than the retention, expired worker heartbeats, stale
-- wait registrations and queues that have nothing left; finished tasks whose result expired.
-- ARGV: prefix, now, dead_cutoff. Returns how many records were removed.
local now = tonumber(ARGV[2])
local removed = 0
local old = redis.call('ZRANGEBYSCORE', K_DEAD, '-inf', tonumber(ARGV[3]), 'LIMIT', 0, 1000)
for _, id in ipairs(old) do
  local t = read_task(id, 's', 'q')
  if t and t[1] == 'dead' then
    redis.call('DEL', tkey(id))
    if t[2] then redis.call('HINCRBY', K_DEADN, t[2], -1) end
  end
  redis.call('ZREM', K_DEAD, id)
  removed = removed + 1
end
local expired = redis.call('ZRANGEBYSCORE', K_EXPIRY, '-inf', now, 'LIMIT', 0, 10000)
for _, id in ipairs(expired) do
  local exp = redis.pcall('HGET', tkey(id), 'exp')
  local at = type(exp) == 'string' and tonumber(exp)
  if at and at <= now then redis.call('DEL', tkey(id)) end
  redis.call('ZREM', K_EXPIRY, id)
  removed = removed + 1
end
local gone = redis.call('ZRANGEBYSCORE', P .. 'workers', '-inf', now)
for _, id in ipairs(gone) do
  redis.call('HDEL', P .. 'workers:info', id)
  redis.call('ZREM', P .. 'workers', id)
  removed = removed + 1
end
redis.call('ZREMRANGEBYSCORE', K_WAITING, '-inf', now - 3600000)
for _, q in ipairs(redis.call('SMEMBERS', K_QUEUES)) do
  local busy = redis.call('EXISTS', qkey(q), skey(q), lkey(q))
  if busy == 0 and (tonumber(redis.call('HGET', K_DEADN, q)) or 0) <= 0 then
    redis.call('SREM', K_QUEUES, q)
    redis.call('HDEL', K_DEADN, q)
    redis.call('DEL', wkey(q))
  end
end
return removed
