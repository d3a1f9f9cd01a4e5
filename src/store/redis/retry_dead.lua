-- retry_dead: puts dead tasks back in their queues, deliveries reset.
-- ARGV: prefix, now, id... (no ids = every dead task). Returns how many were requeued.
local ids = {}
for i = 3, #ARGV do ids[#ids + 1] = ARGV[i] end
if #ids == 0 then ids = redis.call('ZRANGE', K_DEAD, 0, -1) end
local batch = new_batch()
local writes = new_writes()
local count = 0
local records = hmget(K_TASKS, ids)
local cleared = {}
for n, id in ipairs(ids) do
  if redis.call('ZSCORE', K_DEAD, id) then
    redis.call('ZREM', K_DEAD, id)
    local t = parse(records[n])
    if t and t.s == 'dead' and t.q ~= '' then
      t.s, t.d, t.w, t.le, t.eta = 'pending', '0', '', '', ''
      writes:put(id, t)
      cleared[#cleared + 1] = id
      redis.call('HINCRBY', K_DEADN, t.q, -1)
      batch:add_ready(t.q, prio(t), id)
      count = count + 1
    end
  end
end
if #cleared > 0 then
  hash_call('HDEL', K_REASONS, cleared)
  hash_call('HDEL', K_RESULTS, cleared)
end
writes:flush()
batch:flush()
return count
