-- Worker registry. ARGV: prefix, op, id, ...
--   'beat', id, expires, info -> records the heartbeat; returns 1
--   'remove', id              -> returns 1, or 0 when the worker was not registered
local op, id = ARGV[2], ARGV[3]
local K_WORKERS, K_INFO = P .. 'workers', P .. 'workers:info'
if op == 'beat' then
  redis.call('ZADD', K_WORKERS, tonumber(ARGV[4]), id)
  redis.call('HSET', K_INFO, id, ARGV[5])
  return 1
end
redis.call('ZREM', K_WORKERS, id)
return redis.call('HDEL', K_INFO, id)
