-- reserve: housekeeping (promote due scheduled tasks, reclaim lapsed leases) on every queue
-- whose timer is due, then hands out up to `max` ready tasks from the queues in order.
-- ARGV: prefix, now, worker, max, lease_ms, lease_until (= now + lease_ms), queue...
-- Returns a flat array: id, queue, body, token, deliveries, lease_expires per delivery.
local now = tonumber(ARGV[2])
local worker = ARGV[3]
local max = tonumber(ARGV[4])
local lease_until = now + tonumber(ARGV[5])
local lease_until_text = ARGV[6]  -- stored as sent: no number formatting per task
local budget = 1000  -- scheduled or leased tasks examined per call; the rest waits for the next

local function promote(q)
  local ids = redis.call('ZRANGEBYSCORE', skey(q), '-inf', now, 'LIMIT', 0, budget)
  if #ids == 0 then return end
  budget = budget - #ids
  local seq = redis.call('INCRBY', K_SEQ, #ids) - #ids
  local batch = new_batch()
  for i, id in ipairs(ids) do
    local t = read_task(id, 'p', 's')
    if t and (t[2] == 'scheduled' or t[2] == 'retry') then
      local score = ready_score(tonumber(t[1]) or 0, seq + i)
      redis.call('HSET', tkey(id), 's', 'pending')
      batch:add_ready(q, score, id)
    end
  end
  redis.call('ZREM', skey(q), unpack(ids))
  batch:flush()
end

local function reclaim(q)
  local ids = redis.call('ZRANGEBYSCORE', lkey(q), '-inf', now, 'LIMIT', 0, budget)
  if #ids == 0 then return end
  budget = budget - #ids
  local back = false
  for _, id in ipairs(ids) do
    local t = read_task(id, 's', 'd', 'md', 'w', 'sc')
    if t and t[1] == 'reserved' then
      local d = tonumber(t[2]) or 0
      if d >= (tonumber(t[3]) or 1) then
        dead_letter(id, q, 'lease lapsed ' .. d .. ' times; last worker ' .. (t[4] or '?') ..
                    ' stopped heartbeating', now)
      else
        redis.call('HSET', tkey(id), 's', 'pending')
        redis.call('HDEL', tkey(id), 'w', 'le')
        redis.call('ZADD', qkey(q), tonumber(t[5]) or 0, id)
        back = true
      end
    end
  end
  redis.call('ZREM', lkey(q), unpack(ids))
  if back then wake(q) end
end

local due = redis.call('ZRANGEBYSCORE', K_TIMERS, '-inf', now, 'LIMIT', 0, 64)
for _, q in ipairs(due) do
  if budget <= 0 then break end
  if ensure_type(skey(q), 'zset') and ensure_type(lkey(q), 'zset') then
    promote(q)
    reclaim(q)
  end
  rearm_timer(q)
end

local out = {}
local got = 0
local token = nil  -- next fencing token; allocated on the first hand-out only (no idle writes)

-- Leases one popped id. Stale index entries (no such task, or not pending) are dropped.
local function take(id, q, score, leased)
  local t = read_task(id, 's', 'b', 'd', 'md')
  if not t then
    quarantine(id, q, now)
    return
  end
  if t[1] ~= 'pending' and (STATES[t[1]] or not (t[2] or t[3] or t[4])) then
    return  -- the index entry is stale: the task moved on, or never existed
  end
  local d = tonumber(t[3])
  if t[1] ~= 'pending' or not t[2] or not d or not tonumber(t[4]) then
    dead_letter(id, q, 'corrupt task record: state, body or delivery counters unreadable', now)
    return
  end
  if not token then token = redis.call('INCRBY', K_TOKEN, max - got) - (max - got) end
  token = token + 1
  d = d + 1
  -- The ready score is kept so that a release or a lapse puts the task back in its place.
  redis.call('HSET', tkey(id), 's', 'reserved', 'tok', token, 'd', d, 'w', worker,
             'le', lease_until_text, 'sc', score)
  leased[#leased + 1] = lease_until_text
  leased[#leased + 1] = id
  local n = #out
  out[n + 1] = id
  out[n + 2] = q
  out[n + 3] = t[2]
  out[n + 4] = token
  out[n + 5] = d
  out[n + 6] = lease_until
  got = got + 1
end

for i = 7, #ARGV do
  if got >= max then break end
  local q = ARGV[i]
  if ensure_type(qkey(q), 'zset') and ensure_type(lkey(q), 'zset') then
    local leased = {}
    while got < max do
      local popped = redis.call('ZPOPMIN', qkey(q), max - got)
      if #popped == 0 then break end
      for j = 1, #popped, 2 do take(popped[j], q, popped[j + 1], leased) end
    end
    if #leased > 0 then
      zadd_all(lkey(q), leased)
      redis.call('ZADD', K_TIMERS, 'LT', lease_until, q)
    end
  end
end
-- Work left behind (the batch is full): make sure other waiting workers wake up for it. A
-- worker blocked on several queues may have taken the token of a queue it did not serve.
if got >= max then
  for i = 7, #ARGV do
    if redis.call('EXISTS', qkey(ARGV[i])) == 1 then wake(ARGV[i]) end
  end
end
return out
