-- Flow-control helpers of the function library (unique keys, rate limits, per-key concurrency,
-- fairness, pause and queue limits): loaded right after common.lua and workflow_lib.lua.
--
-- Keys: P paused  SET  names of the paused queues (reserve and wait_peek skip them)
--       P limits  HASH queue -> max_length of a bounded queue (enqueue checks it)
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
