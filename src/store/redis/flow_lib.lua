-- Flow-control helpers of the function library (unique keys, rate limits, per-key concurrency,
-- fairness, pause and queue limits): loaded right after common.lua and workflow_lib.lua.
--
-- Keys: P paused  SET  names of the paused queues (reserve and wait_peek skip them)
--       P limits  HASH queue -> max_length of a bounded queue (enqueue checks it)
--       P uniq    HASH unique key -> holder id \31 expiry (ms; 0 = none) (unique jobs)
--       P uniqof  HASH holder id -> until_start flag ('0'/'1') followed by its key
--       P refuse  STRING, only inside one MULTI/EXEC: a chunked enqueue whose whole batch
--                 did not fit (queue_control 'room'); every chunk then adds nothing
local function paused_key() return P .. 'paused' end
local function limits_key() return P .. 'limits' end
local function refuse_key() return P .. 'refuse' end

local function queue_paused(q) return redis.call('SISMEMBER', paused_key(), q) == 1 end

-- Tasks waiting in q: ready (stale list entries included) and scheduled.
local function queued_length(q)
  local n = 0
  if redis.call('TYPE', skey(q))['ok'] == 'zset' then n = redis.call('ZCARD', skey(q)) end
  for _, key in ipairs(ready_keys(q)) do
    if redis.call('TYPE', key)['ok'] == 'list' then n = n + redis.call('LLEN', key) end
  end
  return n
end

local function queue_full_reply(q, max)
  return redis.error_reply('QUEUE_FULL enqueueing tasks: queue \'' .. q .. '\' is full (' ..
                           max .. ' tasks)')
end

-- adding: queue -> tasks about to be added. Returns an error reply when a bounded queue has
-- no room for them, else nil.
local function check_room(adding)
  if redis.call('EXISTS', limits_key()) == 0 then return nil end
  for q, n in pairs(adding) do
    local max = tonumber(redis.call('HGET', limits_key(), q))
    if max and max > 0 and queued_length(q) + n > max then return queue_full_reply(q, max) end
  end
  return nil
end

-- For enqueue.lua: the groups of its ARGV from index g to `last` (see there), and the linked
-- tasks of its workflow section [wf_at, wf_end] (nil: none; workflow_lib.lua), give the tasks
-- per queue. Returns an error reply when the batch (or the chunked batch it is part of) is
-- refused, else nil.
local function enqueue_room(argv, g, last, wf_at, wf_end)
  local refused = redis.call('GET', refuse_key())
  if refused then return redis.error_reply(refused) end
  if redis.call('EXISTS', limits_key()) == 0 then return nil end
  local adding = {}
  while g <= last do
    local kind, q, m = argv[g], argv[g + 1], tonumber(argv[g + 3])
    adding[q] = (adding[q] or 0) + m
    g = g + 4 + (kind == 'r' and m or 2 * m)
  end
  if wf_at then
    for a = wf_at, wf_end, WF_FIELDS do adding[argv[a + 1]] = (adding[argv[a + 1]] or 0) + 1 end
  end
  return check_room(adding)
end

-- Rate limits and per-key concurrency (NewTask::limits, docs/flow-control.md).
-- Keys: P tlimits    HASH id -> limits of a task that has any:
--                    rate_key \31 count \31 period_ms \31 concurrency_key \31 max
--       P rates      SET  rate keys in use (status)
--       P rate:<k>   HASH one GCRA bucket: tat, park (microseconds, server clock), c, per,
--                    ws, wn, pn (counting windows, server ms)
--       P held:<k>   SET  ids RESERVED under concurrency key k
--       P parked:<k> ZSET ids waiting for a slot of k, in order of parking; such a task is
--                    SCHEDULED, in its queue's scheduled set at PARKED_ETA (never due), so
--                    stats, purge_queue and queue bounds count it like any waiting task
--       P parkseq    STRING the parking order counter
-- Rate limits run on the server's clock (TIME): workers' clocks may disagree. A task moved
-- aside is scheduled at the caller's now + the wait the server computed.
-- Tasks without limits cost one EXISTS of P tlimits per reserve and settle call.
local RATE_BURST_US = 25000
local PARKED_ETA = 4000000000000000000
local function tlimits_key() return P .. 'tlimits' end
local function rates_key() return P .. 'rates' end
local function rate_key(k) return P .. 'rate:' .. k end
local function held_key(k) return P .. 'held:' .. k end
local function parked_key(k) return P .. 'parked:' .. k end

