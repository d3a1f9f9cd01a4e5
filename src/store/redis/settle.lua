-- settle: applies a batch of settlements from the current lease holders.
-- ARGV: prefix, now, then per settlement: outcome, id, token, state, result, number, text
--   outcome 'a' ack (state = final state name, number = result ttl ms)
--           'r' retry (number = retry_at, text = new body or '')
--           'd' dead letter (text = reason)
--           'l' release
-- Returns one flag per settlement: 1 applied, 0 refused because the holder is stale.
local now = tonumber(ARGV[2])
local flags = {}
local completed, failed, duplicates = 0, 0, 0
local unleased = {}  -- queue -> ids whose lease ends here
local expiring = {}  -- second of expiry -> finished ids (cleanup's index, see common.lua)

-- The task hash (and its body) goes; a compact finished record stays until its ttl.
local function ack(id, k, t, state, result, ttl)
  ttl = math.max(ttl, 1)
  local expires = now + ttl
  redis.call('DEL', k)
  redis.call('SET', fkey(id), state .. SEP .. expires .. SEP .. (t[4] or '0') .. SEP ..
             (t[5] or '0') .. SEP .. (t[6] or '') .. SEP .. result, 'PX', ttl + EXPIRY_GRACE_MS)
  local second = math.floor(expires / 1000)
  local ids = expiring[second]
  if not ids then ids = {}; expiring[second] = ids end
  ids[#ids + 1] = id
  completed = completed + 1
  if state == 'failure' then failed = failed + 1 end
  notify(id)
end

local function retry(id, k, q, result, retry_at, body)
  redis.call('HSET', k, 's', 'retry', 'eta', retry_at, 'd', 0)
  if body ~= '' then redis.call('HSET', k, 'b', body) end
  redis.call('HDEL', k, 'w', 'le')
  if result ~= '' then
    redis.call('HSET', k, 'r', result)
    notify(id)
  end
  ensure_type(skey(q), 'zset')
  redis.call('ZADD', skey(q), retry_at, id)
  redis.call('ZADD', K_TIMERS, 'LT', retry_at, q)
  wake(q)  -- waiting workers recompute how long to sleep
end

local function release(id, k, q, t)
  redis.call('HSET', k, 's', 'pending', 'd', math.max((tonumber(t[4]) or 1) - 1, 0))
  redis.call('HDEL', k, 'w', 'le')
  local key = qkey(q, t[5] or '0')
  ensure_type(key, 'list')
  redis.call('LPUSH', key, id)  -- back at the front: it was first in line
  wake(q)
end

for i = 3, #ARGV, 7 do
  local outcome, id, token = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local k = tkey(id)
  local t = read_task(id, 's', 'tok', 'q', 'd', 'p', 'pr')
  if not t or t[1] ~= 'reserved' or t[2] ~= token or not t[3] then
    duplicates = duplicates + 1
    flags[#flags + 1] = 0
  else
    local q = t[3]
    local list = unleased[q]
    if not list then list = {}; unleased[q] = list end
    list[#list + 1] = id
    local result, number, text = ARGV[i + 4], tonumber(ARGV[i + 5]), ARGV[i + 6]
    if outcome == 'a' then
      ack(id, k, t, ARGV[i + 3], result, number)
    elseif outcome == 'r' then
      retry(id, k, q, result, number, text)
    elseif outcome == 'd' then
      dead_letter(id, q, text, now)
      if result ~= '' then redis.call('HSET', k, 'r', result) end
    else
      release(id, k, q, t)
    end
    flags[#flags + 1] = 1
  end
end

for q, ids in pairs(unleased) do
  for j = 1, #ids, 4000 do
    redis.pcall('ZREM', lkey(q), unpack(ids, j, math.min(j + 3999, #ids)))
  end
end
for second, ids in pairs(expiring) do
  rpush_all(xkey(second), ids)
  redis.call('ZADD', K_EXPIRY, 'NX', second, second)
end
if completed > 0 then redis.call('HINCRBY', K_STATS, 'completed', completed) end
if failed > 0 then redis.call('HINCRBY', K_STATS, 'failed', failed) end
if duplicates > 0 then redis.call('HINCRBY', K_STATS, 'duplicates', duplicates) end
return flags
