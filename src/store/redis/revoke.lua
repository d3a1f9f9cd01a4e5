-- revoke: revokes one task (Store::revoke). A queued, scheduled or retrying task leaves its
-- queue and ends revoked; a reserved one gets a revoke request in P revokes for its holder.
-- ARGV: prefix, now, id, terminate ('1' or '0'), result ttl ms, result record
-- Returns the state after the call: 'revoked', 'reserved', the final state the task was
-- already in, or '' when the id is unknown (or its record expired).
local now = tonumber(ARGV[2])
local id, terminate, ttl, result = ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
local record = hmget(K_TASKS, {id})[1]
if not record then
  local fin = hmget(K_FINISHED, {id})[1]
  if fin then
    local at = finished_expiry(fin)
    if at and at > now then return string.match(fin, '^([^\31]*)') end
  end
  return ''
end
local t = parse(record)
if not t then return '' end
if t.s == 'dead' then return 'dead' end
if t.s == 'reserved' then
  local old = redis.call('HGET', K_REVOKES, id)
  if old and string.sub(old, 1, 1) == '1' then terminate = '1' end
  redis.call('HSET', K_REVOKES, id, terminate .. SEP .. ARGV[5] .. SEP .. result)
  return 'reserved'
end
if t.s == 'pending' then
  redis.call('LREM', qkey(t.q, prio(t)), 1, id)
elseif t.s ~= 'waiting' then
  redis.call('ZREM', skey(t.q), id)
end
local writes = new_writes()
if t.s == 'waiting' then redis.call('HDEL', P .. 'wf:wait', id) end
finish_now(writes, id, t, 'revoked', result, ttl, now)
writes:flush()
limits_released({id}, {[id] = true})  -- forgets its limits (flow_lib.lua)
wf_after(wf_ended, now)
return 'revoked'
