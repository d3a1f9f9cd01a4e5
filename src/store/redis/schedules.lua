-- Periodic schedule state. ARGV: prefix, op, ...
--   'list'                 -> flat array: name, last_tick, paused, info per schedule
--   'info', name, info     -> creates the schedule if absent and sets its info; returns 1
--   'pause', name, 0|1     -> returns 1, or -1 when the schedule does not exist
local op = ARGV[2]
local K_NAMES = P .. 'schedules'
local function skey_of(name) return P .. 'schedule:' .. name end
if op == 'list' then
  local out = {}
  for _, name in ipairs(redis.call('SMEMBERS', K_NAMES)) do
    local t = redis.call('HMGET', skey_of(name), 'last', 'paused', 'info')
    for _, v in ipairs({name, t[1] or '0', t[2] or '0', t[3] or ''}) do out[#out + 1] = v end
  end
  return out
elseif op == 'info' then
  redis.call('HSET', skey_of(ARGV[3]), 'info', ARGV[4])
  redis.call('SADD', K_NAMES, ARGV[3])
  return 1
elseif op == 'pause' then
  if redis.call('SISMEMBER', K_NAMES, ARGV[3]) == 0 then return -1 end
  redis.call('HSET', skey_of(ARGV[3]), 'paused', ARGV[4])
  return 1
end
return redis.error_reply('unknown schedules op ' .. tostring(op))
