-- retry_dead: puts dead tasks back in their queues, deliveries reset.
-- ARGV: prefix, now, id... (no ids = every dead task). Returns how many were requeued.
local ids = {}
for i = 3, #ARGV do ids[#ids + 1] = ARGV[i] end
if #ids == 0 then ids = redis.call('ZRANGE', K_DEAD, 0, -1) end
local batch = new_batch()
local count = 0
for _, id in ipairs(ids) do
  if redis.call('ZSCORE', K_DEAD, id) then
    redis.call('ZREM', K_DEAD, id)
    local t = read_task(id, 's', 'q', 'p')
    if t and t[1] == 'dead' and t[2] then
      redis.call('HSET', tkey(id), 's', 'pending', 'd', 0)
      redis.call('HDEL', tkey(id), 'why', 'died', 'r', 'w', 'le', 'eta')
      redis.call('HINCRBY', K_DEADN, t[2], -1)
      batch:add_ready(t[2], t[3] or '0', id)
      count = count + 1
    end
  end
end
batch:flush()
return count