local function any_limits() return redis.call('EXISTS', tlimits_key()) == 1 end

-- A task's limits as a table, or nil.
local function parse_limits(value)
  if type(value) ~= 'string' then return nil end
  local rk, c, per, ck, m = string.match(value,
                                         '^([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)\31(.*)$')
  if not rk then return nil end
  return {rk = rk, c = tonumber(c) or 0, per = tonumber(per) or 0, ck = ck, m = tonumber(m) or 0}
end

local function server_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

local function rate_interval(c, per) return math.max(1, math.floor(per * 1000 / math.max(1, c))) end
local function rate_burst(c, per)
  return math.min(math.max(per * 1000 - rate_interval(c, per), 0), RATE_BURST_US)
end

-- Takes one task from bucket l.rk. Returns 0 when allowed, else the wait in ms (>= 1) until
-- the task's slot in the line of tasks moved aside.
local function rate_take(l)
  local key = rate_key(l.rk)
  local b = redis.call('HMGET', key, 'tat', 'park', 'ws', 'wn', 'pn')
  local now_us = server_us()
  local interval, burst = rate_interval(l.c, l.per), rate_burst(l.c, l.per)
  local tat = math.max(tonumber(b[1]) or 0, now_us)
  if tat - now_us > burst then
    local slot = math.max(tonumber(b[2]) or 0, tat - burst)
    redis.call('HSET', key, 'park', string.format('%d', slot + interval))
    return math.max(1, math.ceil((slot - now_us) / 1000))
  end
  local now_ms = math.floor(now_us / 1000)
  local ws, wn, pn = tonumber(b[3]) or 0, tonumber(b[4]) or 0, tonumber(b[5]) or 0
  if now_ms >= ws + l.per then
    pn = (now_ms < ws + 2 * l.per) and wn or 0
    ws, wn = now_ms, 0
  end
  redis.call('HSET', key, 'tat', string.format('%d', tat + interval), 'c', l.c, 'per', l.per,
             'ws', string.format('%d', ws), 'wn', wn + 1, 'pn', pn)
  redis.call('SADD', rates_key(), l.rk)
  return 0
end

-- Members of held:<k> whose task is no longer RESERVED are dropped (a path that missed its
-- release cannot leak a slot). `fresh`: ids handed out by the running reserve, whose
-- records are written at its end. Returns the slots held.
local function held_count(k, fresh)
  local key = held_key(k)
  local ids = redis.call('SMEMBERS', key)
  if #ids == 0 then return 0 end
  local records = hmget(K_TASKS, ids)
  local n = 0
  for i, id in ipairs(ids) do
    if (fresh and fresh[id]) or
       (type(records[i]) == 'string' and string.sub(records[i], 1, 9) == 'reserved' .. SEP) then
      n = n + 1
    else
      redis.call('SREM', key, id)
    end
  end
  return n
end

-- Whether pending task id (record t, in queue q) may be handed out now. If not, it is moved
-- aside (written with `writes`): SCHEDULED until its rate slot, or parked for a slot.
-- `fresh`: the ids this reserve handed out so far (see held_count); id joins it if admitted.
local function limits_admit(writes, id, t, q, l, now, fresh)
  if not t then return true end  -- unreadable: reserve dead-letters it as corrupt
  if l.ck ~= '' and redis.call('SCARD', held_key(l.ck)) >= l.m and
     held_count(l.ck, fresh) >= l.m then
    t.s, t.eta = 'scheduled', ''
    writes:put(id, t)
    redis.call('ZADD', parked_key(l.ck), redis.call('INCR', P .. 'parkseq'), id)
    ensure_type(skey(q), 'zset')
    redis.call('ZADD', skey(q), PARKED_ETA, id)
    return false
  end
  if l.rk ~= '' then
    local wait = rate_take(l)
    if wait > 0 then
      local eta = now + wait
      t.s, t.eta = 'scheduled', tostring(eta)
      writes:put(id, t)
      ensure_type(skey(q), 'zset')
      redis.call('ZADD', skey(q), eta, id)
      redis.call('ZADD', K_TIMERS, 'LT', eta, q)
      return false
    end
  end
  if l.ck ~= '' then
    redis.call('SADD', held_key(l.ck), id)
    fresh[id] = true
  end
  return true
end

