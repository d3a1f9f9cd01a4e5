-- claim_tick: fires a periodic schedule's tick at most once.
-- ARGV: prefix, now, schedule, tick, then the task: id, queue, priority, eta, max_deliveries,
-- body, task name[, limits]. Returns 1 when claimed (and the task enqueued unless its id exists), else 0.
local now, name, tick = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local k = P .. 'schedule:' .. name
local t = redis.call('HMGET', k, 'last', 'paused')
if not t[1] then  -- first use: the schedule exists from now on, claimed or not
  redis.call('HSET', k, 'last', 0, 'paused', t[2] or '0')
  redis.call('SADD', P .. 'schedules', name)
end
if t[2] == '1' or (tonumber(t[1]) or 0) >= tick then return 0 end
local refused = check_room({[ARGV[6]] = 1})  -- a bounded queue without room (flow_lib.lua)
if refused then return refused end
redis.call('HSET', k, 'last', tick)
local batch = new_batch()
local writes = new_writes()
if add_task(batch, writes, ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10], now) == 1 then
  list_add({ARGV[5]}, {ARGV[6] .. SEP .. ARGV[11]}, now)
  -- ARGV[12], when given: the task's limits (flow_lib.lua, P tlimits)
  if ARGV[12] then redis.call('HSET', tlimits_key(), ARGV[5], ARGV[12]) end
end
writes:flush()
batch:flush()
return 1
