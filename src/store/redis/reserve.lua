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
local writes = new_writes()

local function promote(q)
  local ids = redis.call('ZRANGEBYSCORE', skey(q), '-inf', now, 'LIMIT', 0, budget)
  if #ids == 0 then return end
  budget = budget - #ids
  local batch = new_batch()
  local records = hmget(K_TASKS, ids)
  for i, id in ipairs(ids) do
    local t = parse(records[i])
    if t and (t.s == 'scheduled' or t.s == 'retry') then
      t.s = 'pending'
      writes:put(id, t)
      batch:add_ready(q, prio(t), id)
    end
  end
  redis.call('ZREM', skey(q), unpack(ids))
  batch:flush()
end

local lapsed, lapsed_gone = {}, {}  -- ids whose lease ended here: their slots free (flow_lib)
local function reclaim(q)
  local ids = redis.call('ZRANGEBYSCORE', lkey(q), '-inf', now, 'LIMIT', 0, budget)
  if #ids == 0 then return end
  budget = budget - #ids
  local back = false
  local records = hmget(K_TASKS, ids)
  local revoking = redis.call('EXISTS', K_REVOKES) == 1
  for i, id in ipairs(ids) do
    local t = parse(records[i])
    local revoke = t and t.s == 'reserved' and revoking and redis.call('HGET', K_REVOKES, id)
    if t and t.s == 'reserved' then lapsed[#lapsed + 1] = id end
    if revoke then
      -- revoked while its holder ran it, and the holder is gone: it ends revoked
      local _, ttl, result = parse_revoke(revoke)
      finish_now(writes, id, t, 'revoked', result, ttl, now)
      lapsed_gone[id] = true
    elseif t and t.s == 'reserved' then
      local d = tonumber(t.d) or 0
      if d >= (tonumber(t.md) or 1) then
        local w = t.w ~= '' and t.w or '?'
        dead_letter(writes, id, t, 'lease lapsed ' .. d .. ' times; last worker ' .. w ..
                    ' stopped heartbeating', now)
      else
        t.s, t.w, t.le = 'pending', '', ''
        writes:put(id, t)
        redis.call('LPUSH', qkey(q, prio(t)), id)  -- back at the front: it was first
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
    for _, key in ipairs(ready_keys(q)) do ensure_type(key, 'list') end
    promote(q)
    reclaim(q)
  end
  rearm_timer(q)
end
-- Housekeeping first: a task it made ready or dead is read again below.
writes:flush()
writes = new_writes()
limits_released(lapsed, lapsed_gone)
local limited = any_limits()  -- whether any task has limits (flow_lib.lua)
local fresh = {}
local moved_aside = 0

local out = {}
local got = 0
local token = nil  -- next fencing token; allocated on the first hand-out only (no idle writes)
local seen = {}    -- an id listed twice is handed out once

-- state, deliveries, (token, lease: rewritten), then the rest from priority on, whose
-- max_deliveries is checked.
local HEAD = '^([^\31]*)\31([^\31]*)\31[^\31]*\31[^\31]*\31' ..
             '(([^\31]*)\31([^\31]*)\31[^\31]*\31[^\31]*\31%d+\31.*)$'

-- Leases the popped ids of queue q. Stale index entries (no such task, or not pending) are
-- dropped; unreadable records are dead-lettered.
local function take(ids, q, leased)
  local records = hmget(K_TASKS, ids)
  local bodies = hmget(K_BODIES, ids)
  local limits = limited and hmget(tlimits_key(), ids)
  for i, id in ipairs(ids) do
    local record, body = records[i], bodies[i]
    local s, d, rest, p, md
    if record then s, d, rest, p, md = string.match(record, HEAD) end
    local l = limits and s == 'pending' and not seen[id] and parse_limits(limits[i])
    if l and not limits_admit(writes, id, parse(record), q, l, now, fresh) then
      s = 'aside'  -- moved aside by its rate limit or concurrency key
      moved_aside = moved_aside + 1
    end
    if s == 'pending' and body and tonumber(d) and tonumber(md) and not seen[id] then
      if not token then token = redis.call('INCRBY', K_TOKEN, max - got) - (max - got) end
      token = token + 1
      d = tonumber(d) + 1
      -- a pending task has no worker: the worker goes at the very end
      writes:set('tasks', id, 'reserved' .. SEP .. d .. SEP .. token .. SEP .. lease_until_text
                 .. SEP .. rest .. worker)
      leased[#leased + 1] = lease_until_text
      leased[#leased + 1] = id
      local n = #out
      out[n + 1] = id
      out[n + 2] = q
      out[n + 3] = body
      out[n + 4] = token
      out[n + 5] = d
      out[n + 6] = lease_until
      got = got + 1
    else
      local t = parse(record)
      if s == 'aside' or seen[id] or (not record and not body) or
         (t and t.s ~= 'pending' and STATES[t.s]) then
        -- the index entry is stale: the task moved on, or never existed
      elseif not t then
        quarantine(writes, id, q, record, now)
      else
        dead_letter(writes, id, t,
                    'corrupt task record: state, body or delivery counters unreadable', now)
      end
    end
    seen[id] = true
  end
end

-- Pops up to n ids from the highest-priority non-empty ready list of q (LMPOP: one call).
local function pop(q, keys, n)
  local args = {#keys}
  for i, key in ipairs(keys) do args[i + 1] = key end
  args[#args + 1] = 'LEFT'
  args[#args + 1] = 'COUNT'
  args[#args + 1] = n
  local r = redis.pcall('LMPOP', unpack(args))
  if type(r) == 'table' and r.err then
    for _, key in ipairs(keys) do ensure_type(key, 'list') end  -- garbage: moved aside
    r = redis.call('LMPOP', unpack(args))
  end
  return r and r[2] or {}
end

for i = 7, #ARGV do
  if got >= max then break end
  local q = ARGV[i]
  if ensure_type(lkey(q), 'zset') and not queue_paused(q) then
    local keys = ready_keys(q)
    local leased = {}
    while got < max and moved_aside < 1000 do
      local ids = pop(q, keys, max - got)
      if #ids == 0 then break end
      take(ids, q, leased)
    end
    if #leased > 0 then
      zadd_all(lkey(q), leased)
      redis.call('ZADD', K_TIMERS, 'LT', lease_until, q)
    end
  end
end
writes:flush()
wf_after(wf_ended, now)
-- Work left behind (the batch is full): make sure other waiting workers wake up for it. A
-- worker blocked on several queues may have taken the token of a queue it did not serve.
if got >= max then
  for i = 7, #ARGV do
    if has_ready(ARGV[i]) then wake(ARGV[i]) end
  end
end
unique_started(out, 6)  -- unique_until start: handing out releases the key (flow_lib.lua)
return out