-- A slot of key k is free: the longest-parked task of k goes back to the front of its queue.
local function limits_unpark(k, max)
  for _ = 1, 8 do  -- a few stale entries (revoked, purged) are skipped
    if held_count(k) >= max then return end
    local top = redis.call('ZPOPMIN', parked_key(k))
    if not top[1] then return end
    local id = top[1]
    local t = parse(redis.call('HGET', K_TASKS, id))
    if t and t.s == 'scheduled' and
       (tonumber(redis.call('ZSCORE', skey(t.q), id)) or 0) >= PARKED_ETA then
      redis.call('ZREM', skey(t.q), id)
      t.s, t.eta = 'pending', ''
      redis.call('HSET', K_TASKS, id, pack(t))
      local key = qkey(t.q, prio(t))
      ensure_type(key, 'list')
      redis.call('LPUSH', key, id)
      wake(t.q)
      return
    end
  end
end

-- The tasks `ids` left RESERVED (settled, lapsed, revoked): their slots free. `gone`: the
-- ids that leave the store too, whose limits are forgotten (and their places in the line
-- for a slot, see limits_forget).
local function limits_released(ids, gone)
  if #ids == 0 or not any_limits() then return end
  local values = hmget(tlimits_key(), ids)
  local drop = {}
  for i, id in ipairs(ids) do
    local l = parse_limits(values[i])
    if l then
      if l.ck ~= '' then
        if gone and gone[id] then redis.call('ZREM', parked_key(l.ck), id) end
        redis.call('SREM', held_key(l.ck), id)
        limits_unpark(l.ck, l.m)
      end
      if gone and gone[id] then drop[#drop + 1] = id end
    end
  end
  if #drop > 0 then hash_call('HDEL', tlimits_key(), drop) end
end

-- The tasks `ids` leave the store without being RESERVED (purged, dead letters removed):
-- their limits are forgotten, and a parked one leaves the line for its slot at once, so
-- that limits_unpark never has to skip more than a few stale entries (a purge of many
-- parked tasks would otherwise leave a later one parked with its slot free).
local function limits_forget(ids)
  if #ids == 0 or not any_limits() then return end
  local values = hmget(tlimits_key(), ids)
  local drop = {}
  for i, id in ipairs(ids) do
    local l = parse_limits(values[i])
    if l then
      if l.ck ~= '' then redis.call('ZREM', parked_key(l.ck), id) end
      drop[#drop + 1] = id
    end
  end
  if #drop > 0 then hash_call('HDEL', tlimits_key(), drop) end
end

-- ---- unique jobs ---------------------------------------------------------------------------
-- A task with a unique key holds it from its enqueue until it ends (dead_letter, finish_now,
-- settle's ack, purge_queue) or, with until_start, until reserve hands it out; or until its
-- expiry passes, when a new enqueue simply takes the key over.
local function uniq_key() return P .. 'uniq' end
local function uniqof_key() return P .. 'uniqof' end

-- The id holding `key` for another task than `id` at `now`, or nil.
local function unique_holder(key, id, now)
  local v = redis.call('HGET', uniq_key(), key)
  if not v then return nil end
  local holder, expires = string.match(v, '^(.*)\31(%d+)$')
  if not holder or holder == id then return nil end
  expires = tonumber(expires)
  if expires ~= 0 and expires <= now then return nil end
  return holder
end

-- for_ms: number (0 = no expiry); until_start: '0' or '1'.
local function unique_take(key, id, now, for_ms, until_start)
  local expires = for_ms > 0 and string.format('%d', now + for_ms) or '0'
  redis.call('HSET', uniq_key(), key, id .. SEP .. expires)
  redis.call('HSET', uniqof_key(), id, until_start .. key)
end

-- Gives up the keys the tasks `ids` hold (only those taken until start, when `started`). A
-- key that lapsed and went to another task stays with it. Costs one EXISTS when no task
-- holds a key.
unique_release = function(ids, started)
  if #ids == 0 or redis.call('EXISTS', uniqof_key()) == 0 then return end
  local held = hmget(uniqof_key(), ids)
  for n, id in ipairs(ids) do
    local v = held[n]
    if v and (not started or string.sub(v, 1, 1) == '1') then
      redis.call('HDEL', uniqof_key(), id)
      local key = string.sub(v, 2)
      local h = redis.call('HGET', uniq_key(), key)
      if h and string.sub(h, 1, #id + 1) == id .. SEP then redis.call('HDEL', uniq_key(), key) end
    end
  end
end

-- For reserve.lua: out holds the deliveries, `stride` items each, the id first.
local function unique_started(out, stride)
  if #out == 0 then return end
  local ids = {}
  for i = 1, #out, stride do ids[#ids + 1] = out[i] end
  unique_release(ids, true)
end
