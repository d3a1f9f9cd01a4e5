-- Queue flow controls (pause, length limits). ARGV: prefix, op, ...
--   'pause', queue, 0|1     -> pauses (1) or resumes (0) the queue; returns 1
--   'limit', queue, n       -> sets the queue's max_length (0 removes it); returns 1
--   'list'                  -> flat array: queue, paused 0|1, max_length per controlled queue
--   'room', q1, n1, q2, n2  -> first command of a chunked enqueue's MULTI: when the whole
--                              batch does not fit, P refuse holds the error for its chunks
--   'unroom'                -> last command of that MULTI: deletes P refuse; returns 1
--   'task_limits', id, limits, ...  -> after the enqueue of tasks with limits, in its MULTI:
--                              records each (id, limits) of a task that exists and has none
--   'rate_limits'           -> flat array: key, count, period_ms, started in the latest
--                              full period, ms until the next task is allowed; per bucket
local op = ARGV[2]
if op == 'pause' then
  if ARGV[4] == '1' then
    redis.call('SADD', paused_key(), ARGV[3])
  elseif redis.call('SREM', paused_key(), ARGV[3]) == 1 and has_ready(ARGV[3]) then
    wake(ARGV[3])
  end
  return 1
elseif op == 'limit' then
  if tonumber(ARGV[4]) > 0 then
    redis.call('HSET', limits_key(), ARGV[3], ARGV[4])
  else
    redis.call('HDEL', limits_key(), ARGV[3])
  end
  return 1
elseif op == 'list' then
  local by_queue = {}
  for _, q in ipairs(redis.call('SMEMBERS', paused_key())) do by_queue[q] = {1, 0} end
  local limits = redis.call('HGETALL', limits_key())
  for i = 1, #limits, 2 do
    local c = by_queue[limits[i]] or {0, 0}
    c[2] = tonumber(limits[i + 1])
    by_queue[limits[i]] = c
  end
  local out = {}
  for q, c in pairs(by_queue) do
    out[#out + 1] = q
    out[#out + 1] = c[1]
    out[#out + 1] = c[2]
  end
  return out
elseif op == 'room' then
  local adding = {}
  for i = 3, #ARGV, 2 do adding[ARGV[i]] = (adding[ARGV[i]] or 0) + tonumber(ARGV[i + 1]) end
  local err = check_room(adding)
  if err then
    redis.call('SET', refuse_key(), err['err'])
    return err
  end
  return 1
elseif op == 'unroom' then
  redis.call('DEL', refuse_key())
  return 1
elseif op == 'task_limits' then
  for i = 3, #ARGV, 2 do
    if redis.call('HEXISTS', K_TASKS, ARGV[i]) == 1 then
      redis.call('HSETNX', tlimits_key(), ARGV[i], ARGV[i + 1])
    end
  end
  return 1
elseif op == 'rate_limits' then
  local now_us = server_us()
  local now_ms = math.floor(now_us / 1000)
  local out = {}
  for _, k in ipairs(redis.call('SMEMBERS', rates_key())) do
    local b = redis.call('HMGET', rate_key(k), 'tat', 'c', 'per', 'ws', 'wn', 'pn')
    local c, per = tonumber(b[2]) or 0, tonumber(b[3]) or 0
    local ws, wn, pn = tonumber(b[4]) or 0, tonumber(b[5]) or 0, tonumber(b[6]) or 0
    local started = 0
    if now_ms < ws + per then started = pn elseif now_ms < ws + 2 * per then started = wn end
    local wait = (tonumber(b[1]) or 0) - rate_burst(c, per) - now_us
    out[#out + 1] = k
    out[#out + 1] = c
    out[#out + 1] = per
    out[#out + 1] = started
    out[#out + 1] = wait > 0 and math.ceil(wait / 1000) or 0
  end
  return out
end
return redis.error_reply('unknown queue_control op ' .. tostring(op))
