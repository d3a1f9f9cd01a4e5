-- cleanup: removes dead letters older than the retention, expired worker heartbeats, stale
-- wait registrations and queues that have nothing left; finished tasks whose result expired.
-- ARGV: prefix, now, dead_cutoff. Returns how many records were removed.
local now = tonumber(ARGV[2])
local removed = 0
local old = redis.call('ZRANGEBYSCORE', K_DEAD, '-inf', tonumber(ARGV[3]), 'LIMIT', 0, 1000)
local records = hmget(K_TASKS, old)
local writes = new_writes()
for n, id in ipairs(old) do
  local t = parse(records[n])
  if t and t.s == 'dead' then
    writes:remove(id)
    redis.call('HINCRBY', K_DEADN, t.q, -1)
  end
  redis.call('ZREM', K_DEAD, id)
  removed = removed + 1
end
writes:flush()
local unlisted = {}
for n, id in ipairs(old) do
  local t = parse(records[n])
  if t and t.s == 'dead' then unlisted[#unlisted + 1] = id end
end
unlist(unlisted)
limits_forget(unlisted)  -- flow_lib.lua
-- Finished records, by second of expiry. An id whose record is gone (deleted, or enqueued
-- again) is dropped; one not due yet stays in its list.
local budget = 10000
for _, second in ipairs(redis.call('ZRANGEBYSCORE', K_EXPIRY, '-inf', math.floor(now / 1000),
                                   'LIMIT', 0, 1000)) do
  if budget <= 0 then break end
  local key = xkey(second)
  local ids = redis.call('LRANGE', key, 0, budget - 1)
  budget = budget - #ids
  local keep = {}
  local due = {}
  local records = hmget(K_FINISHED, ids)
  for n, id in ipairs(ids) do
    local at = records[n] and finished_expiry(records[n])
    if at and at <= now then
      if not due[id] then
        due[id] = true
        due[#due + 1] = id
        removed = removed + 1
      end
    elseif at and math.floor(at / 1000) == tonumber(second) then
      keep[#keep + 1] = id
    end
  end
  if #due > 0 then
    hash_call('HDEL', K_FINISHED, due)
    if redis.call('EXISTS', P .. 'wf:canceled') == 1 then hash_call('HDEL', P .. 'wf:canceled', due) end
    unlist(due)
  end
  redis.call('LTRIM', key, #ids, -1)
  rpush_all(key, keep)
  if redis.call('EXISTS', key) == 0 then redis.call('ZREM', K_EXPIRY, second) end
end
local gone = redis.call('ZRANGEBYSCORE', P .. 'workers', '-inf', now)
for _, id in ipairs(gone) do
  redis.call('HDEL', P .. 'workers:info', id)
  redis.call('ZREM', P .. 'workers', id)
  removed = removed + 1
end
redis.call('ZREMRANGEBYSCORE', K_WAITING, '-inf', now - 3600000)
for _, q in ipairs(redis.call('SMEMBERS', K_QUEUES)) do
  local busy = has_ready(q) or redis.call('EXISTS', skey(q), lkey(q)) > 0
  if not busy and (tonumber(redis.call('HGET', K_DEADN, q)) or 0) <= 0 then
    redis.call('SREM', K_QUEUES, q)
    redis.call('HDEL', K_DEADN, q)
    redis.call('DEL', wkey(q))
  end
end
return removed
