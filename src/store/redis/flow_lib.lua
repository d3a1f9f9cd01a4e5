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
